// A compact multiset of custom_ids (by 64-bit hash) for resume and duplicate checks.
#pragma once

#include "run/zeroed_pages.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace promptpack::run {

/// Open addressing over 64-bit hashes: 12 bytes a slot, at most half full, so a million ids cost
/// ~24 MB rather than the ~100 MB of a std::unordered_set<std::string>. Two different ids collide
/// with probability ~n^2/2^65 (1e-8 for a billion pairs). Not thread-safe.
class id_counter {
 public:
  static std::uint64_t hash(std::string_view id) noexcept;

  /// Counts one more occurrence; returns how many there were before.
  std::uint32_t add(std::uint64_t id_hash);
  /// add() for many ids at once, with the table's cache misses overlapped by prefetching:
  /// previous[i] receives what add(hashes[i]) would have returned.
  void add_many(std::span<const std::uint64_t> hashes, std::span<std::uint32_t> previous);
  /// Takes one occurrence away if there is one; returns whether there was.
  bool take(std::uint64_t id_hash);
  std::uint32_t count(std::uint64_t id_hash) const;
  std::size_t size() const noexcept { return used_; }
  /// Sizes the table for `ids` ids up front, sparing the rehashes of growing into it.
  void reserve(std::size_t ids);

 private:
  // Packed to 12 bytes (x86 loads unaligned words at full speed): a million ids then take 24 MB.
#pragma pack(push, 4)
  struct slot {
    std::uint64_t key = 0;  // 0 marks an empty slot; hash() never returns 0
    std::uint32_t count = 0;
  };
#pragma pack(pop)
  static_assert(sizeof(slot) == 12);
  std::size_t find(std::uint64_t key) const noexcept;  // slot holding key, or the empty slot

  zeroed_array<slot> slots_;  // kernel-zeroed: a zero key is an empty slot
  std::size_t used_ = 0;
};

}  // namespace promptpack::run
