#include "net/http_server.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/tls_stream.h"

namespace cordon::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

// Serves requests on one connection until it closes, errors or idles out.
template <class Stream>
asio::awaitable<void> ServeConnection(Stream& stream, const Handler& handler,
                                      const ServerOptions& options) {
  beast::flat_buffer buffer;
  error_code ec;
  const auto peer = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  const std::string remote = ec ? std::string() : peer.address().to_string();
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options.body_limit);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(options.idle_timeout_seconds));
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    bool too_large = ec == http::error::body_limit;
    if (ec && !too_large) co_return;  // end_of_stream, timeout, reset or malformed

    const auto& req = parser.get();
    Request r;
    r.method = View(req.method_string());
    r.target = View(req.target());
    r.accept = View(req[http::field::accept]);
    r.content_type = View(req[http::field::content_type]);
    r.authorization = View(req[http::field::authorization]);
    r.host = View(req[http::field::host]);
    r.remote = remote;
    r.tls = options.transport == Transport::kTls;
    r.body_too_large = too_large;
    if (!too_large) r.body = req.body();
    Response out = handler(r);

    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "cordon");
    if (!out.content_type.empty()) res.set(http::field::content_type, out.content_type);
    for (auto& [name, value] : out.headers) res.set(name, value);
    res.body() = std::move(out.body);
    bool keep_alive = !too_large && req.keep_alive();
    res.keep_alive(keep_alive);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) co_return;
  }
}

class ServerImpl : public HttpServer {
 public:
  ServerImpl(ServerOptions options, Handler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        contexts_(MakeContexts(std::max(1, options_.threads))),
        ssl_(asio::ssl::context::tls_server),
        acceptor_(*contexts_.front()) {}

  ~ServerImpl() override { Stop(); }

  Status Init() {
    error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) return absl::InvalidArgumentError("invalid listen address '" + options_.host + "': " + ec.message());
    if (options_.transport == Transport::kTls) {
      ssl_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      // TlsStream serves writes without reading: a renegotiation (TLS 1.2)
      // would stall them. Clients that need one are refused.
      SSL_CTX_set_options(ssl_.native_handle(), SSL_OP_NO_RENEGOTIATION);
      ssl_.use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) return absl::InvalidArgumentError("cannot use TLS certificate '" + options_.tls_cert_file + "': " + ec.message());
      ssl_.use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
      if (ec) return absl::InvalidArgumentError("cannot use TLS key '" + options_.tls_key_file + "': " + ec.message());
    }
    tcp::endpoint ep(addr, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError("cannot listen on " + options_.host + ":" +
                                    std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(*contexts_.front(), Accept(), asio::detached);
    for (auto& ioc : contexts_) {
      // The guard keeps a context without connections yet from returning at once.
      threads_.emplace_back([&ioc] {
        auto guard = asio::make_work_guard(*ioc);
        ioc->run();
      });
    }
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    std::call_once(stop_once_, [this] {
      for (auto& ioc : contexts_) ioc->stop();
      for (auto& t : threads_) t.join();
      {
        std::lock_guard lock(mu_);
        stopped_ = true;
      }
      cv_.notify_all();
    });
  }

  void Wait() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopped_; });
  }

 private:
  // One single-threaded io_context per thread: a connection lives on one
  // thread for its whole life, so no strand, no scheduler lock shared between
  // threads and no cross-thread wake-ups (a shared multi-threaded io_context
  // spent ~17 % of the server's time in futex wake-ups and context switches).
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  asio::awaitable<void> Accept() {
    for (size_t next = 0;; next = (next + 1) % contexts_.size()) {
      error_code ec;
      tcp::socket socket(*contexts_[next]);
      co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    error_code ec;
    if (options_.transport == Transport::kPlainHttp) {
      beast::tcp_stream stream(std::move(socket));
      co_await ServeConnection(stream, handler_, options_);
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    } else {
      TlsStream stream(beast::tcp_stream(std::move(socket)), ssl_.native_handle());
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      co_await stream.async_handshake(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      co_await ServeConnection(stream, handler_, options_);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  ServerOptions options_;
  Handler handler_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;  // [0] also runs the acceptor
  asio::ssl::context ssl_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::once_flag stop_once_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  CORDON_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cordon::net
