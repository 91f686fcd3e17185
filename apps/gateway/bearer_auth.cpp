// Bearer-token checks: the presented key and the gateway's are hashed, then the digests compared
// with CRYPTO_memcmp, so that neither the key's bytes nor its length leak through timing.
#include "gateway/bearer_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/beast/core/string.hpp>

#include <stdexcept>

namespace promptpack::gateway {

bearer_auth::bearer_auth(std::string_view key) {
  if (!key.empty()) key_digest_ = sha256(key);
}

bearer_auth::digest bearer_auth::sha256(std::string_view text) {
  digest out{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw std::runtime_error(
        "SHA-256 is unavailable in this OpenSSL; the API key can't be checked");
  }
  return out;
}

bearer_auth::verdict bearer_auth::check(std::string_view authorization) const {
  if (!key_digest_) return verdict::allowed;
  constexpr std::string_view scheme = "bearer ";
  // The scheme is case-insensitive (RFC 9110); the token is what follows its spaces.
  if (authorization.size() < scheme.size() ||
      !boost::beast::iequals(authorization.substr(0, scheme.size()), scheme)) {
    return verdict::missing;
  }
  std::string_view token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return verdict::missing;
  const digest presented = sha256(token);
  return CRYPTO_memcmp(presented.data(), key_digest_->data(), presented.size()) == 0
             ? verdict::allowed
             : verdict::wrong;
}

}  // namespace promptpack::gateway
