// Reads an interrupted job's output: checks it is the job's, cuts a torn record, counts ids done.
#pragma once

#include "run/id_counter.hpp"

#include <cstdint>
#include <stdexcept>
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
  std::uint64_t dropped = 0;     ///< error records removed (drop_errors), their lines to rerun
};

/// Thrown by load_resume_state, before it changes anything, when a complete line of the output
/// is not a record of this job: another program's file, or another input's records. what() names
/// the line ("line 7 ...") and says why.
class foreign_output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Opens `path` (creating it if missing) and checks every complete line: it must be a record
/// (a JSON object with a string custom_id and an output, error or response) and, when `job_ids`
/// is given (the job's custom_ids, from job_custom_ids), a record of one of the job's lines.
/// Blank lines are let be. Only then does it truncate a torn last line and fill the state. With
/// `drop_errors`, error records are removed too, so that their lines run again: the kept records
/// go to a temporary file (with the output's permissions) that replaces `path` by an atomic
/// rename (a crash meanwhile leaves `path` as it was). Throws foreign_output_error as above, and
/// std::system_error when the file can't be read or written.
resume_state load_resume_state(const std::string& path, bool drop_errors,
                               const id_counter* job_ids);

}  // namespace promptpack::run
