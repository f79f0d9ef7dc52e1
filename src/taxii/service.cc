#include "taxii/service.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "base/json_writer.h"
#include "base/uuid.h"
#include "ingest/ingest.h"
#include "taxii/request.h"

namespace cordon::taxii {
namespace {

constexpr std::string_view kStix21 = "application/stix+json;version=2.1";
constexpr std::string_view kStix20 = "application/stix+json;version=2.0";
constexpr int kDateAddedDigits = 6;  // TAXII date_added precision: microseconds

net::Response Json(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.content_type = std::string(kTaxiiMediaType);
  r.body = std::move(body);
  return r;
}

// A TAXII 2.1 error message resource (§3.6.1).
net::Response Error(int status, std::string_view title, std::string_view description) {
  std::string body = "{\"title\":";
  AppendJsonString(body, title);
  if (!description.empty()) {
    body += ",\"description\":";
    AppendJsonString(body, description);
  }
  body += ",\"http_status\":\"" + std::to_string(status) + "\"}";
  return Json(status, std::move(body));
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kResourceExhausted: return 429;  // request bodies over the limit answer 413 explicitly
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string_view TitleFor(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

net::Response FromStatus(const Status& s) {
  int code = HttpStatusFor(s);
  return Error(code, TitleFor(code), std::string(s.message()));
}

net::Response MethodNotAllowed(std::string_view allow) {
  net::Response r = Error(405, "Method Not Allowed", "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// A version timestamp as text: the precision it arrived with, else the
// fewest of 0/3/6/9 fractional digits that represent it exactly.
std::string VersionText(Timestamp t) {
  if (t.frac_digits > 0) return FormatTimestamp(t);
  int64_t frac = t.ns % 1'000'000'000;
  int digits = frac == 0 ? 0 : frac % 1'000'000 == 0 ? 3 : frac % 1000 == 0 ? 6 : 9;
  return FormatTimestamp(t, digits);
}

// The version a manifest or versions list shows: the object's, or its
// date_added for objects without one (TAXII 2.1 §3.4.1).
std::string ServedVersion(const store::ObjectRow& row) {
  return row.version.ns == 0 ? FormatTimestamp(row.date_added, kDateAddedDigits) : VersionText(row.version);
}

// A page body built one row at a time: {"<list>":[item,...],"more":..,"next":".."}
// ({"more":false} without items), and the X-TAXII-Date-Added-First/-Last
// headers of the rows served.
class PageWriter {
 public:
  PageWriter(std::string_view list_name, size_t reserve) : list_name_(list_name) { body_.reserve(reserve + 64); }

  // The body, to which the caller appends `row`'s item (its separator is written).
  std::string& Item(const store::ObjectRow& row) {
    if (count_++ == 0) {
      body_ += "{\"";
      body_ += list_name_;
      body_ += "\":[";
      first_added_ = row.date_added;
    } else {
      body_ += ',';
    }
    last_added_ = row.date_added;
    return body_;
  }
  size_t count() const { return count_; }

  net::Response Finish(const store::PageEnd& end) && {
    body_ += count_ == 0 ? "{" : "],";
    body_ += end.more ? "\"more\":true,\"next\":\"" + SealCursor(end.next_cursor) + "\"}"
                      : std::string("\"more\":false}");
    net::Response r = Json(200, std::move(body_));
    if (count_ > 0) {
      r.headers.emplace_back("X-TAXII-Date-Added-First", FormatTimestamp(first_added_, kDateAddedDigits));
      r.headers.emplace_back("X-TAXII-Date-Added-Last", FormatTimestamp(last_added_, kDateAddedDigits));
    }
    return r;
  }

 private:
  std::string_view list_name_;
  std::string body_;
  size_t count_ = 0;
  Timestamp first_added_, last_added_;
};

// The envelope item of a stored object: its bytes as they arrived, or as a
// partner's agreement serves them.
void AppendObject(const store::ObjectRow& row, const PeerView* view, std::string& body) {
  if (view) {
    view->AppendServed(row.bytes, body);
  } else {
    body += row.bytes;
  }
}

std::string StatusJson(const store::StatusResource& s) {
  std::string b = "{\"id\":";
  AppendJsonString(b, s.id);
  b += ",\"status\":";
  AppendJsonString(b, s.status);
  b += ",\"request_timestamp\":\"" + FormatTimestamp(s.request_timestamp, kDateAddedDigits) + "\"";
  b += ",\"total_count\":" + std::to_string(s.total_count());
  b += ",\"success_count\":" + std::to_string(s.successes.size());
  b += ",\"failure_count\":" + std::to_string(s.failures.size());
  b += ",\"pending_count\":" + std::to_string(s.pendings.size());
  auto details = [&b](std::string_view name, const std::vector<store::StatusDetail>& list) {
    if (list.empty()) return;
    b += ",\"";
    b += name;
    b += "\":[";
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) b += ',';
      b += "{\"id\":";
      AppendJsonString(b, list[i].id);
      if (!list[i].version.empty()) {
        b += ",\"version\":";
        AppendJsonString(b, list[i].version);
      }
      if (!list[i].message.empty()) {
        b += ",\"message\":";
        AppendJsonString(b, list[i].message);
      }
      b += '}';
    }
    b += ']';
  };
  details("successes", s.successes);
  details("failures", s.failures);
  details("pendings", s.pendings);
  b += '}';
  return b;
}

std::string CollectionJson(const store::Collection& c, bool can_read, bool can_write) {
  std::string b = "{\"id\":";
  AppendJsonString(b, c.id);
  b += ",\"title\":";
  AppendJsonString(b, c.title);
  if (!c.description.empty()) {
    b += ",\"description\":";
    AppendJsonString(b, c.description);
  }
  if (!c.alias.empty()) {
    b += ",\"alias\":";
    AppendJsonString(b, c.alias);
  }
  b += can_read ? ",\"can_read\":true" : ",\"can_read\":false";
  b += can_write ? ",\"can_write\":true" : ",\"can_write\":false";
  b += ",\"media_types\":[\"";
  b += kStix21;
  b += "\",\"";
  b += kStix20;
  b += "\"]}";
  return b;
}

// The store query for a collection's objects under the request's filters.
store::ObjectQuery QueryFor(const std::string& collection, const Filters& f, int default_limit, int max_limit,
                            bool with_bytes) {
  return store::ObjectQuery{.collection = collection,
                            .added_after = f.added_after,
                            .ids = f.ids,
                            .types = f.types,
                            .version = f.version,
                            .spec_versions = f.spec_versions,
                            .after_cursor = f.next,
                            .limit = std::clamp(f.limit.value_or(default_limit), 1, max_limit),
                            .with_bytes = with_bytes};
}

}  // namespace

Service::Service(store::Store& store, ServiceOptions options)
    : store_(store), options_(std::move(options)), auth_(store) {}

uint64_t Service::MaxContentLength() {
  uint64_t max = 0;
  auto roots = store_.ListApiRoots();
  if (roots.ok()) {
    for (const auto& r : *roots) max = std::max<uint64_t>(max, r.max_content_length);
  }
  return max;
}

struct Service::Trace {
  std::string_view endpoint = "unknown";
  std::vector<std::string> ids;
};

Result<store::PageEnd> Service::Scan(store::ObjectQuery q, const PeerView* view, Trace& trace,
                                     store::RowVisitor visit) {
  if (view == nullptr) return store_.ScanObjects(q, visit);
  // Visibility depends on the type and the bytes (markings), so read them even
  // for manifests; the audit records the ids.
  q.with_bytes = true;
  q.with_identity = true;
  // A version is served only while the object's latest version is visible:
  // re-marking an object TLP:RED retracts its earlier versions too (else
  // match[version]=all and versions/ would show what objects/{id}/ hides).
  // Rows of other versions than the latest are therefore held until that is
  // known: their ids' latest versions are read after the scan (not inside
  // its visitor, which runs while the store's statement is stepping).
  const bool latest_only = q.version.empty() || (q.version.last && !q.version.all && !q.version.first &&
                                                 q.version.versions.empty());
  std::unordered_map<std::string, bool> latest_visible;
  auto check_latest = [&](std::vector<store::StoredObject>& rows) -> Status {
    std::vector<std::string> unknown;
    for (const auto& r : rows) {
      if (!latest_visible.count(r.id)) unknown.push_back(r.id);
    }
    std::sort(unknown.begin(), unknown.end());
    unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
    if (!unknown.empty()) {
      store::ObjectQuery lq{.collection = q.collection, .ids = unknown, .limit = int(unknown.size())};
      lq.version.last = true;
      for (const std::string& id : unknown) latest_visible[id] = false;
      CORDON_ASSIGN_OR_RETURN(store::Page latest, store_.QueryObjects(lq));
      for (const auto& o : latest.items) latest_visible[o.id] = view->Visible(o.type, o.bytes);
    }
    std::erase_if(rows, [&](const store::StoredObject& r) { return !latest_visible[r.id]; });
    return absl::OkStatus();
  };
  auto hold = [](std::vector<store::StoredObject>& rows, const store::ObjectRow& row, bool with_bytes) {
    rows.push_back({std::string(row.id), std::string(row.type), std::string(row.spec_version), row.version,
                    row.date_added, with_bytes ? std::string(row.bytes) : std::string()});
  };
  const int limit = q.limit;
  int served = 0;
  auto serve = [&](const store::ObjectRow& row) {
    ++served;
    if (trace.ids.empty() || trace.ids.back() != row.id) trace.ids.emplace_back(row.id);
    visit(row);
  };
  store::PageEnd end;
  std::vector<store::StoredObject> held;
  while (true) {
    // Ask for exactly what is still missing, so a page is always consumed
    // whole and its cursor is the right place to continue from.
    q.limit = limit - served;
    held.clear();
    CORDON_ASSIGN_OR_RETURN(end, store_.ScanObjects(q, [&](const store::ObjectRow& row) {
      if (!view->Visible(row.type, row.bytes)) return;
      if (latest_only) {
        serve(row);
      } else {
        hold(held, row, /*with_bytes=*/true);
      }
    }));
    if (!latest_only) {
      CORDON_RETURN_IF_ERROR(check_latest(held));
      for (const auto& o : held) serve({o.id, o.type, o.spec_version, o.version, o.date_added, o.bytes});
    }
    if (!end.more || served >= limit) break;
    q.after_cursor = end.next_cursor;
  }
  // `more` must mean "a further page has something to show": look past the
  // cursor (without moving it) for one visible row.
  q.after_cursor = end.next_cursor;
  q.limit = 16;
  const int64_t cursor = end.next_cursor;
  while (end.more) {
    bool any = false;
    held.clear();
    CORDON_ASSIGN_OR_RETURN(store::PageEnd ahead, store_.ScanObjects(q, [&](const store::ObjectRow& row) {
      if (any || !view->Visible(row.type, row.bytes)) return;
      if (latest_only) {
        any = true;
      } else {
        hold(held, row, /*with_bytes=*/false);
      }
    }));
    if (!latest_only) {
      CORDON_RETURN_IF_ERROR(check_latest(held));
      any = !held.empty();
    }
    if (any) break;
    end.more = ahead.more;
    q.after_cursor = ahead.next_cursor;
  }
  end.next_cursor = end.more ? cursor : 0;
  return end;
}

net::Response Service::Handle(const net::Request& req) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = options_.access_log ? Clock::now() : Clock::time_point();
  std::string user;
  net::Response response = Answer(req, &user);
  if (options_.access_log) {
    options_.access_log(AccessRecord{
        .remote = req.remote,
        .user = user,
        .method = req.method,
        .target = req.target,
        .status = response.status,
        .bytes = response.body.size(),
        .seconds = std::chrono::duration<double>(Clock::now() - start).count()});
  }
  return response;
}

net::Response Service::Answer(const net::Request& req, std::string* user_name) {
  if (req.body_too_large) {
    return Error(413, "Payload Too Large", "the request body exceeds max_content_length");
  }
  auto target = ParseTarget(req.target);
  if (!target.ok()) return FromStatus(target.status());
  // A read request sees its user, API root, collection and objects as of one
  // snapshot, read in one transaction.
  std::unique_ptr<store::ReadScope> snapshot;
  if (req.method == "GET" || req.method == "HEAD") snapshot = store_.BeginReadScope();
  auto user = auth_.Authenticate(req.authorization, req.remote);
  if (!user.ok()) {
    net::Response r = FromStatus(user.status());
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"cordon\", Bearer");
    // Throttled: one more attempt is allowed at the latest after a refill period.
    if (r.status == 429) {
      r.headers.emplace_back("Retry-After", std::to_string(Authenticator::kFailedLoginRefillSeconds));
    }
    return r;
  }
  *user_name = user->name;
  std::shared_ptr<const PeerView> view;
  if (options_.peer_policy) view = options_.peer_policy->ViewFor(*user);
  Trace trace;
  net::Response response = Route(req, *target, *user, view.get(), trace);
  if (view) {
    std::string_view path = req.target.substr(0, req.target.find('?'));
    Status audited = options_.peer_policy->Record(
        PeerAccess{user->name, req.method, trace.endpoint, path, response.status, std::move(trace.ids)});
    if (!audited.ok()) {
      return Error(503, "Service Unavailable", "the request could not be audited; try again later");
    }
  }
  return response;
}

net::Response Service::Route(const net::Request& req, const Target& target_ref, const store::User& user_ref,
                             const PeerView* view, Trace& trace) {
  const Target* target = &target_ref;
  const store::User* user = &user_ref;
  if (!AcceptsTaxii(req.accept)) {
    return Error(406, "Not Acceptable",
                 "this server produces " + std::string(kTaxiiMediaType) + "; the Accept header admits none of it");
  }
  auto may_read = [&](const std::string& cid) { return user->CanRead(cid) && (!view || view->MayRead(cid)); };
  auto may_write = [&](const std::string& cid) { return user->CanWrite(cid) && (!view || view->MayWrite(cid)); };
  const auto& seg = target->segments;
  const std::string_view method = req.method;

  // GET /taxii2/ : discovery
  if (seg.size() == 1 && seg[0] == "taxii2") {
    trace.endpoint = "discovery";
    if (method != "GET") return MethodNotAllowed("GET");
    auto roots = store_.ListApiRoots();
    if (!roots.ok()) return FromStatus(roots.status());
    std::string base = std::string(req.tls ? "https://" : "http://") +
                       std::string(req.host.empty() ? "localhost" : req.host) + "/";
    std::string b = "{\"title\":";
    AppendJsonString(b, options_.title);
    b += ",\"description\":";
    AppendJsonString(b, options_.description);
    if (!options_.contact.empty()) {
      b += ",\"contact\":";
      AppendJsonString(b, options_.contact);
    }
    std::string def = options_.default_api_root;
    if (def.empty() && !roots->empty()) def = roots->front().name;
    if (!def.empty()) {
      b += ",\"default\":";
      AppendJsonString(b, base + def + "/");
    }
    b += ",\"api_roots\":[";
    for (size_t i = 0; i < roots->size(); ++i) {
      if (i) b += ',';
      AppendJsonString(b, base + (*roots)[i].name + "/");
    }
    b += "]}";
    return Json(200, std::move(b));
  }
  if (seg.empty()) return Error(404, "Not Found", "no resource at /; discovery is at /taxii2/");

  auto root = store_.GetApiRoot(seg[0]);
  if (!root.ok()) {
    if (absl::IsNotFound(root.status())) return Error(404, "Not Found", "no API root '" + seg[0] + "'");
    return FromStatus(root.status());
  }

  // GET /{root}/
  if (seg.size() == 1) {
    trace.endpoint = "api-root";
    if (method != "GET") return MethodNotAllowed("GET");
    std::string b = "{\"title\":";
    AppendJsonString(b, root->title);
    if (!root->description.empty()) {
      b += ",\"description\":";
      AppendJsonString(b, root->description);
    }
    b += ",\"versions\":[\"" + std::string(kTaxiiMediaType) + "\"],\"max_content_length\":" +
         std::to_string(root->max_content_length) + "}";
    return Json(200, std::move(b));
  }

  // GET /{root}/status/{id}/
  if (seg[1] == "status" && seg.size() == 3) {
    trace.endpoint = "status";
    if (method != "GET") return MethodNotAllowed("GET");
    auto st = store_.GetStatus(seg[2]);
    if (!st.ok() || st->api_root != root->name || st->user != user->name) {
      if (st.ok() || absl::IsNotFound(st.status())) {
        return Error(404, "Not Found", "no status resource '" + seg[2] + "'");
      }
      return FromStatus(st.status());
    }
    return Json(200, StatusJson(*st));
  }

  if (seg[1] != "collections" || seg.size() > 6) {
    return Error(404, "Not Found", "no such endpoint: " + std::string(req.target.substr(0, req.target.find('?'))));
  }

  // GET /{root}/collections/
  if (seg.size() == 2) {
    trace.endpoint = "collections";
    if (method != "GET") return MethodNotAllowed("GET");
    auto cols = store_.ListCollections(root->name);
    if (!cols.ok()) return FromStatus(cols.status());
    std::string b = "{";
    bool first = true;
    for (const auto& c : *cols) {
      bool r = may_read(c.id), w = may_write(c.id);
      if (!r && !w) continue;  // invisible
      b += first ? "\"collections\":[" : ",";
      first = false;
      b += CollectionJson(c, r, w);
    }
    b += first ? "}" : "]}";
    return Json(200, std::move(b));
  }

  const std::string& cid = seg[2];
  auto col = store_.GetCollection(root->name, cid);
  trace.endpoint = "collection";
  bool visible = col.ok() && (may_read(cid) || may_write(cid));
  if (!visible) {
    if (!col.ok() && !absl::IsNotFound(col.status())) return FromStatus(col.status());
    return Error(404, "Not Found", "no collection '" + cid + "' in API root '" + root->name + "'");
  }
  const bool can_read = may_read(cid);
  auto need_read = [&]() {
    return Error(403, "Forbidden", "no read access to collection '" + cid + "'");
  };

  // GET /{root}/collections/{id}/
  if (seg.size() == 3) {
    if (method != "GET") return MethodNotAllowed("GET");
    return Json(200, CollectionJson(*col, can_read, may_write(cid)));
  }

  const std::string& leaf = seg[3];
  // GET /{root}/collections/{id}/manifest/
  if (leaf == "manifest" && seg.size() == 4) {
    trace.endpoint = "manifest";
    if (method != "GET") return MethodNotAllowed("GET");
    if (!can_read) return need_read();
    auto f = ParseFilters(target->query, {});
    if (!f.ok()) return FromStatus(f.status());
    store::ObjectQuery q =
        QueryFor(cid, *f, options_.default_page_size, options_.max_page_size, /*with_bytes=*/false);
    PageWriter page("objects", static_cast<size_t>(q.limit) * 160);
    auto end = Scan(q, view, trace, [&page](const store::ObjectRow& o) {
      std::string& b = page.Item(o);
      b += "{\"id\":";
      AppendJsonString(b, o.id);
      b += ",\"date_added\":\"" + FormatTimestamp(o.date_added, kDateAddedDigits);
      b += "\",\"version\":\"" + ServedVersion(o);
      b += "\",\"media_type\":\"";
      b += o.spec_version == "2.0" ? kStix20 : kStix21;
      b += "\"}";
    });
    if (!end.ok()) return FromStatus(end.status());
    return std::move(page).Finish(*end);
  }

  if (leaf != "objects") return Error(404, "Not Found", "no such endpoint under collection '" + cid + "'");

  // /{root}/collections/{id}/objects/
  if (seg.size() == 4) {
    trace.endpoint = "objects";
    if (method == "GET") {
      if (!can_read) return need_read();
      auto f = ParseFilters(target->query, {});
      if (!f.ok()) return FromStatus(f.status());
      store::ObjectQuery q =
          QueryFor(cid, *f, options_.default_page_size, options_.max_page_size, /*with_bytes=*/true);
      q.with_identity = false;  // the page is the objects' bytes
      PageWriter page("objects", static_cast<size_t>(q.limit) * 640);
      auto end = Scan(q, view, trace, [&](const store::ObjectRow& o) { AppendObject(o, view, page.Item(o)); });
      if (!end.ok()) return FromStatus(end.status());
      return std::move(page).Finish(*end);
    }
    if (method == "POST") {
      if (!may_write(cid)) return Error(403, "Forbidden", "no write access to collection '" + cid + "'");
      if (!IsTaxiiContentType(req.content_type)) {
        return Error(415, "Unsupported Media Type",
                     "Content-Type must be " + std::string(kTaxiiMediaType) + ", got '" +
                         std::string(req.content_type) + "'");
      }
      if (root->max_content_length > 0 && req.body.size() > static_cast<uint64_t>(root->max_content_length)) {
        return Error(413, "Payload Too Large",
                     "the body has " + std::to_string(req.body.size()) + " bytes; max_content_length is " +
                         std::to_string(root->max_content_length));
      }
      store::StatusResource st;
      st.request_timestamp = Now();
      auto report = ingest::IngestDocument(store_, cid, req.body,
                                           options_.peer_policy ? options_.peer_policy->IngestCheck() : nullptr);
      if (!report.ok()) return FromStatus(report.status());
      st.id = NewUuid4();
      st.api_root = root->name;
      st.user = user->name;
      st.status = "complete";
      for (auto& o : report->objects) {
        if (o.outcome == ingest::ObjectOutcome::kRejected) {
          st.failures.push_back({o.id, o.version, o.reason});
          if (view) trace.ids.push_back(o.id);  // a refused write is audited with its ids too
        } else {
          st.successes.push_back({o.id, o.version, ""});
          if (view) trace.ids.push_back(o.id);
        }
      }
      auto put = store_.PutStatus(st);
      if (!put.ok()) return FromStatus(put);
      return Json(202, StatusJson(st));
    }
    return MethodNotAllowed("GET, POST");
  }

  const std::string& oid = seg[4];
  // GET /{root}/collections/{id}/objects/{object-id}/versions/
  if (seg.size() == 6) {
    trace.endpoint = "versions";
    if (seg[5] != "versions") return Error(404, "Not Found", "no such endpoint under object '" + oid + "'");
    if (method != "GET") return MethodNotAllowed("GET");
    if (!can_read) return need_read();
    auto f = ParseFilters(target->query, {.id = false, .type = false, .version = false});
    if (!f.ok()) return FromStatus(f.status());
    Filters all_versions = *f;
    all_versions.ids = {oid};
    all_versions.version.all = true;
    store::ObjectQuery q =
        QueryFor(cid, all_versions, options_.max_page_size, options_.max_page_size, /*with_bytes=*/false);
    PageWriter page("versions", static_cast<size_t>(q.limit) * 32);
    auto end = Scan(q, view, trace, [&page](const store::ObjectRow& o) {
      std::string& b = page.Item(o);
      b += '"';
      b += ServedVersion(o);
      b += '"';
    });
    if (!end.ok()) return FromStatus(end.status());
    if (page.count() == 0 && f->next == 0 && !f->added_after) {
      return Error(404, "Not Found", "no object '" + oid + "' in collection '" + cid + "'");
    }
    return std::move(page).Finish(*end);
  }

  // /{root}/collections/{id}/objects/{object-id}/
  trace.endpoint = "object";
  if (method == "GET") {
    if (!can_read) return need_read();
    auto f = ParseFilters(target->query, {.id = false, .type = false});
    if (!f.ok()) return FromStatus(f.status());
    Filters one = *f;
    one.ids = {oid};
    store::ObjectQuery q =
        QueryFor(cid, one, options_.default_page_size, options_.max_page_size, /*with_bytes=*/true);
    q.with_identity = false;  // the page is the objects' bytes
    PageWriter page("objects", 1024);
    auto end = Scan(q, view, trace, [&](const store::ObjectRow& o) { AppendObject(o, view, page.Item(o)); });
    if (!end.ok()) return FromStatus(end.status());
    // An object the agreement hides answers exactly as one that does not exist.
    if (page.count() == 0 && f->next == 0) {
      return Error(404, "Not Found", "no object '" + oid + "' in collection '" + cid + "' matches");
    }
    return std::move(page).Finish(*end);
  }
  if (method == "DELETE") {
    if (view) {
      // Deleting could reveal (by 200 vs 404) objects the agreement hides,
      // and a partner has no business removing our data: never allowed.
      trace.ids.push_back(oid);
      return Error(403, "Forbidden", "partner nodes cannot delete objects");
    }
    if (!may_write(cid)) return Error(403, "Forbidden", "no write access to collection '" + cid + "'");
    if (!can_read) return need_read();
    auto f = ParseFilters(target->query, {.id = false, .type = false});
    if (!f.ok()) return FromStatus(f.status());
    auto n = store_.DeleteObject(cid, oid, f->version, f->spec_versions);
    if (!n.ok()) return FromStatus(n.status());
    if (*n == 0) return Error(404, "Not Found", "no object '" + oid + "' in collection '" + cid + "' matches");
    net::Response r;
    r.status = 200;
    return r;
  }
  return MethodNotAllowed("GET, DELETE");
}

}  // namespace cordon::taxii
