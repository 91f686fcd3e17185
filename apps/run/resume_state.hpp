// Reads an interrupted job's output: cuts a torn last record and counts the custom_ids done.
#pragma once

#include "run/id_counter.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::run {

/// The message of the error record a line gets when an earlier line has its custom_id;
/// --resume tells those records apart by it.
inline constexpr std::string_view duplicate_id_message = "its custom_id is used by an earlier line";

struct resume_state {
  id_counter done;               ///< custom_ids that already have a record
  id_counter duplicates;         ///< custom_ids with duplicate-id error records (for later lines)
  std::uint64_t records = 0;     ///< complete records found
  std::uint64_t errors = 0;      ///< of them, error records (done too: the job still exits 1)
  std::uint64_t torn_bytes = 0;  ///< bytes of a torn last record that were cut off
  std::uint64_t unreadable = 0;  ///< complete lines that are not records (left in place)
  std::uint64_t dropped = 0;     ///< error records removed (drop_errors), their lines to rerun
};

/// Opens `path` (creating it if missing), truncates a torn last line, and fills the state.
/// With `drop_errors`, error records are removed first, so that their lines run again: the kept
/// records go to a temporary file that replaces `path` by an atomic rename (a crash meanwhile
/// leaves `path` as it was). Throws std::system_error when the file can't be read or written.
resume_state load_resume_state(const std::string& path, bool drop_errors = false);

}  // namespace promptpack::run
