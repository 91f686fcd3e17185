// The gateway's own API key: `Authorization: Bearer KEY`, compared in constant time.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace promptpack::gateway {

/// Checks callers' keys against the one the gateway was given. Immutable after construction:
/// safe to share between threads. Holds only a digest of the key, never the key.
class bearer_auth {
 public:
  enum class verdict { allowed, missing, wrong };

  /// An empty `key` lets every caller in.
  explicit bearer_auth(std::string_view key);

  bool required() const noexcept { return key_digest_.has_value(); }
  /// Judges the value of a request's Authorization header (empty when there is none). The time
  /// it takes does not depend on how much of the key a caller got right, nor on its length.
  verdict check(std::string_view authorization) const;

 private:
  using digest = std::array<unsigned char, 32>;
  static digest sha256(std::string_view text);

  std::optional<digest> key_digest_;
};

}  // namespace promptpack::gateway
