// A server-side TLS stream over a Beast tcp_stream, for net/ only.
//
// Why not asio::ssl::stream: its engine moves ciphertext through a 17 KB BIO
// pair and a 17 KB output buffer, so a 48 KB response leaves as three
// send() calls, each waking the client, and every byte is copied twice on
// its way out. Here OpenSSL reads and writes through a BIO of our own whose
// output is one growing buffer: a write encrypts the whole response, then
// sends it with one async_write. For a TAXII GET of 100 objects this took the
// kernel's share of the server's time from 38 % to 26 % and the client's CPU
// per request by a fifth (docs/BENCHMARKS.md).
//
// Contract: half-duplex. At most one operation (handshake, read, write,
// shutdown) is outstanding at a time, which is how the HTTP server uses it;
// the ciphertext buffers are shared by all operations.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace cordon::net {

class TlsStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  // `ctx` must outlive the stream.
  TlsStream(next_layer_type next, SSL_CTX* ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return next_.get_executor(); }
  next_layer_type& next_layer() { return next_; }

  // The server side of the handshake. Handler: void(error_code, size_t), the
  // size always 0 (one signature for every operation).
  template <class Token>
  auto async_handshake(Token&& token);
  // Sends close_notify; does not wait for the peer's. Handler as the handshake's.
  template <class Token>
  auto async_shutdown(Token&& token);
  // AsyncReadStream: decrypted bytes into the first non-empty buffer. The
  // peer's close (close_notify or TCP FIN) is asio::error::eof.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token);
  // AsyncWriteStream: encrypts every buffer and sends the records with one
  // write; completes with the plaintext size once all of it is sent.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token);

 private:
  enum class Step { kRead, kDone, kFailed };
  // Two maximal TLS records: after compaction a read always has room for one.
  static constexpr size_t kInputCapacity = 2 * (16384 + 2048 + 5);
  static constexpr size_t kKeptOutput = 128 * 1024;
  friend int TlsStreamBioWrite(BIO*, const char*, int);
  friend int TlsStreamBioRead(BIO*, char*, int);
  template <class Call>
  struct Op;

  // After an SSL call returned `ret`: what the operation does next.
  Step Classify(int ret);
  // Encrypts `data` into out_ (never blocks: out_ grows).
  bool Encrypt(const void* data, size_t size);
  boost::system::error_code TakeError();

  next_layer_type next_;
  SSL* ssl_ = nullptr;
  std::string out_;  // ciphertext waiting to be sent
  // Ciphertext received and not yet consumed by OpenSSL: in_[in_begin_, in_end_).
  std::unique_ptr<char[]> in_;
  size_t in_begin_ = 0, in_end_ = 0;
  std::string staging_;  // small plaintext buffers gathered into one record
  boost::system::error_code error_;
  bool eof_ = false;  // the peer closed its side of the TCP connection
};

// One operation: makes `call` (an SSL call returning its ret, and setting *n
// for reads and writes), sends whatever ciphertext it produced, and if
// OpenSSL wants more input reads from the socket and makes the call again.
template <class Call>
struct TlsStream::Op {
  TlsStream& s;
  Call call;
  enum { kStart, kSent, kReceived } state = kStart;
  Step step = Step::kDone;
  size_t n = 0;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, size_t got = 0) {
    if (state == kSent) {
      s.out_.clear();
      // Kept for the next response, unless a large one grew it: an idle
      // keep-alive connection holds no more than this.
      if (s.out_.capacity() > kKeptOutput) s.out_.shrink_to_fit();
      if (ec) return self.complete(ec, 0);
      return Finish(self);
    }
    if (state == kReceived) {
      if (ec == boost::asio::error::eof) s.eof_ = true;
      else if (ec) return self.complete(ec, 0);
      s.in_end_ += got;
    }
    ERR_clear_error();  // SSL_get_error reads the thread's queue: no stale entries
    step = s.Classify(call(&n));
    if (!s.out_.empty()) {
      state = kSent;
      return boost::asio::async_write(s.next_, boost::asio::buffer(s.out_), std::move(self));
    }
    Finish(self);
  }

  template <class Self>
  void Finish(Self& self) {
    if (step == Step::kDone) return self.complete({}, n);
    if (step == Step::kFailed) return self.complete(s.TakeError(), 0);
    // kRead: OpenSSL needs more ciphertext.
    if (s.eof_) return self.complete(boost::asio::error::eof, 0);
    if (s.in_begin_ > 0) {  // keep only the unconsumed tail (at most one partial record)
      std::memmove(s.in_.get(), s.in_.get() + s.in_begin_, s.in_end_ - s.in_begin_);
      s.in_end_ -= s.in_begin_;
      s.in_begin_ = 0;
    }
    state = kReceived;
    s.next_.async_read_some(boost::asio::buffer(s.in_.get() + s.in_end_, kInputCapacity - s.in_end_),
                            std::move(self));
  }
};

template <class Token>
auto TlsStream::async_handshake(Token&& token) {
  auto call = [this](size_t*) { return SSL_do_handshake(ssl_); };
  return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
      Op<decltype(call)>{*this, call}, token, next_);
}

template <class Token>
auto TlsStream::async_shutdown(Token&& token) {
  // One call: close_notify goes into out_, is sent, and the operation ends.
  auto call = [this](size_t*) {
    SSL_shutdown(ssl_);
    return 1;
  };
  return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
      Op<decltype(call)>{*this, call}, token, next_);
}

template <class MutableBuffers, class Token>
auto TlsStream::async_read_some(const MutableBuffers& buffers, Token&& token) {
  boost::asio::mutable_buffer first;
  for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it)
    if ((first = *it).size() > 0) break;
  auto call = [this, first](size_t* n) {
    if (first.size() == 0) return 1;
    return SSL_read_ex(ssl_, first.data(), first.size(), n);
  };
  return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
      Op<decltype(call)>{*this, call}, token, next_);
}

template <class ConstBuffers, class Token>
auto TlsStream::async_write_some(const ConstBuffers& buffers, Token&& token) {
  // Encrypt everything now; the operation then only sends out_.
  size_t total = 0;
  bool ok = true;
  staging_.clear();
  for (auto it = boost::asio::buffer_sequence_begin(buffers); ok && it != boost::asio::buffer_sequence_end(buffers);
       ++it) {
    boost::asio::const_buffer b = *it;
    total += b.size();
    // Header pieces share one record; large bodies are encrypted in place.
    if (b.size() < 4096) {
      staging_.append(static_cast<const char*>(b.data()), b.size());
      continue;
    }
    ok = Encrypt(staging_.data(), staging_.size()) && Encrypt(b.data(), b.size());
    staging_.clear();
  }
  ok = ok && Encrypt(staging_.data(), staging_.size());
  auto call = [ok, total](size_t* n) {
    *n = total;
    return ok ? 1 : -1;
  };
  return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
      Op<decltype(call)>{*this, call}, token, next_);
}

}  // namespace cordon::net
