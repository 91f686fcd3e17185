// Linear probing over a power-of-two table of slots keyed by nonzero 64-bit hashes.
#pragma once

#include "run/zeroed_pages.hpp"

#include <cstddef>
#include <cstdint>

namespace promptpack::run {

/// The table under id_set and id_counter. `Slot` is trivially copyable, starts with a
/// `std::uint64_t key`, and is empty when all zero (so the kernel's zeroed pages are an empty
/// table). Kept at most half full, where linear probing averages under two probes a lookup.
/// Nothing is ever removed: removal would break probe chains. Not thread-safe.
template <class Slot>
class probing_table {
 public:
  /// Keys held.
  std::size_t size() const noexcept { return used_; }

  /// Sizes the table for `keys` keys, sparing the rehashes of growing into it.
  void reserve(std::size_t keys) {
    if (keys * 2 <= slots_.size()) return;
    std::size_t size = slots_.empty() ? 1024 : slots_.size();
    while (keys * 2 > size) size *= 2;
    zeroed_array<Slot> old(size);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.key != 0) slots_[home_or_empty(s.key)] = s;
    }
  }

  /// The slot holding `key`, or nullptr.
  Slot* find(std::uint64_t key) noexcept {
    if (slots_.empty()) return nullptr;
    Slot& s = slots_[home_or_empty(key)];
    return s.key == 0 ? nullptr : &s;
  }
  const Slot* find(std::uint64_t key) const noexcept {
    return const_cast<probing_table*>(this)->find(key);
  }

  /// The slot holding `key`, claimed (its other members zero) if the key is new; `added` says
  /// which. Needs room: reserve(size() + 1) first. Slots stay put until the next reserve().
  Slot& insert(std::uint64_t key, bool& added) noexcept {
    Slot& s = slots_[home_or_empty(key)];
    added = s.key == 0;
    if (added) {
      s.key = key;
      ++used_;
    }
    return s;
  }

  /// Starts loading `key`'s home slot, so that an insert() a few keys later finds it in cache.
  void prefetch(std::uint64_t key) const noexcept {
    __builtin_prefetch(&slots_[key & (slots_.size() - 1)], 1);
  }

 private:
  std::size_t home_or_empty(std::uint64_t key) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = key & mask;
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask;
    return i;
  }

  zeroed_array<Slot> slots_;
  std::size_t used_ = 0;
};

}  // namespace promptpack::run
