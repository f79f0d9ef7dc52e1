// The TAXII 2.1 API over a Store: routing, authentication, per-collection
// permissions, content negotiation, filters and pagination, and error
// resources. Transport-free: it maps a net::Request to a net::Response, so the
// same service runs under HTTPS or plain HTTP (net::HttpServer).
//
// Endpoints (TAXII 2.1 §4-5): /taxii2/ (discovery), /{root}/, /{root}/status/{id}/,
// /{root}/collections/, /{root}/collections/{id}/, .../manifest/, .../objects/
// (GET, POST), .../objects/{object-id}/ (GET, DELETE), .../objects/{object-id}/versions/.
//
// Visibility: a collection the user can neither read nor write answers 404 as
// if it did not exist; one it can see but not use for the operation answers 403.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_server.h"
#include "store/store.h"
#include "taxii/auth.h"
#include "taxii/peer_policy.h"

namespace cordon::taxii {

// One answered request, as an access log records it. Views: valid during the
// ServiceOptions::access_log call only.
struct AccessRecord {
  std::string_view remote;  // client address ("" if unknown)
  std::string_view user;    // authenticated user ("" if authentication failed or was not given)
  std::string_view method;
  std::string_view target;  // path and query as sent
  int status = 0;
  size_t bytes = 0;         // response body
  double seconds = 0;       // from receiving the request to the response being ready
};

struct ServiceOptions {
  std::string title = "cordon TAXII 2.1 server";
  std::string description = "STIX 2.1 store and TAXII 2.1 server of a cordon node";
  std::string contact;
  std::string default_api_root;  // "" => the first API root, if any
  int default_page_size = 100;
  int max_page_size = 1000;
  // Sharing agreements of partner users (federation); nullptr = none.
  std::shared_ptr<PeerPolicy> peer_policy;
  // Called once per answered request, from any io thread; nullptr = no log.
  std::function<void(const AccessRecord&)> access_log;
};

struct Target;

class Service {
 public:
  Service(store::Store& store, ServiceOptions options);
  net::Response Handle(const net::Request& request);
  // The largest max_content_length of all API roots (for the transport's body limit).
  uint64_t MaxContentLength();

 private:
  // Handle without the access log; `user` is set once authenticated.
  net::Response Answer(const net::Request& request, std::string* user);
  struct Trace;  // what a partner's request touched, for PeerPolicy::Record
  net::Response Route(const net::Request& req, const Target& target, const store::User& user, const PeerView* view,
                      Trace& trace);
  // ScanObjects, passing on only what `view` lets through (all if null, ids
  // recorded in `trace`) while still serving up to query.limit objects with
  // a correct cursor.
  Result<store::PageEnd> Scan(store::ObjectQuery query, const PeerView* view, Trace& trace,
                              store::RowVisitor visit);

  store::Store& store_;
  ServiceOptions options_;
  Authenticator auth_;
};

}  // namespace cordon::taxii
