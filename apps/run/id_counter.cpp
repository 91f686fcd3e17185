// Counts per custom_id over the probing table.
#include "run/id_counter.hpp"

namespace promptpack::run {

std::uint32_t id_counter::add(std::uint64_t id_hash) {
  table_.reserve(table_.size() + 1);
  bool added = false;
  return table_.insert(id_hash, added).count++;
}

bool id_counter::take(std::uint64_t id_hash) {
  slot* s = table_.find(id_hash);
  if (s == nullptr || s->count == 0) return false;
  --s->count;
  return true;
}

std::uint32_t id_counter::count(std::uint64_t id_hash) const {
  const slot* s = table_.find(id_hash);
  return s == nullptr ? 0 : s->count;
}

}  // namespace promptpack::run
