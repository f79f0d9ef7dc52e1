#include "dns/xfr_server.h"

#include <absl/container/flat_hash_set.h>

#include <array>
#include <boost/asio.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "base/strings.h"

namespace cordon::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

constexpr uint16_t kClassIn = 1;
constexpr uint16_t kOpcodeQuery = 0, kOpcodeNotify = 4;
constexpr uint16_t kRcodeFormErr = 1, kRcodeServFail = 2, kRcodeNotImp = 4, kRcodeRefused = 5;
constexpr uint16_t kFlagQr = 0x8000, kFlagAa = 0x0400, kFlagRd = 0x0100;
// A transfer message is closed once it passes this size (the limit is 65535).
constexpr size_t kMessageTarget = 32 * 1024;

// RFC 1982 serial number arithmetic: is `a` after `b`?
bool SerialAfter(uint32_t a, uint32_t b) { return a != b && static_cast<int32_t>(a - b) > 0; }

uint16_t U16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) << 8 | static_cast<uint8_t>(s[at + 1]));
}
uint32_t U32(std::string_view s, size_t at) { return uint32_t{U16(s, at)} << 16 | U16(s, at + 2); }
void PutU16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}
void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xffff));
}

// Labels of a dotted name (no trailing dot needed; "" and "." add nothing).
void PutLabels(std::string& out, std::string_view name) {
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (i > start) {
        out += static_cast<char>(i - start);
        out.append(name.data() + start, i - start);
      }
      start = i + 1;
    }
  }
}
// Wire length of the labels PutLabels writes.
size_t LabelsLength(std::string_view name) {
  size_t length = 0, start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (i > start) length += 1 + i - start;
      start = i + 1;
    }
  }
  return length;
}

// Every response message repeats the question, so its name sits at offset 12
// and owners (relative to the origin) end in a pointer to it.
constexpr char kPointerToQuestion[] = {static_cast<char>(0xc0), 0x0c};

// One resource record of class IN: `owner` (relative to the question's name),
// then the RDATA `put_rdata` writes, its length filled in afterwards.
template <typename PutRdata>
void PutRr(std::string& out, std::string_view owner, uint16_t type, uint32_t ttl, PutRdata&& put_rdata) {
  PutLabels(out, owner);
  out.append(kPointerToQuestion, 2);
  PutU16(out, type);
  PutU16(out, kClassIn);
  PutU32(out, ttl);
  const size_t rdlength_at = out.size();
  PutU16(out, 0);
  put_rdata();
  const size_t rdlength = out.size() - rdlength_at - 2;
  out[rdlength_at] = static_cast<char>(rdlength >> 8);
  out[rdlength_at + 1] = static_cast<char>(rdlength & 0xff);
}

// An absolute name in full (no compression).
void PutName(std::string& out, std::string_view name) {
  PutLabels(out, name);
  out += '\0';
}

void PutRecord(std::string& out, const Record& r, uint32_t ttl) {
  PutRr(out, r.owner, r.type, ttl, [&] { PutName(out, r.target); });
}

void PutSoa(std::string& out, const Soa& soa, uint32_t serial, uint32_t ttl) {
  PutRr(out, "", kTypeSoa, ttl, [&] {
    PutName(out, soa.mname);
    PutName(out, soa.rname);
    for (uint32_t v : {serial, soa.refresh, soa.retry, soa.expire, soa.minimum}) PutU32(out, v);
  });
}

struct ParsedQuery {
  uint16_t id = 0, flags = 0, opcode = 0;
  std::string_view question;  // qname + qtype + qclass, as received
  std::string qname;          // lowercased, dotted, no trailing dot
  uint16_t qtype = 0, qclass = 0;
  bool has_ixfr_serial = false;
  uint32_t ixfr_serial = 0;  // IXFR: the serial in the query's authority SOA
};

bool SkipName(std::string_view m, size_t& pos) {
  while (pos < m.size()) {
    uint8_t l = static_cast<uint8_t>(m[pos]);
    if (l == 0) return ++pos, true;
    if ((l & 0xc0) == 0xc0) return (pos += 2) <= m.size();
    if (l & 0xc0) return false;
    pos += 1 + l;
  }
  return false;
}

enum class ParseOutcome { kOk, kNotAQuery, kFormErr };
ParseOutcome Parse(std::string_view m, ParsedQuery& q) {
  if (m.size() < 12) return ParseOutcome::kNotAQuery;
  q.id = U16(m, 0);
  q.flags = U16(m, 2);
  if (q.flags & kFlagQr) return ParseOutcome::kNotAQuery;
  q.opcode = (q.flags >> 11) & 0xf;
  if (U16(m, 4) != 1) return ParseOutcome::kFormErr;
  size_t pos = 12;
  while (true) {
    if (pos >= m.size()) return ParseOutcome::kFormErr;
    uint8_t l = static_cast<uint8_t>(m[pos]);
    if (l == 0) break;
    if (l > 63 || pos + 1 + l > m.size() || q.qname.size() + l + 1 > 255) return ParseOutcome::kFormErr;
    if (!q.qname.empty()) q.qname += '.';
    for (size_t i = 0; i < l; ++i) q.qname += static_cast<char>(std::tolower(static_cast<unsigned char>(m[pos + 1 + i])));
    pos += 1 + l;
  }
  ++pos;
  if (pos + 4 > m.size()) return ParseOutcome::kFormErr;
  q.qtype = U16(m, pos);
  q.qclass = U16(m, pos + 2);
  pos += 4;
  q.question = m.substr(12, pos - 12);
  if (q.qtype != kTypeIxfr) return ParseOutcome::kOk;
  // IXFR carries the secondary's SOA in the authority section (RFC 1995 3).
  if (U16(m, 6) != 0 || U16(m, 8) < 1) return ParseOutcome::kFormErr;
  if (!SkipName(m, pos) || pos + 10 > m.size() || U16(m, pos) != kTypeSoa) return ParseOutcome::kFormErr;
  size_t rdata = pos + 10, end = rdata + U16(m, pos + 8);
  if (end > m.size()) return ParseOutcome::kFormErr;
  pos = rdata;
  if (!SkipName(m, pos) || !SkipName(m, pos) || pos + 20 > end) return ParseOutcome::kFormErr;
  q.has_ixfr_serial = true;
  q.ixfr_serial = U32(m, pos);
  return ParseOutcome::kOk;
}

// Builds the messages of one response: each starts with the header and the
// question; records go into the current message until it passes the target.
class Response {
 public:
  Response(const ParsedQuery& q, uint16_t rcode) : q_(q), rcode_(rcode) { Open(); }
  template <typename Put>
  void Add(Put&& put) {
    if (messages_.back().size() > kMessageTarget) {
      Close();
      Open();
    }
    put(messages_.back());
    ++count_;
  }
  void AddToAuthority() { authority_ = true; }
  std::vector<std::string> Finish() {
    Close();
    return std::move(messages_);
  }

 private:
  void Open() {
    std::string& m = messages_.emplace_back();
    PutU16(m, q_.id);
    PutU16(m, kFlagQr | (q_.flags & 0x7800) | kFlagAa | (q_.flags & kFlagRd) | rcode_);
    PutU16(m, q_.question.empty() ? 0 : 1);
    for (int i = 0; i < 3; ++i) PutU16(m, 0);
    m += q_.question;
    count_ = 0;
  }
  void Close() {
    std::string& m = messages_.back();
    size_t at = authority_ ? 8 : 6;
    m[at] = static_cast<char>(count_ >> 8);
    m[at + 1] = static_cast<char>(count_ & 0xff);
  }
  const ParsedQuery& q_;
  uint16_t rcode_;
  bool authority_ = false;
  size_t count_ = 0;
  std::vector<std::string> messages_;
};

struct RecordHash {
  size_t operator()(const Record* r) const {
    return absl::HashOf(std::string_view(r->owner), r->type, std::string_view(r->target));
  }
};
struct RecordEq {
  bool operator()(const Record* a, const Record* b) const { return *a == *b; }
};
using RecordSet = absl::flat_hash_set<const Record*, RecordHash, RecordEq>;

struct Diff {
  uint32_t from = 0, to = 0;
  std::vector<Record> removed, added;
};

// What turns zone `from` into zone `to`, as IXFR sends it. Exports render in
// a stable order, so consecutive zones share a long head and tail: only the
// records between them are hashed.
Diff Difference(const Zone& from, const Zone& to) {
  Diff d;
  d.from = from.soa.serial;
  d.to = to.soa.serial;
  const auto& a = from.records;
  const auto& b = to.records;
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  RecordSet old_middle, new_middle;
  for (size_t i = head; i < a.size() - tail; ++i) old_middle.insert(&a[i]);
  for (size_t i = head; i < b.size() - tail; ++i) {
    if (new_middle.insert(&b[i]).second && !old_middle.contains(&b[i])) d.added.push_back(b[i]);
  }
  // A record gone from the middle may still be in the new zone's head or
  // tail (a zone may repeat a record): deleting it would be wrong.
  RecordSet gone;
  for (const Record* r : old_middle) {
    if (!new_middle.contains(r)) gone.insert(r);
  }
  if (!gone.empty() && (head > 0 || tail > 0)) {
    for (size_t i = 0; i < b.size(); ++i) {
      if (i == head) i = b.size() - tail;
      if (i < b.size()) gone.erase(&b[i]);
    }
  }
  for (size_t i = head; i < a.size() - tail; ++i) {
    if (gone.erase(&a[i])) d.removed.push_back(a[i]);  // in zone order, each once
  }
  return d;
}

Result<asio::ip::address> ParseAddress(std::string_view text) {
  boost::system::error_code ec;
  auto a = asio::ip::make_address(std::string(text), ec);
  if (ec) return absl::InvalidArgumentError("'" + std::string(text) + "' is not an IP address");
  return a;
}

Result<std::pair<asio::ip::address, uint16_t>> ParseHostPort(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError("'" + std::string(text) + "' is not [ADDRESS]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return absl::InvalidArgumentError("'" + std::string(text) + "' is not ADDRESS:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  CORDON_ASSIGN_OR_RETURN(auto address, ParseAddress(host));
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p > 65535) {
    return absl::InvalidArgumentError("'" + std::string(text) + "': bad port");
  }
  return std::pair{address, static_cast<uint16_t>(p)};
}

asio::ip::address Unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

struct XfrServer::State {
  // The io_context is declared first so that it outlives the sockets.
  asio::io_context io;
  udp::socket udp_socket{io};
  tcp::acceptor acceptor{io};
  std::thread thread;
  XfrOptions options;
  std::string origin;  // lowercased, no trailing dot
  size_t origin_wire_length = 0;
  std::vector<asio::ip::address> allowed;
  std::vector<udp::endpoint> secondaries;
  uint16_t port = 0;

  std::mutex publish_mu;  // serialises Publish; guards `previous`
  std::shared_ptr<const Zone> previous;  // the zone last published

  mutable std::mutex mu;  // guards the two below; held only to copy or swap pointers
  std::shared_ptr<const Zone> current;
  std::deque<std::shared_ptr<const Diff>> journal;

  std::array<char, 65536> udp_buffer{};
  udp::endpoint udp_peer;

  void Log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  bool TransferAllowed(std::string_view peer) const {
    auto a = ParseAddress(peer);
    if (!a.ok()) return false;
    asio::ip::address address = Unmapped(*a);
    if (address.is_loopback()) return true;
    for (const auto& allowed_address : allowed) {
      if (allowed_address == address) return true;
    }
    return false;
  }

  void ReceiveUdp();
  void Accept();
  void Notify(uint32_t serial);
  std::vector<std::string> Answer(std::string_view query, bool tcp, std::string_view peer) const;
};

std::vector<std::string> XfrServer::State::Answer(std::string_view query, bool tcp, std::string_view peer) const {
  ParsedQuery q;
  switch (Parse(query, q)) {
    case ParseOutcome::kNotAQuery: return {};
    case ParseOutcome::kFormErr: {
      ParsedQuery header_only;
      header_only.id = q.id;
      header_only.flags = q.flags;
      return Response(header_only, kRcodeFormErr).Finish();
    }
    case ParseOutcome::kOk: break;
  }
  if (q.opcode != kOpcodeQuery) return Response(q, kRcodeNotImp).Finish();
  if (q.qname != origin || (q.qclass != kClassIn && q.qclass != 255)) return Response(q, kRcodeRefused).Finish();
  std::shared_ptr<const Zone> zone;
  std::vector<std::shared_ptr<const Diff>> diffs;
  {
    std::lock_guard lock(mu);
    zone = current;
    if (q.has_ixfr_serial) {
      for (size_t i = 0; i < journal.size(); ++i) {
        if (journal[i]->from == q.ixfr_serial) {
          diffs.assign(journal.begin() + static_cast<ptrdiff_t>(i), journal.end());
          break;
        }
      }
    }
  }
  if (!zone) return Response(q, kRcodeServFail).Finish();
  const uint32_t serial = zone->soa.serial, ttl = zone->ttl;
  auto soa = [&](uint32_t s) { return [&, s](std::string& m) { PutSoa(m, zone->soa, s, ttl); }; };
  Response r(q, 0);
  switch (q.qtype) {
    case kTypeSoa:
      r.Add(soa(serial));
      break;
    case kTypeAxfr:
    case kTypeIxfr: {
      if (q.qtype == kTypeAxfr && !tcp) return Response(q, kRcodeFormErr).Finish();  // RFC 5936 4.2: TCP only
      if (!TransferAllowed(peer)) return Response(q, kRcodeRefused).Finish();
      // Up to date (or over UDP, where a transfer does not fit): the current SOA alone.
      if (q.qtype == kTypeIxfr && (!tcp || q.ixfr_serial == serial || SerialAfter(q.ixfr_serial, serial))) {
        r.Add(soa(serial));
        break;
      }
      r.Add(soa(serial));
      if (q.qtype == kTypeIxfr && !diffs.empty()) {
        for (const auto& d : diffs) {
          r.Add(soa(d->from));
          for (const Record& rec : d->removed) r.Add([&](std::string& m) { PutRecord(m, rec, ttl); });
          r.Add(soa(d->to));
          for (const Record& rec : d->added) r.Add([&](std::string& m) { PutRecord(m, rec, ttl); });
        }
      } else {
        for (const Record& rec : zone->records) r.Add([&](std::string& m) { PutRecord(m, rec, ttl); });
      }
      r.Add(soa(serial));
      break;
    }
    case kTypeNs:
      for (const Record& rec : zone->records) {
        if (rec.owner.empty() && rec.type == kTypeNs) r.Add([&](std::string& m) { PutRecord(m, rec, ttl); });
      }
      break;
    default:  // no data of that type at the apex: NODATA with the SOA in the authority section
      r.AddToAuthority();
      r.Add(soa(serial));
      break;
  }
  return r.Finish();
}

void XfrServer::State::ReceiveUdp() {
  udp_socket.async_receive_from(asio::buffer(udp_buffer), udp_peer, [this](boost::system::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto messages = Answer(std::string_view(udp_buffer.data(), n), /*tcp=*/false,
                             udp_peer.address().to_string());
      if (!messages.empty()) {
        boost::system::error_code send_ec;
        udp_socket.send_to(asio::buffer(messages.front()), udp_peer, 0, send_ec);
      }
    }
    ReceiveUdp();
  });
}

namespace {

// One TCP connection: length-prefixed queries answered in turn (RFC 7766).
// A connection idle for XfrOptions::idle_timeout while a query is awaited, or
// whose reader takes longer than that for one message, is closed.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const XfrServer::State* state)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), state_(state) {}
  void Start() {
    boost::system::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    ReadLength();
  }

 private:
  // Closes the socket unless the operation started now completes in time.
  void Arm() {
    timer_.expires_after(state_->options.idle_timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->socket_.close();
    });
  }
  void ReadLength() {
    Arm();
    asio::async_read(socket_, asio::buffer(length_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) {
        self->timer_.cancel();
        return;
      }
      self->query_.resize(size_t{self->length_[0]} << 8 | self->length_[1]);
      asio::async_read(self->socket_, asio::buffer(self->query_),
                       [self](boost::system::error_code ec, size_t) {
                         self->timer_.cancel();
                         if (!ec) self->Respond();
                       });
    });
  }
  void Respond();
  void WriteNext() {
    if (next_ == out_.size()) {
      out_.clear();
      ReadLength();
      return;
    }
    Arm();
    asio::async_write(socket_, asio::buffer(out_[next_]), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->timer_.cancel();
      if (ec) return;
      self->out_[self->next_].clear();
      self->out_[self->next_].shrink_to_fit();
      ++self->next_;
      self->WriteNext();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const XfrServer::State* state_;
  std::string peer_;
  uint8_t length_[2] = {0, 0};
  std::string query_;
  std::vector<std::string> out_;
  size_t next_ = 0;
};

}  // namespace

void Session::Respond() {
  auto messages = state_->Answer(query_, /*tcp=*/true, peer_);
  if (messages.empty()) return;  // not a query: drop the connection
  out_.clear();
  for (auto& m : messages) {
    std::string framed;
    framed.reserve(m.size() + 2);
    PutU16(framed, static_cast<uint16_t>(m.size()));
    framed += m;
    out_.push_back(std::move(framed));
  }
  next_ = 0;
  WriteNext();
}

void XfrServer::State::Accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), this)->Start();
    Accept();
  });
}

void XfrServer::State::Notify(uint32_t serial) {
  std::shared_ptr<const Zone> zone;
  {
    std::lock_guard lock(mu);
    zone = current;
  }
  static thread_local std::mt19937 random{std::random_device{}()};
  for (const udp::endpoint& target : secondaries) {
    auto message = std::make_shared<std::string>();
    const auto id = static_cast<uint16_t>(random());
    PutU16(*message, id);
    PutU16(*message, static_cast<uint16_t>(kOpcodeNotify << 11) | kFlagAa);
    for (uint16_t count : {1, 1, 0, 0}) PutU16(*message, count);
    PutName(*message, origin);
    PutU16(*message, kTypeSoa);
    PutU16(*message, kClassIn);
    PutSoa(*message, zone->soa, serial, zone->ttl);
    // Sent up to three times, a second apart, until the secondary answers (RFC 1996 3.6).
    auto attempt = std::make_shared<std::function<void(int)>>();
    *attempt = [this, target, message, id, attempt](int n) {
      auto socket = std::make_shared<udp::socket>(io, target.protocol());
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
      auto answer = std::make_shared<std::array<char, 512>>();
      boost::system::error_code ec;
      socket->send_to(asio::buffer(*message), target, 0, ec);
      socket->async_receive(asio::buffer(*answer), [this, socket, timer, answer, id, target](boost::system::error_code ec, size_t len) {
        if (ec) return;  // timed out: the timer closed the socket
        timer->cancel();
        std::string_view reply(answer->data(), len);
        if (reply.size() >= 12 && U16(reply, 0) == id && (U16(reply, 2) & 0xf) != 0) {
          Log("NOTIFY to " + target.address().to_string() + ":" + std::to_string(target.port()) +
              " answered with rcode " + std::to_string(U16(reply, 2) & 0xf));
        }
      });
      timer->async_wait([this, socket, attempt, target, n](boost::system::error_code ec) {
        if (ec) {  // answered
          *attempt = nullptr;  // break the function's reference to itself
          return;
        }
        socket->close();
        if (n < 3) {
          (*attempt)(n + 1);
        } else {
          Log("NOTIFY to " + target.address().to_string() + ":" + std::to_string(target.port()) +
              ": no answer after 3 attempts");
          *attempt = nullptr;  // break the self-reference
        }
      });
    };
    asio::post(io, [attempt] { (*attempt)(1); });
  }
}

XfrServer::XfrServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

XfrServer::~XfrServer() {
  state_->io.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<std::unique_ptr<XfrServer>> XfrServer::Start(XfrOptions options) {
  auto state = std::make_unique<State>();
  std::string origin = ToLower(options.origin);
  while (!origin.empty() && origin.back() == '.') origin.pop_back();
  if (origin.empty()) return absl::InvalidArgumentError("zone transfer: the zone needs a name");
  state->origin = origin;
  state->origin_wire_length = LabelsLength(origin) + 1;
  CORDON_ASSIGN_OR_RETURN(auto listen, ParseHostPort(options.listen));
  for (const auto& n : options.notify) {
    CORDON_ASSIGN_OR_RETURN(auto target, ParseHostPort(n));
    state->secondaries.emplace_back(target.first, target.second);
    state->allowed.push_back(Unmapped(target.first));
  }
  for (const auto& a : options.allow) {
    CORDON_ASSIGN_OR_RETURN(auto address, ParseAddress(a));
    state->allowed.push_back(Unmapped(address));
  }
  state->options = std::move(options);
  boost::system::error_code ec;
  tcp::endpoint endpoint(listen.first, listen.second);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("zone transfer: cannot listen on TCP " + state->options.listen + ": " + ec.message());
  state->port = state->acceptor.local_endpoint().port();
  state->udp_socket.open(listen.first.is_v4() ? udp::v4() : udp::v6(), ec);
  if (!ec) state->udp_socket.bind(udp::endpoint(listen.first, state->port), ec);
  if (ec) {
    return absl::UnavailableError("zone transfer: cannot bind UDP " + listen.first.to_string() + ":" +
                                  std::to_string(state->port) + ": " + ec.message());
  }
  state->ReceiveUdp();
  state->Accept();
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<XfrServer>(new XfrServer(std::move(state)));
}

Status XfrServer::Publish(Zone zone) {
  State& s = *state_;
  std::lock_guard publish_lock(s.publish_mu);
  // The origin adds its length to every owner; DNS names stop at 255 bytes.
  for (const Record& r : zone.records) {
    if (LabelsLength(r.owner) + s.origin_wire_length > 255) {
      return absl::InvalidArgumentError("zone transfer: '" + r.owner + "." + s.origin + "' is longer than 255 bytes");
    }
  }
  const std::shared_ptr<const Zone>& previous = s.previous;
  if (previous && !SerialAfter(zone.soa.serial, previous->soa.serial)) {
    return absl::FailedPreconditionError("zone transfer: serial " + std::to_string(zone.soa.serial) +
                                         " does not follow " + std::to_string(previous->soa.serial));
  }
  auto next = std::make_shared<const Zone>(std::move(zone));
  std::shared_ptr<const Diff> diff;
  if (previous) diff = std::make_shared<const Diff>(Difference(*previous, *next));
  {
    std::lock_guard lock(s.mu);
    s.current = next;
    if (diff) s.journal.push_back(diff);
    // Keep no more than a full transfer's worth of records.
    size_t total = 0;
    for (const auto& d : s.journal) total += d->removed.size() + d->added.size();
    while (!s.journal.empty() && total > next->records.size()) {
      total -= s.journal.front()->removed.size() + s.journal.front()->added.size();
      s.journal.pop_front();
    }
  }
  s.previous = next;
  s.Notify(next->soa.serial);
  return absl::OkStatus();
}

bool XfrServer::has_zone() const {
  std::lock_guard lock(state_->mu);
  return state_->current != nullptr;
}

uint32_t XfrServer::serial() const {
  std::lock_guard lock(state_->mu);
  return state_->current ? state_->current->soa.serial : 0;
}

uint16_t XfrServer::port() const { return state_->port; }

std::vector<std::string> XfrServer::Answer(std::string_view query, bool tcp, std::string_view peer_address) const {
  return state_->Answer(query, tcp, peer_address);
}

}  // namespace cordon::dns
