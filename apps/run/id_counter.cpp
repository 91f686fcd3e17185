// Linear probing over a power-of-two table of 64-bit id hashes.
#include "run/id_counter.hpp"

#include "run/hash_finish.hpp"

#include <cstring>

namespace promptpack::run {

// How far ahead add_many() prefetches: enough to cover a cache miss with useful work.
constexpr std::size_t prefetch_distance = 8;

namespace {

// One round per 8 bytes: a multiply and a shift, each a bijection, so two ids of one length that
// differ in a single word never collide; the splitmix64 finaliser spreads the bits at the end.
std::uint64_t mix(std::uint64_t h) noexcept {
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 31);
}

}  // namespace

std::uint64_t id_counter::hash(std::string_view id) noexcept {
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

std::size_t id_counter::find(std::uint64_t key) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = key & mask;
  while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

void id_counter::reserve(std::size_t ids) {
  if (ids * 2 <= slots_.size()) return;  // stay at most half full
  std::size_t size = slots_.empty() ? 1024 : slots_.size();
  while (ids * 2 > size) size *= 2;
  zeroed_array<slot> old(size);
  old.swap(slots_);
  for (const slot& s : old) {
    if (s.key != 0) slots_[find(s.key)] = s;
  }
}

std::uint32_t id_counter::add(std::uint64_t id_hash) {
  reserve(used_ + 1);
  slot& s = slots_[find(id_hash)];
  if (s.key == 0) {
    s.key = id_hash;
    ++used_;
  }
  return s.count++;
}

void id_counter::add_many(std::span<const std::uint64_t> hashes,
                          std::span<std::uint32_t> previous) {
  reserve(used_ + hashes.size());  // no rehash in the loop: prefetched slots stay put
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i + prefetch_distance < hashes.size()) {
      __builtin_prefetch(&slots_[hashes[i + prefetch_distance] & mask], 1);
    }
    slot& s = slots_[find(hashes[i])];
    if (s.key == 0) {
      s.key = hashes[i];
      ++used_;
    }
    previous[i] = s.count++;
  }
}

bool id_counter::take(std::uint64_t id_hash) {
  if (slots_.empty()) return false;
  slot& s = slots_[find(id_hash)];
  if (s.key == 0 || s.count == 0) return false;
  --s.count;  // the key stays, with a zero count: removal would break probe chains
  return true;
}

std::uint32_t id_counter::count(std::uint64_t id_hash) const {
  if (slots_.empty()) return 0;
  const slot& s = slots_[find(id_hash)];
  return s.key == 0 ? 0 : s.count;
}

}  // namespace promptpack::run
