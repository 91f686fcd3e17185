// The set of custom_ids (by 64-bit hash) a job has read, to refuse a line that repeats one.
#pragma once

#include "run/probing_table.hpp"

#include <cstdint>
#include <span>

namespace promptpack::run {

/// 8 bytes a slot, at most half full: 2M ids take 32 MB. Every slot is a page the kernel must
/// zero on first touch, which on a virtual machine costs as much as the probes, so the slot holds
/// the key alone. Keys are custom_id_hash() values. Not thread-safe.
class id_set {
 public:
  /// Adds `id_hash`; returns whether it was there already.
  bool insert(std::uint64_t id_hash);
  /// insert() for many ids at once, with the table's cache misses overlapped by prefetching:
  /// seen_before[i] receives what insert(hashes[i]) would have returned.
  void insert_many(std::span<const std::uint64_t> hashes, std::span<std::uint8_t> seen_before);
  bool contains(std::uint64_t id_hash) const { return table_.find(id_hash) != nullptr; }
  std::size_t size() const noexcept { return table_.size(); }
  void reserve(std::size_t ids) { table_.reserve(ids); }

 private:
  struct slot {
    std::uint64_t key;
  };

  probing_table<slot> table_;
};

}  // namespace promptpack::run
