// One decoding of the input for the job and for --resume's check, so the two never disagree.
#include "run/job_input.hpp"

#include "run/custom_id_hash.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace promptpack::run {

void refuse_too_long_line(const input_line& line, const run_options& options, job_line& out,
                          std::string& error) {
  out.reset();
  out.number_as_custom_id(line.number);
  error = "line is over --max-line-bytes (" + std::to_string(options.max_line_bytes) + " bytes)";
}

id_counter job_custom_ids(int fd, const run_options& options, std::uint64_t lines) {
  const off_t start = ::lseek(fd, 0, SEEK_CUR);
  if (start < 0) throw std::system_error(errno, std::generic_category(), "cannot seek the input");
  id_counter ids;
  ids.reserve(lines / options.shard_count + 1);
  line_reader reader(fd, options.max_line_bytes, line_parser::padding());
  line_parser parser;
  job_line parsed;  // reused: no allocation per line once its strings have grown
  std::string error;
  input_line line;
  while (reader.next(line)) {
    if (!is_job_line(line, options)) continue;
    decode_job_line(parser, line, options, parsed, error);
    ids.add(custom_id_hash(parsed.custom_id));
  }
  if (::lseek(fd, start, SEEK_SET) != start)
    throw std::system_error(errno, std::generic_category(), "cannot rewind the input");
  return ids;
}

}  // namespace promptpack::run
