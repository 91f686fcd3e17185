// Hashes for the tests of the job's id tables: ids of a counter, and a deliberate probe chain.
#pragma once

#include "run/custom_id_hash.hpp"

#include <cstdint>
#include <string>

namespace promptpack::test {

/// The hash of the custom_id "id-<i>".
inline std::uint64_t id_hash(std::size_t i) {
  return run::custom_id_hash("id-" + std::to_string(i));
}

/// Hashes that all land on the same home slot of any table up to 2^20 slots: one long probe chain.
inline std::uint64_t colliding_hash(std::size_t i) {
  return (static_cast<std::uint64_t>(i + 1) << 40) | 5;
}

}  // namespace promptpack::test
