// The input lines a job runs (its shard's, not blank), how each decodes, and their custom_ids.
#pragma once

#include "run/id_counter.hpp"
#include "run/job_line.hpp"
#include "run/line_parser.hpp"
#include "run/line_reader.hpp"
#include "run/run_options.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::run {

/// Whether `line` gets a record in this job: it is in the job's shard and is not blank.
/// Inline: the job asks it of every line.
inline bool is_job_line(const input_line& line, const run_options& options) {
  // Per line, so the usual case costs a compare or two: no division without --shard, and a
  // line that starts with a non-blank byte (nearly all) is not searched.
  if (options.shard_count > 1 && (line.number - 1) % options.shard_count != options.shard_index)
    return false;
  if (line.too_long || (!line.text.empty() && line.text[0] != ' ' && line.text[0] != '\t'))
    return true;
  return line.text.find_first_not_of(" \t") != std::string_view::npos;
}

/// decode_job_line() of a line over --max-line-bytes: its line number as custom_id, and why.
void refuse_too_long_line(const input_line& line, const run_options& options, job_line& out,
                          std::string& error);

/// Decodes a line that is_job_line. Always sets `out.custom_id` (the line number when the line
/// has no readable one); returns false with `error` saying what is wrong when the line gets an
/// invalid_input record instead of being sent. Inline: the job decodes every line through it.
inline bool decode_job_line(line_parser& parser, const input_line& line, const run_options& options,
                            job_line& out, std::string& error) {
  if (!line.too_long) return parser.parse(line.text, line.number, out, error, line.text_class);
  refuse_too_long_line(line, options, out, error);
  return false;
}

/// The custom_ids of every line a job over the regular file `fd` gives a record to, exactly as
/// the job will decode them, read in one pass (`lines`, from count_lines, sizes the table). The
/// file position is restored afterwards. Throws std::system_error when the file can't be read.
id_counter job_custom_ids(int fd, const run_options& options, std::uint64_t lines);

}  // namespace promptpack::run
