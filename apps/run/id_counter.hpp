// A compact multiset of custom_ids (by 64-bit hash), for what --resume finds in the output.
#pragma once

#include "run/probing_table.hpp"

#include <cstdint>

namespace promptpack::run {

/// 12 bytes a slot, at most half full: a million ids cost ~24 MB rather than the ~100 MB of a
/// std::unordered_map<std::string, int>. Keys are custom_id_hash() values. Not thread-safe.
class id_counter {
 public:
  /// Counts one more occurrence; returns how many there were before.
  std::uint32_t add(std::uint64_t id_hash);
  /// Takes one occurrence away if there is one; returns whether there was.
  bool take(std::uint64_t id_hash);
  std::uint32_t count(std::uint64_t id_hash) const;
  std::size_t size() const noexcept { return table_.size(); }
  void reserve(std::size_t ids) { table_.reserve(ids); }

 private:
  // Packed to 12 bytes (x86 loads unaligned words at full speed).
#pragma pack(push, 4)
  struct slot {
    std::uint64_t key;
    std::uint32_t count;  // 0 once every occurrence is taken: the key stays, for probe chains
  };
#pragma pack(pop)
  static_assert(sizeof(slot) == 12);

  probing_table<slot> table_;
};

}  // namespace promptpack::run
