// The last step of the job's 64-bit hashes: splitmix64's finaliser, never returning 0.
#pragma once

#include <cstdint>

namespace promptpack::run {

/// Spreads every bit of `h` over the result (so a table may index by the low bits); 0, which the
/// id table keeps for its empty slots, becomes 1.
inline std::uint64_t hash_finish(std::uint64_t h) noexcept {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

}  // namespace promptpack::run
