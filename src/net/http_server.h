// An asynchronous HTTP/1.1 server (Boost.Beast over Asio), plain or TLS.
//
// A few io threads, each running its own io_context; accepted connections are
// dealt out to them in turn and stay on their thread. Each connection is a
// coroutine, so thousands of idle keep-alive connections cost a socket and a
// buffer each, not a thread. The handler is called on an io thread and must be
// thread-safe; it may block briefly (a store transaction), which delays the
// other connections of that thread only.
//
// Beast and Asio stay inside net/: handlers see Request/Response below.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cordon::net {

struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query as sent, e.g. "/api/collections/?limit=5"
  std::string_view accept;
  std::string_view content_type;
  std::string_view authorization;
  std::string_view host;    // the Host header
  std::string_view remote;  // the client's address ("" if unknown)
  bool tls = false;         // arrived over HTTPS
  std::string_view body;
  // The body exceeded ServerOptions::body_limit: `body` is empty and the
  // connection is closed after the response.
  bool body_too_large = false;
};

struct Response {
  int status = 200;
  std::string content_type;  // "" => no Content-Type header
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

enum class Transport { kTls, kPlainHttp };

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 => an ephemeral port (see HttpServer::port())
  Transport transport = Transport::kTls;
  std::string tls_cert_file;  // PEM certificate chain (kTls)
  std::string tls_key_file;   // PEM private key (kTls)
  uint64_t body_limit = 100 << 20;
  int threads = 2;
  int idle_timeout_seconds = 60;  // a keep-alive connection idle this long is closed
};

class HttpServer {
 public:
  // Binds, listens and starts serving on background threads. Errors:
  // InvalidArgument (bad host, unreadable TLS files), Unavailable (bind failed).
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options, Handler handler);

  virtual ~HttpServer() = default;
  // The bound port (useful when ServerOptions::port was 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  virtual void Stop() = 0;
  // Blocks until Stop() is called from another thread or a signal handler
  // set up by the caller stops the server.
  virtual void Wait() = 0;
};

}  // namespace cordon::net
