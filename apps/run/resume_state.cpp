// Scans an output file with simdjson, one record a line, to find what is already done.
#include "run/resume_state.hpp"

#include "run/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace promptpack::run {
namespace {

// Large enough for any record; the reader only needs to hold one line at a time.
constexpr std::size_t max_record_bytes = std::size_t{1} << 30;
constexpr std::size_t tail_scan_bytes = 1u << 20;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), what + " '" + path + "'");
}

// The length of the file up to and including its last newline (0 when it has none).
std::uint64_t whole_records_size(int fd, std::uint64_t size, const std::string& path) {
  std::vector<char> chunk(tail_scan_bytes);
  std::uint64_t end = size;
  while (end > 0) {
    const std::uint64_t start = end > chunk.size() ? end - chunk.size() : 0;
    const auto want = static_cast<std::size_t>(end - start);
    if (::pread(fd, chunk.data(), want, static_cast<off_t>(start)) != static_cast<ssize_t>(want)) {
      fail("cannot read the output", path);
    }
    for (std::size_t i = want; i > 0; --i) {
      if (chunk[i - 1] == '\n') return start + i;
    }
    end = start;
  }
  return 0;
}

}  // namespace

resume_state load_resume_state(const std::string& path) {
  resume_state state;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot open the output for --resume", path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail("cannot stat the output", path);
  const auto size = static_cast<std::uint64_t>(info.st_size);
  // A record is whole only once its newline is written: anything after the last newline is torn.
  const std::uint64_t whole = whole_records_size(fd, size, path);
  if (whole < size) {
    if (::ftruncate(fd, static_cast<off_t>(whole)) != 0)
      fail("cannot truncate the torn record of", path);
    state.torn_bytes = size - whole;
  }

  // Sized once for every record: growing by doubling would briefly hold two tables.
  state.done.reserve(count_lines(fd));
  line_reader reader(fd, max_record_bytes, simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  input_line line;
  while (reader.next(line)) {
    if (line.text.empty()) continue;
    simdjson::ondemand::document doc;
    std::string_view id;
    if (parser
            .iterate(line.text.data(), line.text.size(),
                     line.text.size() + simdjson::SIMDJSON_PADDING)
            .get(doc) ||
        doc.find_field_unordered("custom_id").get_string().get(id)) {
      ++state.unreadable;
      continue;
    }
    const std::uint64_t id_hash = id_counter::hash(id);
    ++state.records;
    // An error record has a non-null "error" (an OpenAI success carries "error": null).
    simdjson::ondemand::value error;
    bool is_null = true;
    bool duplicate = false;
    if (!doc.find_field_unordered("error").get(error) && !error.is_null().get(is_null) &&
        !is_null) {
      ++state.errors;
      std::string_view message;
      duplicate = !error.find_field_unordered("message").get_string().get(message) &&
                  message.find(duplicate_id_message) != std::string_view::npos;
    }
    (duplicate ? state.duplicates : state.done).add(id_hash);
  }
  ::close(fd);
  return state;
}

}  // namespace promptpack::run
