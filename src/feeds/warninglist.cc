#include "feeds/warninglist.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "normalize/normalize.h"
#include "simdjson.h"

namespace cordon::feeds {
namespace {

namespace fs = std::filesystem;
using normalize::IpAddress;
using normalize::IpPrefix;

uint32_t Bit(ValueKind k) { return 1u << static_cast<int>(k); }
constexpr uint32_t kAllKinds = (1u << kValueKindCount) - 1;

Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Lowercase, without one trailing dot: the form string entries are compared in.
std::string StringKey(std::string_view entry) {
  std::string key = ToLower(Trim(entry));
  if (key.size() > 1 && key.back() == '.') key.pop_back();
  return key;
}

// A hostname entry as a normalised domain (IDN to punycode); entries that are
// no valid domain are kept lowercased (they can only match nothing).
std::string HostnameKey(std::string_view entry) {
  std::string_view e = Trim(entry);
  while (!e.empty() && e.front() == '.') e.remove_prefix(1);
  while (e.size() > 1 && e.back() == '.') e.remove_suffix(1);
  if (e.starts_with("*.")) e.remove_prefix(2);
  auto d = normalize::Domain(e);
  return d.ok() ? *d : ToLower(e);
}

// kPrefixMasks[n]: the first n bits set.
const std::array<IpAddress, 129>& PrefixMasks() {
  static const std::array<IpAddress, 129> masks = [] {
    std::array<IpAddress, 129> m{};
    for (int n = 0; n <= 128; ++n) {
      for (int bit = 0; bit < n; ++bit) m[n].bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    return m;
  }();
  return masks;
}

IpAddress Mask(IpAddress a, int length) {
  const IpAddress& m = PrefixMasks()[length];
  for (int i = 0; i < 16; ++i) a.bytes[i] &= m.bytes[i];
  return a;
}

IpAddress LastAddress(const IpPrefix& p) {
  IpAddress a = p.addr;
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(p.length - i * 8, 0, 8);
    a.bytes[i] |= static_cast<uint8_t>(bits == 8 ? 0 : 0xff >> bits);
  }
  return a;
}

// A CIDR entry: "addr", "addr/len"; host bits beyond len are masked (lists
// in the wild carry such entries; the intent is the enclosing block).
Result<IpPrefix> ParseCidrEntry(std::string_view text) {
  text = Trim(text);
  size_t slash = text.find('/');
  CORDON_ASSIGN_OR_RETURN(IpAddress addr, normalize::Ip(text.substr(0, slash)));
  IpPrefix p{addr, 128};
  if (slash != std::string_view::npos) {
    std::string_view len_text = text.substr(slash + 1);
    const bool v4_text = text.substr(0, slash).find(':') == std::string_view::npos;
    int max = v4_text ? 32 : 128;
    int len = 0;
    if (len_text.empty() || len_text.size() > 3) return Invalid("bad prefix length '" + std::string(len_text) + "'");
    for (char ch : len_text) {
      if (ch < '0' || ch > '9') return Invalid("bad prefix length '" + std::string(len_text) + "'");
      len = len * 10 + (ch - '0');
    }
    if (len > max) return Invalid("prefix length " + std::to_string(len) + " exceeds " + std::to_string(max));
    p.length = v4_text ? len + 96 : len;
  }
  p.addr = Mask(p.addr, p.length);
  return p;
}

// "/pattern/flags" (PHP preg style, as MISP stores regex entries) or a bare pattern.
Result<std::regex> CompileRegex(std::string_view entry) {
  std::string pattern(entry);
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (entry.size() >= 2 && entry.front() == '/') {
    size_t end = entry.rfind('/');
    if (end > 0) {
      pattern = std::string(entry.substr(1, end - 1));
      if (entry.substr(end + 1).find('i') != std::string_view::npos) flags |= std::regex::icase;
    }
  }
  try {
    return std::regex(pattern, flags);
  } catch (const std::regex_error& e) {
    return Invalid(std::string("regex does not compile: ") + e.what());
  }
}

// The host of a normalised URL ("scheme://[user@]host[:port]/..."), or of an e-mail address.
std::string_view HostOf(ValueKind kind, std::string_view value) {
  if (kind == ValueKind::kEmail) {
    size_t at = value.rfind('@');
    return at == std::string_view::npos ? std::string_view() : value.substr(at + 1);
  }
  size_t start = value.find("://");
  if (start == std::string_view::npos) return {};
  std::string_view rest = value.substr(start + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return {};  // IPv6 literal: no host name
  return rest.substr(0, rest.find(':'));
}

std::string ReadFileText(const fs::path& p, Status* st) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    *st = absl::NotFoundError("cannot read '" + p.string() + "'");
    return {};
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path ListDir(const std::string& data_dir) { return fs::path(data_dir) / "warninglists"; }

Status WriteFileAtomically(const fs::path& path, std::string_view bytes) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError("cannot create '" + tmp.string() + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return absl::UnavailableError("cannot write '" + tmp.string() + "': " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::UnavailableError("cannot sync '" + tmp.string() + "': " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError("cannot rename to '" + path.string() + "': " + std::strerror(errno));
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ValueKindName(ValueKind k) {
  switch (k) {
    case ValueKind::kDomain: return "domain";
    case ValueKind::kIp: return "ip";
    case ValueKind::kCidr: return "cidr";
    case ValueKind::kUrl: return "url";
    case ValueKind::kEmail: return "email";
    case ValueKind::kHash: return "hash";
  }
  return "?";
}

std::string_view ListTypeName(ListType t) {
  switch (t) {
    case ListType::kString: return "string";
    case ListType::kSubstring: return "substring";
    case ListType::kHostname: return "hostname";
    case ListType::kCidr: return "cidr";
    case ListType::kRegex: return "regex";
  }
  return "?";
}

uint32_t KindsForMispType(std::string_view t) {
  const uint32_t ip = Bit(ValueKind::kIp) | Bit(ValueKind::kCidr);
  if (t == "ip-src" || t == "ip-dst" || t == "ip-src|port" || t == "ip-dst|port") return ip;
  if (t == "domain|ip") return ip | Bit(ValueKind::kDomain);
  if (t == "domain" || t == "hostname" || t == "hostname|port") return Bit(ValueKind::kDomain);
  if (t == "url" || t == "uri" || t == "link") return Bit(ValueKind::kUrl);
  if (t == "email" || t == "email-src" || t == "email-dst" || t == "target-email" || t == "whois-registrant-email")
    return Bit(ValueKind::kEmail);
  if (t == "md5" || t == "sha1" || t == "sha256" || t == "sha512" || t.starts_with("filename|"))
    return Bit(ValueKind::kHash);
  return 0;
}

Result<WarningList> ParseWarningList(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err) {
    return Invalid(std::string("not a JSON document: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return Invalid("a warning list must be a JSON object");
  WarningList wl;
  std::string_view s;
  if (obj["name"].get_string().get(s) || Trim(s).empty()) return Invalid("\"name\": missing or not a non-empty string");
  wl.name = std::string(Trim(s));
  if (!obj["description"].get_string().get(s)) wl.description = std::string(s);
  int64_t version = 0;
  if (!obj["version"].get_int64().get(version)) wl.version = version;
  if (obj["type"].get_string().get(s)) return Invalid("\"type\": missing or not a string");
  if (s == "string") wl.type = ListType::kString;
  else if (s == "substring") wl.type = ListType::kSubstring;
  else if (s == "hostname") wl.type = ListType::kHostname;
  else if (s == "cidr") wl.type = ListType::kCidr;
  else if (s == "regex") wl.type = ListType::kRegex;
  else return Invalid("\"type\": unknown list type '" + std::string(s) + "' (string, substring, hostname, cidr, regex)");
  simdjson::dom::element attrs;
  if (!obj["matching_attributes"].get(attrs)) {
    simdjson::dom::array arr;
    if (attrs.get_array().get(arr)) return Invalid("\"matching_attributes\": not an array");
    size_t i = 0;
    for (auto a : arr) {
      if (a.get_string().get(s)) return Invalid("\"matching_attributes\"[" + std::to_string(i) + "]: not a string");
      wl.matching_attributes.emplace_back(s);
      wl.kinds |= KindsForMispType(s);
      ++i;
    }
  }
  if (wl.matching_attributes.empty()) wl.kinds = kAllKinds;
  simdjson::dom::array list;
  if (obj["list"].get_array().get(list)) return Invalid("\"list\": missing or not an array");
  wl.entries.reserve(list.size());
  size_t i = 0;
  for (auto e : list) {
    auto where = [&] { return "\"list\"[" + std::to_string(i) + "]"; };
    if (e.get_string().get(s)) return Invalid(where() + ": not a string");
    if (Trim(s).empty()) return Invalid(where() + ": empty entry");
    if (wl.type == ListType::kCidr) {
      if (auto p = ParseCidrEntry(s); !p.ok()) {
        return Invalid(where() + " '" + std::string(s) + "': not an address or CIDR block: " +
                       std::string(p.status().message()));
      }
    } else if (wl.type == ListType::kRegex) {
      if (auto r = CompileRegex(s); !r.ok()) return Invalid(where() + " '" + std::string(s) + "': " + std::string(r.status().message()));
    }
    wl.entries.emplace_back(s);
    ++i;
  }
  return wl;
}

// ---------------------------------------------------------------- the index

struct WarningLists::Index {
  struct Ref {
    uint32_t list, entry;
  };
  struct PerKind {
    absl::flat_hash_map<std::string, Ref> exact;   // string lists
    absl::flat_hash_map<std::string, Ref> suffix;  // hostname lists
    std::vector<std::pair<std::string, Ref>> substrings;
    std::vector<std::pair<std::regex, Ref>> regexes;
    // CIDR lists: one table per prefix length present, and every block sorted
    // by address (to find blocks inside a CIDR value).
    std::array<absl::flat_hash_map<IpAddress, Ref>, 129> by_length;
    std::vector<int> lengths;  // non-empty by_length, ascending
    // Whether a block shorter than /96 covers IPv4-mapped space (::ffff:0:0/96);
    // if not, IPv4 values skip those lengths.
    bool v6_blocks_cover_v4 = false;
    std::vector<std::pair<IpPrefix, Ref>> sorted;
  };
  std::vector<WarningList> lists;
  std::array<PerKind, kValueKindCount> kinds;

  std::optional<WarningHit> Hit(Ref r) const {
    return WarningHit{lists[r.list].name, lists[r.list].entries[r.entry]};
  }

  std::optional<WarningHit> CheckCidr(const PerKind& k, const IpPrefix& p) const {
    const bool v4 = p.IsV4();
    for (int len : k.lengths) {
      if (len > p.length) break;
      if (v4 && len < 96 && !k.v6_blocks_cover_v4) continue;
      auto it = k.by_length[len].find(Mask(p.addr, len));
      if (it != k.by_length[len].end()) return Hit(it->second);
    }
    if (p.length < 128 && !k.sorted.empty()) {
      auto it = std::lower_bound(k.sorted.begin(), k.sorted.end(), p.addr,
                                 [](const auto& e, const IpAddress& a) { return e.first.addr.bytes < a.bytes; });
      if (it != k.sorted.end() && it->first.addr.bytes <= LastAddress(p).bytes) return Hit(it->second);
    }
    return std::nullopt;
  }

  std::optional<WarningHit> CheckName(const PerKind& k, std::string_view name) const {
    if (name.empty()) return std::nullopt;
    if (auto it = k.exact.find(AbslView(name)); it != k.exact.end()) return Hit(it->second);
    if (!k.suffix.empty()) {
      std::string_view rest = name;
      while (true) {
        if (auto it = k.suffix.find(AbslView(rest)); it != k.suffix.end()) return Hit(it->second);
        size_t dot = rest.find('.');
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
      }
    }
    return std::nullopt;
  }
};

WarningLists::WarningLists() : index_(std::make_unique<Index>()) {}
WarningLists::~WarningLists() = default;
WarningLists::WarningLists(WarningLists&&) noexcept = default;
WarningLists& WarningLists::operator=(WarningLists&&) noexcept = default;

size_t WarningLists::list_count() const { return index_->lists.size(); }

WarningLists WarningLists::Build(std::vector<WarningList> lists) {
  WarningLists out;
  Index& ix = *out.index_;
  std::sort(lists.begin(), lists.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  ix.lists = std::move(lists);
  for (uint32_t li = 0; li < ix.lists.size(); ++li) {
    const WarningList& wl = ix.lists[li];
    for (int k = 0; k < kValueKindCount; ++k) {
      if (!(wl.kinds & (1u << k))) continue;
      Index::PerKind& pk = ix.kinds[k];
      for (uint32_t ei = 0; ei < wl.entries.size(); ++ei) {
        Index::Ref ref{li, ei};
        const std::string& e = wl.entries[ei];
        switch (wl.type) {
          case ListType::kString: pk.exact.try_emplace(StringKey(e), ref); break;
          case ListType::kSubstring: pk.substrings.emplace_back(ToLower(Trim(e)), ref); break;
          case ListType::kHostname: pk.suffix.try_emplace(HostnameKey(e), ref); break;
          case ListType::kRegex: pk.regexes.emplace_back(*CompileRegex(e), ref); break;
          case ListType::kCidr: {
            auto p = ParseCidrEntry(e);  // validated by ParseWarningList
            if (!p.ok()) break;
            pk.by_length[p->length].try_emplace(p->addr, ref);
            pk.sorted.emplace_back(*p, ref);
            break;
          }
        }
      }
    }
  }
  IpAddress v4_space{};
  v4_space.bytes[10] = v4_space.bytes[11] = 0xff;
  for (auto& pk : ix.kinds) {
    for (int len = 0; len <= 128; ++len) {
      if (!pk.by_length[len].empty()) pk.lengths.push_back(len);
      if (len < 96 && pk.by_length[len].contains(Mask(v4_space, len))) pk.v6_blocks_cover_v4 = true;
    }
    std::stable_sort(pk.sorted.begin(), pk.sorted.end(),
                     [](const auto& a, const auto& b) { return a.first.addr.bytes < b.first.addr.bytes; });
  }
  return out;
}

std::optional<WarningHit> WarningLists::Check(ValueKind kind, std::string_view value) const {
  const Index& ix = *index_;
  const Index::PerKind& k = ix.kinds[static_cast<int>(kind)];
  if (kind == ValueKind::kIp || kind == ValueKind::kCidr) {
    if (!k.lengths.empty()) {
      auto p = ParseCidrEntry(value);
      if (p.ok()) {
        if (auto hit = ix.CheckCidr(k, *p)) return hit;
      }
    }
  } else {
    if (auto hit = ix.CheckName(k, value)) return hit;
    if (kind == ValueKind::kUrl || kind == ValueKind::kEmail) {
      if (auto hit = ix.CheckName(k, HostOf(kind, value))) return hit;
    }
  }
  if (!k.substrings.empty() || !k.regexes.empty()) {
    std::string lower = ToLower(value);
    for (const auto& [sub, ref] : k.substrings) {
      if (lower.find(sub) != std::string::npos) return ix.Hit(ref);
    }
    for (const auto& [re, ref] : k.regexes) {
      if (std::regex_search(value.begin(), value.end(), re)) return ix.Hit(ref);
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- storage

std::string Slug(std::string_view name) {
  std::string out;
  for (char ch : name) {
    char c = (ch >= 'A' && ch <= 'Z') ? char(ch + 32) : ch;
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (keep) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 100) out.resize(100);
  return out.empty() ? "list" : out;
}

Result<StoredList> AddStoredList(const std::string& data_dir, std::string_view json) {
  CORDON_ASSIGN_OR_RETURN(WarningList wl, ParseWarningList(json));
  std::error_code ec;
  fs::create_directories(ListDir(data_dir), ec);
  if (ec) return absl::UnavailableError("cannot create '" + ListDir(data_dir).string() + "': " + ec.message());
  StoredList out{Slug(wl.name), std::move(wl)};
  CORDON_RETURN_IF_ERROR(WriteFileAtomically(ListDir(data_dir) / (out.slug + ".json"), json));
  return out;
}

Result<std::vector<StoredList>> ListStored(const std::string& data_dir) {
  std::vector<StoredList> out;
  fs::path dir = ListDir(data_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  if (ec) return absl::UnavailableError("cannot list '" + dir.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Status st;
    std::string text = ReadFileText(f, &st);
    CORDON_RETURN_IF_ERROR(st);
    auto wl = ParseWarningList(text);
    if (!wl.ok()) return Invalid("stored warning list '" + f.string() + "': " + std::string(wl.status().message()));
    out.push_back(StoredList{f.stem().string(), std::move(*wl)});
  }
  return out;
}

Status RemoveStored(const std::string& data_dir, const std::string& name) {
  CORDON_ASSIGN_OR_RETURN(auto stored, ListStored(data_dir));
  for (const auto& s : stored) {
    if (s.slug == name || s.list.name == name) {
      std::error_code ec;
      fs::remove(ListDir(data_dir) / (s.slug + ".json"), ec);
      if (ec) return absl::UnavailableError("cannot remove warning list '" + s.slug + "': " + ec.message());
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError("no warning list named '" + name + "' (see: cordon warninglist list)");
}

Result<WarningLists> WarningLists::Load(const std::string& data_dir) {
  CORDON_ASSIGN_OR_RETURN(auto stored, ListStored(data_dir));
  std::vector<WarningList> lists;
  lists.reserve(stored.size());
  for (auto& s : stored) lists.push_back(std::move(s.list));
  return Build(std::move(lists));
}

}  // namespace cordon::feeds
