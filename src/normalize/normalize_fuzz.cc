// Fuzz target: value normalisation (domains with IDN, URLs, IP addresses and
// CIDR blocks, e-mail addresses, hashes), which sees every indicator value and
// every logged value. Contract under test: a normalised value or an error,
// never a crash; normalising a normalised value gives it back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "normalize/normalize.h"

using namespace cordon;

namespace {
// Idempotence: what the index stores and what a log yields must compare equal.
template <typename F>
void CheckStable(const char* what, F normalize, std::string_view text) {
  auto once = normalize(text);
  if (!once.ok()) return;
  auto twice = normalize(*once);
  if (twice.ok() && *twice == *once) return;
  std::fprintf(stderr, "%s not stable:\n  once:  %s\n  twice: %s\n", what, once->c_str(),
               twice.ok() ? twice->c_str() : std::string(twice.status().message()).c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckStable("Domain", [](std::string_view s) { return normalize::Domain(s); }, text);
  CheckStable("Url", [](std::string_view s) { return normalize::Url(s); }, text);
  CheckStable("Email", [](std::string_view s) { return normalize::Email(s); }, text);
  std::string dst;
  (void)normalize::DomainInto(text, &dst);
  normalize::IpAddress fast;
  bool v4 = normalize::ParseIpv4(text, &fast);
  auto ip = normalize::Ip(text);
  if (v4 && (!ip.ok() || !(*ip == fast))) std::abort();  // the fast path agrees with the full one
  if (ip.ok()) {
    auto again = normalize::Ip(normalize::FormatIp(*ip));
    if (!again.ok() || !(*again == *ip)) std::abort();
  }
  auto cidr = normalize::Cidr(text);
  if (cidr.ok()) (void)normalize::FormatPrefix(*cidr);
  for (auto algo : {"MD5", "SHA-1", "SHA-256"}) {
    auto a = normalize::ParseHashAlgo(algo);
    if (a.ok()) (void)normalize::Hash(text, *a);
  }
  return 0;
}
