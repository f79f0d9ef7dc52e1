#include "federation/sync_client.h"

#include <openssl/ssl.h>
#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <fstream>
#include <sstream>

namespace cordon::federation {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kTaxii = "application/taxii+json;version=2.1";

struct ParsedUrl {
  bool tls = true;
  std::string host, port, path;
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("peer url '" + url + "' must start with https:// or http://");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.path.back() != '/') u.path += '/';
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return absl::InvalidArgumentError("peer url '" + url + "': bad IPv6 host");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = authority.substr(close + 2);
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return absl::InvalidArgumentError("peer url '" + url + "' has no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

std::string UrlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

}  // namespace

struct TaxiiClient::Impl {
  TaxiiClientOptions options;
  ParsedUrl url;
  std::string authorization;
  std::string api_root_path;
  asio::io_context ioc;
  asio::ssl::context ssl_ctx{asio::ssl::context::tls_client};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void Drop() {
    if (secure) beast::get_lowest_layer(*secure).socket().close();
    if (plain) plain->socket().close();
    secure.reset();
    plain.reset();
    buffer.clear();
  }

  // Runs the posted async operation(s) to completion.
  void RunIo() {
    ioc.restart();
    ioc.run();
  }

  Status Connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return absl::UnavailableError("resolving " + url.host + ": " + ec.message());
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(options.connect_timeout);
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunIo();
    if (ec) {
      return ec == beast::error::timeout
                 ? absl::DeadlineExceededError("connecting to " + options.url + ": timed out")
                 : absl::UnavailableError("connecting to " + options.url + ": " + ec.message());
    }
    if (!url.tls) {
      plain = std::move(stream);
      return absl::OkStatus();
    }
    auto tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), ssl_ctx);
    if (!SSL_set_tlsext_host_name(tls->native_handle(), url.host.c_str())) {
      return absl::InternalError("TLS SNI setup failed");
    }
    tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    beast::get_lowest_layer(*tls).expires_after(options.connect_timeout);
    tls->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    RunIo();
    if (ec) {
      std::string msg = "TLS handshake with " + options.url + " failed: " + ec.message();
      // A certificate that does not verify will not verify on retry either.
      if (ec.category() == asio::error::get_ssl_category()) {
        return absl::FailedPreconditionError(msg + " (is ca_file the partner's certificate or CA?)");
      }
      return absl::UnavailableError(msg);
    }
    secure = std::move(tls);
    return absl::OkStatus();
  }

  template <typename Stream>
  beast::error_code Exchange(Stream& s, http::request<http::string_body>& req,
                             http::response_parser<http::string_body>& parser) {
    beast::error_code ec;
    lowest().expires_after(options.io_timeout);
    http::async_write(s, req, [&](beast::error_code e, size_t) { ec = e; });
    RunIo();
    if (ec) return ec;
    http::async_read(s, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunIo();
    return ec;
  }

  Result<HttpResult> Once(std::string_view method, const std::string& target, std::string_view body,
                          bool fresh) {
    if (!plain && !secure) CORDON_RETURN_IF_ERROR(Connect());
    http::request<http::string_body> req;
    req.method_string(std::string(method));
    req.target(target);
    req.version(11);
    req.set(http::field::host, url.host + ":" + url.port);
    req.set(http::field::accept, kTaxii);
    req.set(http::field::user_agent, "cordon-sync");
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    if (!body.empty() || method == "POST") {
      req.set(http::field::content_type, kTaxii);
      req.body() = std::string(body);
    }
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    beast::error_code ec = secure ? Exchange(*secure, req, parser) : Exchange(*plain, req, parser);
    if (ec) {
      Drop();
      // A kept-alive connection the server closed meanwhile: one silent retry on a fresh one.
      if (!fresh && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
        return Once(method, target, body, true);
      }
      if (ec == beast::error::timeout) {
        return absl::DeadlineExceededError(std::string(method) + " " + target + ": no answer within " +
                                           std::to_string(options.io_timeout.count()) + " ms");
      }
      return absl::UnavailableError(std::string(method) + " " + target + ": " + ec.message());
    }
    auto res = parser.release();
    HttpResult out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    if (auto it = res.find("X-TAXII-Date-Added-Last"); it != res.end()) out.date_added_last = std::string(it->value());
    if (!res.keep_alive()) Drop();
    return out;
  }
};

TaxiiClient::TaxiiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TaxiiClient::~TaxiiClient() {
  if (impl_) impl_->Drop();
}

Result<std::unique_ptr<TaxiiClient>> TaxiiClient::Create(const TaxiiClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  CORDON_ASSIGN_OR_RETURN(impl->url, ParseUrl(options.url));
  if (impl->url.tls) {
    beast::error_code ec;
    impl->ssl_ctx.set_verify_mode(asio::ssl::verify_peer);
    if (options.ca_file.empty()) {
      impl->ssl_ctx.set_default_verify_paths(ec);
    } else {
      impl->ssl_ctx.load_verify_file(options.ca_file, ec);
    }
    if (ec) return absl::InvalidArgumentError("ca_file '" + options.ca_file + "': " + ec.message());
  }
  if (!options.user.empty()) {
    std::string cred = options.user + ":" + options.password;
    std::string enc(beast::detail::base64::encoded_size(cred.size()), '\0');
    enc.resize(beast::detail::base64::encode(enc.data(), cred.data(), cred.size()));
    impl->authorization = "Basic " + enc;
  } else if (!options.password.empty()) {
    impl->authorization = "Bearer " + options.password;
  }
  return std::unique_ptr<TaxiiClient>(new TaxiiClient(std::move(impl)));
}

Result<HttpResult> TaxiiClient::Request(std::string_view method, const std::string& target, std::string_view body) {
  return impl_->Once(method, target, body, false);
}

Status HttpStatusToError(const HttpResult& r, std::string_view what) {
  if (r.status >= 200 && r.status < 300) return absl::OkStatus();
  std::string msg = std::string(what) + ": HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300);
  if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(msg);
  if (r.status == 404) return absl::NotFoundError(msg);
  if (r.status >= 500 || r.status == 429) return absl::UnavailableError(msg);
  return absl::FailedPreconditionError(msg);
}

Result<std::string> TaxiiClient::ApiRootPath() {
  if (!impl_->api_root_path.empty()) return impl_->api_root_path;
  CORDON_ASSIGN_OR_RETURN(HttpResult r, Request("GET", impl_->url.path));
  CORDON_RETURN_IF_ERROR(HttpStatusToError(r, "discovery " + impl_->options.url));
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(r.body);
  std::string root;
  auto doc = parser.iterate(padded);
  std::string_view v;
  if (doc["default"].get_string().get(v) == simdjson::SUCCESS) {
    root = std::string(v);
  } else {
    auto doc2 = parser.iterate(padded);
    simdjson::ondemand::array roots;
    if (doc2["api_roots"].get_array().get(roots) == simdjson::SUCCESS) {
      for (auto el : roots) {
        if (el.get_string().get(v) == simdjson::SUCCESS) {
          root = std::string(v);
          break;
        }
      }
    }
  }
  if (root.empty()) return absl::FailedPreconditionError("discovery " + impl_->options.url + " names no API root");
  // An absolute URL or a path: keep the path, with a trailing slash.
  if (size_t scheme = root.find("://"); scheme != std::string::npos) {
    size_t slash = root.find('/', scheme + 3);
    root = slash == std::string::npos ? "/" : root.substr(slash);
  } else if (root.front() != '/') {
    root = impl_->url.path + root;
  }
  if (root.back() != '/') root += '/';
  impl_->api_root_path = root;
  return root;
}

Result<ObjectsPage> TaxiiClient::GetObjects(const std::string& collection, const std::string& added_after,
                                            const std::string& next, int limit) {
  CORDON_ASSIGN_OR_RETURN(std::string root, ApiRootPath());
  std::string target = root + "collections/" + UrlEncode(collection) + "/objects/?limit=" + std::to_string(limit);
  if (!added_after.empty()) target += "&added_after=" + UrlEncode(added_after);
  if (!next.empty()) target += "&next=" + UrlEncode(next);
  CORDON_ASSIGN_OR_RETURN(HttpResult r, Request("GET", target));
  CORDON_RETURN_IF_ERROR(HttpStatusToError(r, "GET " + target));
  ObjectsPage page;
  page.date_added_last = std::move(r.date_added_last);
  page.body = std::move(r.body);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(page.body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return absl::DataLossError("GET " + target + ": the answer is not JSON");
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::DataLossError("GET " + target + ": the answer is not a JSON object");
  }
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
    if (key == "more") {
      bool b = false;
      if (field.value().get_bool().get(b) == simdjson::SUCCESS) page.more = b;
    } else if (key == "next") {
      std::string_view s;
      if (field.value().get_string().get(s) == simdjson::SUCCESS) page.next = std::string(s);
    }
  }
  return page;
}

Result<std::string> TaxiiClient::PostEnvelope(const std::string& collection, std::string_view envelope) {
  CORDON_ASSIGN_OR_RETURN(std::string root, ApiRootPath());
  std::string target = root + "collections/" + UrlEncode(collection) + "/objects/";
  CORDON_ASSIGN_OR_RETURN(HttpResult r, Request("POST", target, envelope));
  CORDON_RETURN_IF_ERROR(HttpStatusToError(r, "POST " + target));
  return std::move(r.body);
}

Result<std::string> TaxiiClient::GetStatus(const std::string& status_id) {
  CORDON_ASSIGN_OR_RETURN(std::string root, ApiRootPath());
  std::string target = root + "status/" + UrlEncode(status_id) + "/";
  CORDON_ASSIGN_OR_RETURN(HttpResult r, Request("GET", target));
  CORDON_RETURN_IF_ERROR(HttpStatusToError(r, "GET " + target));
  return std::move(r.body);
}

}  // namespace cordon::federation
