// Membership of custom_ids over the probing table, a block of ids at a time.
#include "run/id_set.hpp"

namespace promptpack::run {

// How far ahead insert_many() prefetches: enough to cover a cache miss with useful work.
constexpr std::size_t prefetch_distance = 8;

bool id_set::insert(std::uint64_t id_hash) {
  table_.reserve(table_.size() + 1);
  bool added = false;
  table_.insert(id_hash, added);
  return !added;
}

void id_set::insert_many(std::span<const std::uint64_t> hashes,
                         std::span<std::uint8_t> seen_before) {
  table_.reserve(table_.size() +
                 hashes.size());  // no rehash in the loop: prefetched slots stay put
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i + prefetch_distance < hashes.size()) table_.prefetch(hashes[i + prefetch_distance]);
    bool added = false;
    table_.insert(hashes[i], added);
    seen_before[i] = added ? 0 : 1;
  }
}

}  // namespace promptpack::run
