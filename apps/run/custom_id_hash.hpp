// The 64-bit hash by which the job's tables know a custom_id.
#pragma once

#include <cstdint>
#include <string_view>

namespace promptpack::run {

/// Never 0 (the tables' empty slot). Two different ids collide with probability ~2^-64 a pair,
/// ~n^2/2^65 among n ids (1e-8 for a billion pairs).
std::uint64_t custom_id_hash(std::string_view id) noexcept;

}  // namespace promptpack::run
