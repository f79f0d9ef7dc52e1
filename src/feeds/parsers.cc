#include "feeds/parsers.h"

#include <algorithm>
#include <array>
#include <future>
#include <iterator>
#include <optional>

#include "base/strings.h"

namespace cordon::feeds {
namespace {

Status Invalid(const std::string& m) { return absl::InvalidArgumentError(m); }

std::string Line(size_t n) { return "line " + std::to_string(n); }

// Calls f(line_number, content) for every line with its comment removed and
// trimmed, skipping empty ones. A '#' starts a comment at the line start or
// after whitespace (URLs keep their fragments).
// `first_line` is the number of the text's first line.
template <typename F>
void ForEachLine(std::string_view text, F&& f, size_t first_line = 1) {
  size_t n = first_line - 1, pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    ++n;
    pos = end + 1;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = line.substr(0, i);
        break;
      }
    }
    line = Trim(line);
    if (!line.empty()) f(n, line);
    if (end == text.size()) break;
  }
}

// Calls f(line_number, line) for every CSV line that is neither blank nor a
// '#' comment, until f returns false. `first_line` is the number of the
// text's first line. Returns the offset just after the last line read.
template <typename F>
size_t ForEachCsvLine(std::string_view text, size_t first_line, F&& f) {
  size_t n = first_line - 1, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (Trim(line).empty() || Trim(line).starts_with("#")) continue;
    if (!f(n, line)) break;
  }
  return std::min(pos, text.size());
}

// Runs parse(part, number of its first line) on the two halves of `text`,
// split at a line end, on two cores, and joins the results in input order:
// for the line-based formats, where each line stands alone (a million-line
// list takes a couple of seconds to parse). Small texts stay on one core. An
// error is the first half's if it has one (the first in input order).
template <typename F>
Result<Parsed> InTwoHalves(std::string_view text, size_t first_line, F parse) {
  constexpr size_t kMinSplit = size_t{1} << 20;
  size_t cut = text.size() < kMinSplit ? std::string_view::npos : text.find('\n', text.size() / 2);
  if (cut == std::string_view::npos) return parse(text, first_line);
  std::string_view first = text.substr(0, cut + 1), second = text.substr(cut + 1);
  auto later = std::async(std::launch::async, parse, second,
                          first_line + static_cast<size_t>(std::count(first.begin(), first.end(), '\n')));
  Result<Parsed> out = parse(first, first_line);
  Result<Parsed> rest = later.get();
  if (!out.ok()) return out;
  if (!rest.ok()) return rest;
  auto append = [](auto& to, auto& from) { std::move(from.begin(), from.end(), std::back_inserter(to)); };
  append(out->items, rest->items);
  append(out->rejected, rest->rejected);
  append(out->skipped, rest->skipped);
  return out;
}

void Add(Parsed& out, size_t line, std::string_view value, Result<Candidate> c) {
  if (!c.ok()) {
    out.rejected.push_back({Line(line), std::string(value), std::string(c.status().message())});
    return;
  }
  c->where = Line(line);
  out.items.push_back(std::move(*c));
}

bool IsLocalName(std::string_view name) {
  static constexpr std::array<std::string_view, 9> kLocal = {
      "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
      "ip6-loopback", "ip6-localnet", "ip6-allnodes", "ip6-allrouters"};
  std::string lower = ToLower(name);
  for (auto l : kLocal) {
    if (lower == l) return true;
  }
  return lower.starts_with("ip6-");
}

enum class Field { kValue, kType, kFirstSeen, kLabels, kDescription };
constexpr std::array<std::string_view, 5> kFieldNames = {"value", "type", "first_seen", "labels", "description"};

// RFC 4180 split of one record (`line` has no newline) into out[0, count);
// returns count. `out` is reused from record to record: its strings keep their
// capacity, so a row allocates nothing once the first rows are read. Runs of
// plain bytes are appended at once.
size_t SplitCsv(std::string_view line, char delim, std::vector<std::string>& out) {
  size_t count = 0;
  auto next_field = [&]() -> std::string& {
    if (count == out.size()) out.emplace_back();
    std::string& f = out[count++];
    f.clear();
    return f;
  };
  std::string* field = &next_field();
  bool quoted = false;
  size_t i = 0;
  while (i < line.size()) {
    if (quoted) {  // up to the closing quote; "" is a quote
      size_t q = line.find('"', i);
      if (q == std::string_view::npos) {
        field->append(line.substr(i));
        break;
      }
      field->append(line.substr(i, q - i));
      if (q + 1 < line.size() && line[q + 1] == '"') {
        *field += '"';
        i = q + 2;
      } else {
        quoted = false;
        i = q + 1;
      }
      continue;
    }
    size_t j = i;
    while (j < line.size() && line[j] != delim && line[j] != '"' && line[j] != '\r') ++j;
    field->append(line.data() + i, j - i);
    if (j == line.size()) break;
    if (line[j] == delim) {
      field = &next_field();
    } else if (line[j] == '"') {
      if (Trim(*field).empty()) {  // a quote opens a field only before its first byte
        field->clear();
        quoted = true;
      } else {
        *field += '"';
      }
    }  // a '\r' outside quotes is dropped
    i = j + 1;
  }
  return count;
}

}  // namespace

Parsed ParsePlain(std::string_view text) {
  return *InTwoHalves(text, 1, [](std::string_view part, size_t first_line) -> Result<Parsed> {
    Parsed out;
    ForEachLine(part, [&](size_t n, std::string_view line) {
      // Tab- or space-separated extras (e.g. ipsum's "IP<TAB>count") are ignored,
      // but "ADDRESS NAME" is a hosts file given as a plain list: importing the
      // sinkhole address would be wrong, so the line is rejected with a hint.
      size_t space = line.find_first_of(" \t");
      std::string_view value = line.substr(0, space);
      if (space != std::string_view::npos) {
        std::string_view rest = Trim(line.substr(space));
        rest = rest.substr(0, rest.find_first_of(" \t"));
        if (DetectKind(value) == ValueKind::kIp && DetectKind(rest) == ValueKind::kDomain) {
          out.rejected.push_back({Line(n), std::string(line), "a hosts-file line (use --format hosts)"});
          return;
        }
      }
      Add(out, n, value, FromKind(DetectKind(value), value));
    }, first_line);
    return out;
  });
}

Parsed ParseHosts(std::string_view text) {
  return *InTwoHalves(text, 1, [](std::string_view part, size_t first_line) -> Result<Parsed> {
    Parsed out;
    ForEachLine(part, [&](size_t n, std::string_view line) {
      std::vector<std::string_view> parts;
      for (auto p : Split(line, ' ', EmptyParts::kSkip)) {
        for (auto q : Split(p, '\t', EmptyParts::kSkip)) parts.push_back(q);
      }
      if (parts.size() < 2) {
        out.rejected.push_back({Line(n), std::string(line), "a hosts line is 'ADDRESS NAME [NAME...]'"});
        return;
      }
      auto kind = DetectKind(parts[0]);
      if (kind != ValueKind::kIp) {
        out.rejected.push_back({Line(n), std::string(line), "'" + std::string(parts[0]) + "' is not an address"});
        return;
      }
      for (size_t i = 1; i < parts.size(); ++i) {
        if (IsLocalName(parts[i])) {
          out.skipped.push_back({Line(n), std::string(parts[i]), "local host name"});
          continue;
        }
        if (DetectKind(parts[i]) == ValueKind::kIp) {
          out.skipped.push_back({Line(n), std::string(parts[i]), "an address in the name column"});
          continue;
        }
        Add(out, n, parts[i], FromKind(ValueKind::kDomain, parts[i]));
      }
    }, first_line);
    return out;
  });
}

Parsed ParseNetset(std::string_view text) {
  return *InTwoHalves(text, 1, [](std::string_view part, size_t first_line) -> Result<Parsed> {
    Parsed out;
    ForEachLine(part, [&](size_t n, std::string_view line) {
      std::string_view value = line.substr(0, line.find_first_of(" \t"));
      ValueKind k = DetectKind(value);
      if (k != ValueKind::kIp && k != ValueKind::kCidr) {
        out.rejected.push_back({Line(n), std::string(value), "not an address or CIDR block"});
        return;
      }
      Add(out, n, value, FromKind(ValueKind::kCidr, value));
    }, first_line);
    return out;
  });
}

Result<Parsed> ParseCsv(std::string_view text, const CsvOptions& options) {
  // Mapping: field -> column index (0-based) or header name to resolve.
  std::array<std::optional<size_t>, kFieldNames.size()> index;
  std::array<std::string, kFieldNames.size()> by_name;
  bool header = options.header;
  if (Trim(options.columns).empty()) return Invalid("--columns: give at least value=N (or value=HEADER)");
  for (std::string_view part : Split(options.columns, ',', EmptyParts::kSkip)) {
    size_t eq = part.find('=');
    std::string key = ToLower(Trim(part.substr(0, eq)));
    if (eq == std::string_view::npos) return Invalid("--columns: '" + std::string(part) + "' is not FIELD=COLUMN");
    std::string_view col = Trim(part.substr(eq + 1));
    size_t f = 0;
    while (f < kFieldNames.size() && kFieldNames[f] != key) ++f;
    if (f == kFieldNames.size()) {
      return Invalid("--columns: unknown field '" + key + "' (value, type, first_seen, labels, description)");
    }
    bool numeric = !col.empty();
    size_t num = 0;
    for (char c : col) {
      numeric &= c >= '0' && c <= '9';
      if (numeric) num = num * 10 + (c - '0');
    }
    if (col.empty()) return Invalid("--columns: no column for '" + key + "'");
    if (numeric) {
      if (num == 0) return Invalid("--columns: column numbers start at 1 ('" + std::string(part) + "')");
      index[f] = num - 1;
    } else {
      by_name[f] = std::string(col);
      header = true;
    }
  }
  if (!index[0] && by_name[0].empty()) return Invalid("--columns: the value column is required (value=N)");

  // The header (the first line that is neither empty nor a comment) names
  // the columns; the rows after it are parsed in two halves.
  size_t rows_from = 0, first_row_line = 1;
  if (header) {
    Status bad_header;
    bool seen = false;
    rows_from = ForEachCsvLine(text, 1, [&](size_t n, std::string_view line) {
      seen = true;
      first_row_line = n + 1;
      std::vector<std::string> fields;
      const size_t count = SplitCsv(line, options.delimiter, fields);
      for (size_t f = 0; f < kFieldNames.size() && bad_header.ok(); ++f) {
        if (by_name[f].empty()) continue;
        for (size_t i = 0; i < count; ++i) {
          if (Trim(fields[i]) == by_name[f]) index[f] = i;
        }
        if (!index[f]) {
          bad_header = Invalid(Line(n) + ": the header has no column '" + by_name[f] + "' (for " +
                               std::string(kFieldNames[f]) + ")");
        }
      }
      return false;  // the header alone
    });
    CORDON_RETURN_IF_ERROR(bad_header);
    if (!seen) return Invalid("the CSV has no header line (needed for --columns names)");
  }
  size_t needed = 0;
  for (const auto& i : index) {
    if (i) needed = std::max(needed, *i + 1);
  }
  auto rows = [&](std::string_view part, size_t first_line) -> Result<Parsed> {
    Parsed out;
    Status bad_row;
    std::vector<std::string> fields;  // reused by every row of this part
    ForEachCsvLine(part, first_line, [&](size_t n, std::string_view line) {
      const size_t count = SplitCsv(line, options.delimiter, fields);
      if (count < needed) {
        size_t f = 0;
        while (!(index[f] && *index[f] >= count)) ++f;
        bad_row = Invalid(Line(n) + ": " + std::to_string(count) + " fields, but column " +
                          std::to_string(*index[f] + 1) + " (" + std::string(kFieldNames[f]) + ") is mapped");
        return false;
      }
      auto get = [&](Field f) -> std::string_view {
        auto& i = index[static_cast<int>(f)];
        return i ? Trim(fields[*i]) : std::string_view();
      };
      std::string_view value = get(Field::kValue);
      if (value.empty()) {
        out.rejected.push_back({Line(n), "", "empty value"});
        return true;
      }
      std::string_view type = get(Field::kType);
      Result<Candidate> c = type.empty() ? FromKind(DetectKind(value), value) : FromTyped(type, value);
      if (!c.ok()) {
        out.rejected.push_back({Line(n), std::string(value), std::string(c.status().message())});
        return true;
      }
      if (std::string_view fs = get(Field::kFirstSeen); !fs.empty()) {
        auto t = ParseTimestamp(fs);
        if (!t.ok()) {
          out.rejected.push_back({Line(n), std::string(value), "first_seen: " + std::string(t.status().message())});
          return true;
        }
        c->first_seen = *t;
      }
      for (std::string_view l : Split(get(Field::kLabels), ';', EmptyParts::kSkip)) {
        if (!Trim(l).empty()) c->labels.emplace_back(Trim(l));
      }
      c->description = std::string(get(Field::kDescription));
      c->where = Line(n);
      out.items.push_back(std::move(*c));
      return true;
    });
    if (!bad_row.ok()) return bad_row;
    return out;
  };
  return InTwoHalves(text.substr(rows_from), first_row_line, rows);
}

}  // namespace cordon::feeds
