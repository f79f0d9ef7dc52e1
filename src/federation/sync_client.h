// A small blocking TAXII 2.1 client for pulling from and pushing to a partner
// node: HTTPS (or plain HTTP) with Boost.Beast over OpenSSL, one keep-alive
// connection re-opened when it breaks, the peer's certificate verified against
// `ca_file` (host name included), and a deadline on every connect/write/read.
//
// Not thread-safe: one client per sync task.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon::federation {

struct TaxiiClientOptions {
  std::string url;  // the partner's discovery URL, https://host:port/taxii2/
  std::string user, password;  // Basic auth; user "" => password is a bearer token
  std::string ca_file;         // PEM to trust ("" => the system trust store)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{30000};  // per request: write + whole response
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string date_added_last;  // X-TAXII-Date-Added-Last ("" if absent)
};

// One page of GET .../objects/.
struct ObjectsPage {
  std::string body;             // the envelope as received
  bool more = false;
  std::string next;             // "" if none
  std::string date_added_last;  // "" when the page is empty
};

class TaxiiClient {
 public:
  // InvalidArgument for a malformed URL or unreadable ca_file.
  static Result<std::unique_ptr<TaxiiClient>> Create(const TaxiiClientOptions& options);
  ~TaxiiClient();

  // One request; a transport failure or timeout is Unavailable/DeadlineExceeded
  // (the connection is dropped and re-opened by the next call). HTTP error
  // statuses are returned, not turned into errors.
  Result<HttpResult> Request(std::string_view method, const std::string& target, std::string_view body = {});

  // The partner's default API root path ("/cordon/"), from discovery (cached).
  Result<std::string> ApiRootPath();

  // GET objects of `collection` (a page of at most `limit`); non-2xx => error
  // naming the status (PermissionDenied for 401/403, NotFound for 404).
  Result<ObjectsPage> GetObjects(const std::string& collection, const std::string& added_after,
                                 const std::string& next, int limit);
  // POST an envelope; returns the status resource JSON.
  Result<std::string> PostEnvelope(const std::string& collection, std::string_view envelope);
  Result<std::string> GetStatus(const std::string& status_id);

 private:
  struct Impl;
  explicit TaxiiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "2xx" => OK, otherwise a Status naming `what` and the response.
Status HttpStatusToError(const HttpResult& r, std::string_view what);

}  // namespace cordon::federation
