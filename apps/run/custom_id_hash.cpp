// A word-at-a-time hash of custom_ids, finished by splitmix64's finaliser.
#include "run/custom_id_hash.hpp"

#include "run/hash_finish.hpp"

#include <cstring>

namespace promptpack::run {

namespace {

// One round per 8 bytes: a multiply and a shift, each a bijection, so two ids of one length that
// differ in a single word never collide; the splitmix64 finaliser spreads the bits at the end.
std::uint64_t mix(std::uint64_t h) noexcept {
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 31);
}

}  // namespace

std::uint64_t custom_id_hash(std::string_view id) noexcept {
  const char* p = id.data();
  std::size_t left = id.size();
  std::uint64_t h = mix(0x9e3779b97f4a7c15ULL ^ left);  // the length first: "a" and "a\0" differ
  const auto load = [](const char* at, auto word) {
    std::memcpy(&word, at, sizeof word);
    return static_cast<std::uint64_t>(word);
  };
  for (; left >= 8; p += 8, left -= 8) h = mix(h ^ load(p, std::uint64_t{}));
  // The last 1-7 bytes in fixed-size loads (a memcpy of a variable size is a library call that
  // cost as much as the rest of the hash). With the length already mixed in, each form below
  // determines the bytes it covers.
  if (left >= 4) {
    h = mix(h ^ (load(p, std::uint32_t{}) | load(p + left - 4, std::uint32_t{}) << 32));
  } else if (left > 0) {
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]));
    };
    h = mix(h ^ (byte(0) | byte(left / 2) << 8 | byte(left - 1) << 16));
  }
  return hash_finish(h);
}

}  // namespace promptpack::run
