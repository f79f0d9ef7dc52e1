#include "net/tls_stream.h"

#include <openssl/bio.h>

#include <algorithm>

namespace cordon::net {

// The BIO between OpenSSL and the stream's buffers: writes append to out_,
// reads take from in_ and ask to be retried (SSL_ERROR_WANT_READ) when it is
// empty, or report the end when the peer has closed.
int TlsStreamBioWrite(BIO* bio, const char* data, int size) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(bio));
  s->out_.append(data, size_t(size));
  return size;
}

int TlsStreamBioRead(BIO* bio, char* data, int size) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  size_t have = s->in_end_ - s->in_begin_;
  if (have == 0) {
    if (s->eof_) return 0;
    BIO_set_retry_read(bio);
    return -1;
  }
  size_t n = std::min(have, size_t(size));
  std::memcpy(data, s->in_.get() + s->in_begin_, n);
  s->in_begin_ += n;
  return int(n);
}

namespace {

long BioControl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* StreamBioMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cordon tls stream");
    BIO_meth_set_write(m, TlsStreamBioWrite);
    BIO_meth_set_read(m, TlsStreamBioRead);
    BIO_meth_set_ctrl(m, BioControl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

}  // namespace

TlsStream::TlsStream(next_layer_type next, SSL_CTX* ctx)
    : next_(std::move(next)), ssl_(SSL_new(ctx)), in_(new char[kInputCapacity]) {
  BIO* bio = BIO_new(StreamBioMethod());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL takes its one reference
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream::Step TlsStream::Classify(int ret) {
  if (ret > 0) return Step::kDone;
  if (!error_) {
    int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_WANT_READ) return Step::kRead;
    unsigned long code = ERR_get_error();
    if (err == SSL_ERROR_ZERO_RETURN || eof_ || code == 0) error_ = boost::asio::error::eof;
    else error_ = boost::system::error_code(int(code), boost::asio::error::get_ssl_category());
  }
  return Step::kFailed;
}

bool TlsStream::Encrypt(const void* data, size_t size) {
  if (size == 0) return true;
  size_t written = 0;
  ERR_clear_error();
  int ret = SSL_write_ex(ssl_, data, size, &written);
  if (ret == 1 && written == size) return true;
  if (Classify(ret) == Step::kRead) error_ = boost::asio::ssl::error::stream_truncated;  // renegotiation: refused
  return false;
}

boost::system::error_code TlsStream::TakeError() {
  boost::system::error_code ec = error_;
  error_ = {};
  return ec ? ec : boost::asio::error::eof;
}

}  // namespace cordon::net
