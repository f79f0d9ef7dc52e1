// init, serve, collection, user, token: setting up and running a node.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>

#include "base/json_writer.h"
#include "base/time.h"
#include "base/uuid.h"
#include "cli/common.h"
#include "net/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "taxii/auth.h"
#include "taxii/service.h"

namespace cordon::cli {
namespace {

constexpr int64_t kDefaultMaxContentLength = 100 << 20;  // 100 MiB per POST

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

// The --access-log file: one JSON object per answered request, written whole
// and flushed under a lock (so `tail -f` sees complete lines).
class AccessLog {
 public:
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& path, std::ostream& out) {
    auto log = std::unique_ptr<AccessLog>(new AccessLog(out));
    if (path != "-") {
      log->file_.open(path, std::ios::app);
      if (!log->file_) return absl::UnavailableError("cannot open --access-log file '" + path + "'");
      log->out_ = &log->file_;
    }
    return log;
  }

  void Write(const taxii::AccessRecord& r) {
    std::string line = "{\"time\":\"" + FormatTimestamp(Now(), 3) + "\",\"remote\":";
    AppendJsonString(line, r.remote);
    line += ",\"user\":";
    AppendJsonString(line, r.user);
    line += ",\"method\":";
    AppendJsonString(line, r.method);
    line += ",\"target\":";
    AppendJsonString(line, r.target);
    char tail[96];
    std::snprintf(tail, sizeof tail, ",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f}\n", r.status, r.bytes,
                  r.seconds * 1000);
    line += tail;
    std::lock_guard lock(mu_);
    *out_ << line << std::flush;
  }

 private:
  explicit AccessLog(std::ostream& out) : out_(&out) {}
  std::mutex mu_;
  std::ofstream file_;
  std::ostream* out_;
};

int Serve(Context& c, const std::string& data, const std::string& listen, bool insecure,
          const std::string& cert, const std::string& key, int threads, double sync_interval,
          const std::string& access_log_path) {
  // Every request allocates and frees its response (~50 KB for a page of 100
  // objects); with the default trim threshold the io threads' heaps gave
  // that memory back to the kernel and faulted it in again, request after
  // request (madvise, page faults, TLB shootdowns across the threads).
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
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
  // When idle, the server also checkpoints what `cordon import` and other
  // commands committed while it runs.
  auto st = OpenExisting(data, {.checkpoint = store::SqliteOptions::Checkpoint::kAlsoWhenIdle});
  if (!st.ok()) return c.Fail(st.status());
  taxii::ServiceOptions service_options;
  auto policy = OpenPeerPolicy(data);
  if (!policy.ok()) return c.Fail(policy.status());
  service_options.peer_policy = std::move(*policy);
  std::unique_ptr<AccessLog> access_log;
  if (!access_log_path.empty()) {
    auto log = AccessLog::Open(access_log_path, c.out);
    if (!log.ok()) return c.Fail(log.status());
    access_log = std::move(*log);
    service_options.access_log = [log = access_log.get()](const taxii::AccessRecord& r) { log->Write(r); };
  }
  taxii::Service service(**st, service_options);
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
  std::unique_ptr<BackgroundSync> sync;  // started after the server: partners may pull from us meanwhile
  if (sync_interval > 0) {
    auto bg = StartBackgroundSync(data, **st, std::chrono::milliseconds(static_cast<int64_t>(sync_interval * 1000)),
                                  c.err);
    if (!bg.ok()) return c.Fail(bg.status());
    sync = std::move(*bg);
  }
  int sig = 0;
  sigwait(&signals, &sig);
  c.out << "stopping (signal " << sig << ")" << std::endl;
  sync.reset();
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

}  // namespace

void AddNodeCommands(Registrar& r) {
  struct Options {
    std::string data, api_root = kDefaultApiRoot;
    int64_t max_len = kDefaultMaxContentLength;
    std::string listen = "127.0.0.1:6443", cert, key;
    bool insecure = false;
    int threads = 2;
    double sync_interval = 0;
    std::string access_log;
    store::Collection col;
    std::string name, read, write, label;
    bool password_stdin = false;
  };
  auto o = std::make_shared<Options>();
  Context& c = r.c;
  auto& action = r.action;

  auto* init = r.app.add_subcommand("init", "create a node's store (SQLite) in a data directory");
  AddDataOption(init, o->data);
  init->add_option("--api-root", o->api_root, "name of the API root to create")->capture_default_str();
  init->add_option("--max-content-length", o->max_len, "largest POST body in bytes")->capture_default_str();
  init->callback([o, &c, &action] { action = [o, &c] { return Init(c, o->data, o->api_root, o->max_len); }; });

  auto* serve = r.app.add_subcommand("serve", "serve the TAXII 2.1 API");
  AddDataOption(serve, o->data);
  serve->add_option("--listen", o->listen, "HOST:PORT to listen on")->capture_default_str();
  auto* cert_opt = serve->add_option("--tls-cert", o->cert, "PEM certificate (chain) for HTTPS");
  auto* key_opt = serve->add_option("--tls-key", o->key, "PEM private key for HTTPS");
  auto* insecure_flag = serve->add_flag("--insecure-http", o->insecure, "serve plain HTTP (no TLS)");
  insecure_flag->excludes(cert_opt)->excludes(key_opt);
  serve->add_option("--threads", o->threads, "I/O threads")->capture_default_str()->check(CLI::Range(1, 64));
  serve->add_option("--access-log", o->access_log,
                    "append one JSON line per request (time, remote, user, method, target, status, bytes, ms) "
                    "to FILE ('-' = stdout)");
  serve->add_option("--sync-interval", o->sync_interval,
                    "seconds between background syncs with the peers (0 = no background sync)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve->callback([o, &c, &action] {
    action = [o, &c] { return Serve(c, o->data, o->listen, o->insecure, o->cert, o->key, o->threads, o->sync_interval,
                                 o->access_log); };
  });

  auto* collection = r.app.add_subcommand("collection", "manage collections");
  collection->require_subcommand(1);
  auto* col_add = collection->add_subcommand("add", "add (or update) a collection");
  AddDataOption(col_add, o->data);
  col_add->add_option("--id", o->col.id, "collection id (a UUID)")->required();
  col_add->add_option("--title", o->col.title, "title")->required();
  col_add->add_option("--description", o->col.description, "description");
  col_add->add_option("--alias", o->col.alias, "alias");
  col_add->add_option("--api-root", o->api_root, "API root")->capture_default_str();
  col_add->callback([o, &c, &action] {
    action = [o, &c] {
      o->col.api_root = o->api_root;
      return CollectionAdd(c, o->data, o->col);
    };
  });
  auto* col_list = collection->add_subcommand("list", "list collections");
  AddDataOption(col_list, o->data);
  col_list->add_option("--api-root", o->api_root, "API root")->capture_default_str();
  col_list->callback([o, &c, &action] { action = [o, &c] { return CollectionList(c, o->data, o->api_root); }; });

  auto* user = r.app.add_subcommand("user", "manage users");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "add (or replace) a user");
  AddDataOption(user_add, o->data);
  user_add->add_option("name", o->name, "user name")->required();
  user_add->add_flag("--password-stdin", o->password_stdin, "read the password from the first line of stdin");
  user_add->add_option("--read", o->read, "collections it may read: ids separated by commas, or '*'");
  user_add->add_option("--write", o->write, "collections it may write: ids separated by commas, or '*'");
  user_add->callback([o, &c, &action] {
    action = [o, &c] { return UserAdd(c, o->data, o->name, o->password_stdin, o->read, o->write); };
  });

  auto* token = r.app.add_subcommand("token", "manage API tokens");
  token->require_subcommand(1);
  auto* token_add = token->add_subcommand("add", "create an API token for a user and print it once");
  AddDataOption(token_add, o->data);
  token_add->add_option("name", o->name, "user name")->required();
  token_add->add_option("--label", o->label, "what the token is for");
  token_add->callback([o, &c, &action] { action = [o, &c] { return TokenAdd(c, o->data, o->name, o->label); }; });
}

}  // namespace cordon::cli
