// Reads an interrupted job's output: cuts a torn last record and counts the custom_ids done.
#pragma once

#include "run/id_counter.hpp"

#include <cstdint>
#include <string>

namespace promptpack::run {

struct resume_state {
  id_counter done;                 ///< custom_ids that already have a record
  std::uint64_t records = 0;       ///< complete records found
  std::uint64_t torn_bytes = 0;    ///< bytes of a torn last record that were cut off
  std::uint64_t unreadable = 0;    ///< complete lines that are not records (left in place)
};

/// Opens `path` (creating it if missing), truncates a torn last line, and fills the state.
/// Throws std::system_error when the file can't be read or truncated.
resume_state load_resume_state(const std::string& path);

}  // namespace promptpack::run
