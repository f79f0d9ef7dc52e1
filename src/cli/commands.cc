#include "cli/commands.h"

#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/strings.h"
#include "base/uuid.h"
#include "ingest/ingest.h"
#include "net/http_server.h"
#include "pattern/evaluator.h"
#include "pattern/pattern.h"
#include "stix/object.h"
#include "store/sqlite/sqlite_store.h"
#include "taxii/auth.h"
#include "taxii/service.h"

namespace cordon::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultApiRoot = "cordon";
constexpr int64_t kDefaultMaxContentLength = 100 << 20;  // 100 MiB per POST
constexpr size_t kImportBatch = 10000;  // objects per transaction for line-delimited imports

fs::path DbPath(const std::string& data) { return fs::path(data) / "cordon.db"; }

Result<std::unique_ptr<store::Store>> OpenExisting(const std::string& data) {
  if (!fs::exists(DbPath(data))) {
    return absl::NotFoundError("no cordon store in '" + data + "' (run: cordon init --data " + data + ")");
  }
  return store::OpenSqliteStore(DbPath(data));
}

std::vector<std::string> SplitIds(const std::string& s) {
  std::vector<std::string> out;
  for (std::string_view p : Split(s, ',', EmptyParts::kSkip)) out.emplace_back(Trim(p));
  return out;
}

Result<std::string> ReadAll(const std::string& path, std::istream& in) {
  std::ostringstream ss;
  if (path == "-") {
    ss << in.rdbuf();
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return absl::NotFoundError("cannot read '" + path + "'");
    ss << f.rdbuf();
  }
  return ss.str();
}

struct Context {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  int Fail(const Status& s) {
    err << "cordon: error: " << s.message() << "\n";
    return 2;
  }
};

int Init(Context& c, const std::string& data, const std::string& api_root, int64_t max_len) {
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return c.Fail(absl::UnavailableError("cannot create '" + data + "': " + ec.message()));
  auto st = store::OpenSqliteStore(DbPath(data));
  if (!st.ok()) return c.Fail(st.status());
  auto existing = (*st)->GetApiRoot(api_root);
  if (existing.ok()) {
    c.out << "store in " << data << " already initialised (API root '" << api_root << "')\n";
    return 0;
  }
  store::ApiRoot root{api_root, "cordon API root", "STIX content of this cordon node", max_len};
  if (auto s = (*st)->PutApiRoot(root); !s.ok()) return c.Fail(s);
  c.out << "initialised " << DbPath(data).string() << " with API root /" << api_root << "/\n";
  return 0;
}

int Serve(Context& c, const std::string& data, const std::string& listen, bool insecure,
          const std::string& cert, const std::string& key, int threads) {
  net::ServerOptions opt;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return c.Fail(absl::InvalidArgumentError("--listen must be HOST:PORT"));
  opt.host = listen.substr(0, colon);
  if (opt.host.size() > 2 && opt.host.front() == '[') opt.host = opt.host.substr(1, opt.host.size() - 2);
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    opt.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return c.Fail(absl::InvalidArgumentError("--listen: bad port in '" + listen + "'"));
  }
  if (insecure) {
    opt.transport = net::Transport::kPlainHttp;
  } else {
    if (cert.empty() || key.empty()) {
      return c.Fail(absl::InvalidArgumentError(
          "HTTPS needs --tls-cert and --tls-key (or --insecure-http for plain HTTP)"));
    }
    opt.tls_cert_file = cert;
    opt.tls_key_file = key;
  }
  opt.threads = threads;
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  taxii::Service service(**st, {});
  opt.body_limit = std::max<uint64_t>(service.MaxContentLength(), 1 << 20);

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Thousands of keep-alive connections need thousands of descriptors.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  auto server = net::HttpServer::Start(opt, [&service](const net::Request& r) { return service.Handle(r); });
  if (!server.ok()) return c.Fail(server.status());
  c.out << "cordon serving TAXII 2.1 on " << (insecure ? "http" : "https") << "://" << opt.host << ":"
        << (*server)->port() << "/taxii2/" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  c.out << "stopping (signal " << sig << ")" << std::endl;
  (*server)->Stop();
  return 0;
}

int CollectionAdd(Context& c, const std::string& data, const store::Collection& col) {
  if (!IsUuid(col.id)) {
    return c.Fail(absl::InvalidArgumentError("--id must be a UUID (TAXII collection ids are UUIDs), got '" +
                                             col.id + "'"));
  }
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  if (auto s = (*st)->PutCollection(col); !s.ok()) return c.Fail(s);
  c.out << "collection " << col.id << " (" << col.title << ") in /" << col.api_root << "/\n";
  return 0;
}

int CollectionList(Context& c, const std::string& data, const std::string& api_root) {
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto cols = (*st)->ListCollections(api_root);
  if (!cols.ok()) return c.Fail(cols.status());
  for (const auto& col : *cols) {
    auto n = (*st)->CountObjects(col.id);
    c.out << col.id << "  " << col.title << "  (" << (n.ok() ? *n : 0) << " object versions)\n";
  }
  return 0;
}

int UserAdd(Context& c, const std::string& data, const std::string& name, bool password_stdin,
            const std::string& read, const std::string& write) {
  store::User user{.name = name, .can_read = SplitIds(read), .can_write = SplitIds(write)};
  if (password_stdin) {
    std::string password;
    std::getline(c.in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) return c.Fail(absl::InvalidArgumentError("empty password on standard input"));
    auto hash = taxii::HashPassword(password);
    if (!hash.ok()) return c.Fail(hash.status());
    user.password_hash = *hash;
  }
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  if (auto s = (*st)->PutUser(user); !s.ok()) return c.Fail(s);
  c.out << "user " << name << " (read: " << (read.empty() ? "-" : read)
        << "; write: " << (write.empty() ? "-" : write) << ")\n";
  return 0;
}

int TokenAdd(Context& c, const std::string& data, const std::string& name, const std::string& label) {
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto user = (*st)->GetUser(name);
  if (!user.ok()) return c.Fail(user.status());
  std::string token = taxii::NewApiToken();
  if (auto s = (*st)->PutToken({taxii::TokenHash(token), name, label}); !s.ok()) return c.Fail(s);
  c.out << token << "\n";
  return 0;
}

void PrintReport(Context& c, const std::string& file, const ingest::Report& r) {
  c.out << file << ": added " << r.added << ", unchanged " << r.unchanged << ", rejected " << r.rejected
        << "\n";
  for (size_t i = 0; i < r.objects.size(); ++i) {
    const auto& o = r.objects[i];
    if (o.outcome != ingest::ObjectOutcome::kRejected) continue;
    c.out << "  rejected object " << i << " " << (o.id.empty() ? "(no id)" : o.id) << ": " << o.reason << "\n";
  }
}

int Import(Context& c, const std::string& data, const std::string& collection, const std::string& api_root,
           const std::vector<std::string>& files) {
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto col = (*st)->GetCollection(api_root, collection);
  if (!col.ok()) return c.Fail(col.status());
  bool any_rejected = false;
  for (const auto& file : files) {
    auto text = ReadAll(file, c.in);
    if (!text.ok()) return c.Fail(text.status());
    Result<ingest::Report> report = ingest::Report{};
    if (file.ends_with(".jsonl")) {
      // One object per line, stored in batches (each batch one transaction).
      std::vector<std::string_view> lines;
      for (std::string_view line : Split(*text, '\n')) {
        if (!Trim(line).empty()) lines.push_back(line);
      }
      for (size_t start = 0; start < lines.size() && report.ok(); start += kImportBatch) {
        std::vector<std::string_view> batch(lines.begin() + start,
                                            lines.begin() + std::min(lines.size(), start + kImportBatch));
        auto part = ingest::IngestObjects(**st, collection, batch, stix::DefaultVersion::kInfer);
        if (!part.ok()) {
          report = part.status();
          break;
        }
        report->added += part->added;
        report->unchanged += part->unchanged;
        report->rejected += part->rejected;
        for (auto& o : part->objects) report->objects.push_back(std::move(o));
      }
    } else {
      report = ingest::IngestDocument(**st, collection, *text);
    }
    if (!report.ok()) {
      c.err << "cordon: error: " << file << ": " << report.status().message() << "\n";
      return 2;
    }
    PrintReport(c, file, *report);
    any_rejected |= report->rejected > 0;
  }
  return any_rejected ? 1 : 0;
}

int PatternValidate(Context& c, const std::string& pattern, const std::string& version) {
  pattern::Version v = version == "2.0" ? pattern::Version::k20 : pattern::Version::k21;
  auto check = [&](const std::string& p) {
    Status s = pattern::Validate(p, v);
    if (s.ok()) {
      c.out << "ok\n";
      return true;
    }
    c.out << "error: " << s.message() << "\n";
    return false;
  };
  if (pattern != "-") return check(pattern) ? 0 : 1;
  bool all_ok = true;
  std::string line;
  while (std::getline(c.in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    all_ok &= check(line);
  }
  return all_ok ? 0 : 1;
}

// Exit status: 0 match, 1 no match, 2 invalid pattern or data (message on stderr).
int PatternMatch(Context& c, const std::string& text, const std::string& observed_file,
                 const std::string& version) {
  pattern::Version v = version == "2.0" ? pattern::Version::k20 : pattern::Version::k21;
  auto parsed = pattern::Parse(text, v);
  if (!parsed.ok()) return c.Fail(absl::InvalidArgumentError("pattern: " + std::string(parsed.status().message())));
  if (Status s = pattern::ValidateSemantics(*parsed); !s.ok()) {
    return c.Fail(absl::InvalidArgumentError("pattern: " + std::string(s.message())));
  }
  auto json = ReadAll(observed_file, c.in);
  if (!json.ok()) return c.Fail(json.status());
  auto observed = pattern::LoadObserved(*json, v);
  if (!observed.ok()) {
    return c.Fail(absl::InvalidArgumentError(observed_file + ": " + std::string(observed.status().message())));
  }
  auto result = pattern::Evaluate(*parsed, *observed);
  if (!result.ok()) return c.Fail(result.status());
  c.out << (result->matched ? "match" : "no match") << "\n";
  return result->matched ? 0 : 1;
}

}  // namespace

int Run(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  Context c{in, out, err};
  CLI::App app{"cordon: a STIX 2.1 store and TAXII 2.1 node for sharing threat intelligence"};
  app.require_subcommand(1);
  std::function<int()> action;

  std::string data, api_root = kDefaultApiRoot;
  auto add_data = [&](CLI::App* cmd) {
    cmd->add_option("--data", data, "the node's data directory")->required();
  };

  auto* init = app.add_subcommand("init", "create a node's store (SQLite) in a data directory");
  add_data(init);
  int64_t max_len = kDefaultMaxContentLength;
  init->add_option("--api-root", api_root, "name of the API root to create")->capture_default_str();
  init->add_option("--max-content-length", max_len, "largest POST body in bytes")->capture_default_str();
  init->callback([&] { action = [&] { return Init(c, data, api_root, max_len); }; });

  auto* serve = app.add_subcommand("serve", "serve the TAXII 2.1 API");
  add_data(serve);
  std::string listen = "127.0.0.1:6443", cert, key;
  bool insecure = false;
  int threads = 2;
  serve->add_option("--listen", listen, "HOST:PORT to listen on")->capture_default_str();
  auto* cert_opt = serve->add_option("--tls-cert", cert, "PEM certificate (chain) for HTTPS");
  auto* key_opt = serve->add_option("--tls-key", key, "PEM private key for HTTPS");
  auto* insecure_flag = serve->add_flag("--insecure-http", insecure, "serve plain HTTP (no TLS)");
  insecure_flag->excludes(cert_opt)->excludes(key_opt);
  serve->add_option("--threads", threads, "I/O threads")->capture_default_str()->check(CLI::Range(1, 64));
  serve->callback([&] { action = [&] { return Serve(c, data, listen, insecure, cert, key, threads); }; });

  auto* collection = app.add_subcommand("collection", "manage collections");
  collection->require_subcommand(1);
  auto* col_add = collection->add_subcommand("add", "add (or update) a collection");
  add_data(col_add);
  store::Collection col;
  col_add->add_option("--id", col.id, "collection id (a UUID)")->required();
  col_add->add_option("--title", col.title, "title")->required();
  col_add->add_option("--description", col.description, "description");
  col_add->add_option("--alias", col.alias, "alias");
  col_add->add_option("--api-root", api_root, "API root")->capture_default_str();
  col_add->callback([&] {
    action = [&] {
      col.api_root = api_root;
      return CollectionAdd(c, data, col);
    };
  });
  auto* col_list = collection->add_subcommand("list", "list collections");
  add_data(col_list);
  col_list->add_option("--api-root", api_root, "API root")->capture_default_str();
  col_list->callback([&] { action = [&] { return CollectionList(c, data, api_root); }; });

  auto* user = app.add_subcommand("user", "manage users");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "add (or replace) a user");
  add_data(user_add);
  std::string name, read, write, label;
  bool password_stdin = false;
  user_add->add_option("name", name, "user name")->required();
  user_add->add_flag("--password-stdin", password_stdin, "read the password from the first line of stdin");
  user_add->add_option("--read", read, "collections it may read: ids separated by commas, or '*'");
  user_add->add_option("--write", write, "collections it may write: ids separated by commas, or '*'");
  user_add->callback([&] { action = [&] { return UserAdd(c, data, name, password_stdin, read, write); }; });

  auto* token = app.add_subcommand("token", "manage API tokens");
  token->require_subcommand(1);
  auto* token_add = token->add_subcommand("add", "create an API token for a user and print it once");
  add_data(token_add);
  token_add->add_option("name", name, "user name")->required();
  token_add->add_option("--label", label, "what the token is for");
  token_add->callback([&] { action = [&] { return TokenAdd(c, data, name, label); }; });

  auto* import = app.add_subcommand(
      "import", "validate and store STIX bundles, TAXII envelopes or .jsonl files (one object per line)");
  add_data(import);
  std::string import_collection;
  std::vector<std::string> files;
  import->add_option("--collection", import_collection, "target collection id")->required();
  import->add_option("--api-root", api_root, "API root")->capture_default_str();
  import->add_option("files", files, "files to import ('-' = stdin)")->required();
  import->callback([&] { action = [&] { return Import(c, data, import_collection, api_root, files); }; });

  auto* pattern = app.add_subcommand("pattern", "STIX patterns");
  pattern->require_subcommand(1);
  auto* validate = pattern->add_subcommand("validate", "check STIX patterns; prints ok or the error with its column");
  std::string pattern_text, stix_version = "2.1";
  validate->add_option("pattern", pattern_text, "the pattern, or '-' to read one per line from stdin")->required();
  validate->add_option("--stix-version", stix_version, "2.0 or 2.1")
      ->capture_default_str()
      ->check(CLI::IsMember({"2.0", "2.1"}));
  validate->callback([&] { action = [&] { return PatternValidate(c, pattern_text, stix_version); }; });

  auto* match = pattern->add_subcommand(
      "match", "evaluate a pattern against observed data; prints match or no match (exit 0 / 1; 2 on error)");
  std::string observed_file;
  match->add_option("pattern", pattern_text, "the STIX pattern")->required();
  match->add_option("--observed", observed_file,
                    "a bundle or JSON list of observed-data and SCOs ('-' = stdin)")->required();
  match->add_option("--stix-version", stix_version, "2.0 or 2.1")
      ->capture_default_str()
      ->check(CLI::IsMember({"2.0", "2.1"}));
  match->callback([&] { action = [&] { return PatternMatch(c, pattern_text, observed_file, stix_version); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports through exceptions; this is the wall where they stop.
    return app.exit(e, out, err);
  }
  return action ? action() : 0;
}

}  // namespace cordon::cli
