// Scans an output file with simdjson, one record a line, to find what is already done.
#include "run/resume_state.hpp"

#include "run/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <optional>
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

// Appends kept records to a temporary file beside the output, then swaps it in.
class record_rewriter {
 public:
  explicit record_rewriter(const std::string& path)
      : path_(path), temp_(path + ".retry-errors.tmp") {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot create", temp_);
  }
  ~record_rewriter() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_.c_str());
    }
  }
  void keep(std::string_view record) {
    buffer_.append(record).push_back('\n');
    if (buffer_.size() >= flush_bytes) flush();
  }
  void commit() {
    flush();
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) fail("cannot write", temp_);
    fd_ = -1;
    if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot replace the output with", temp_);
  }

 private:
  static constexpr std::size_t flush_bytes = 1u << 20;
  void flush() {
    std::string_view rest = buffer_;
    while (!rest.empty()) {
      const ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write", temp_);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    buffer_.clear();
  }

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  std::string buffer_;
};

resume_state load_resume_state(const std::string& path, bool drop_errors) {
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
  std::optional<record_rewriter> rewriter;
  if (drop_errors) rewriter.emplace(path);
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
      if (rewriter) rewriter->keep(line.text);
      continue;
    }
    const std::uint64_t id_hash = id_counter::hash(id);
    // An error record has a non-null "error" (an OpenAI success carries "error": null).
    simdjson::ondemand::value error;
    bool is_null = true;
    bool duplicate = false;
    const bool is_error =
        !doc.find_field_unordered("error").get(error) && !error.is_null().get(is_null) && !is_null;
    if (is_error && rewriter) {
      ++state.dropped;
      continue;
    }
    if (is_error) {
      ++state.errors;
      std::string_view message;
      duplicate = !error.find_field_unordered("message").get_string().get(message) &&
                  message.find(duplicate_id_message) != std::string_view::npos;
    }
    if (rewriter) rewriter->keep(line.text);
    ++state.records;
    (duplicate ? state.duplicates : state.done).add(id_hash);
  }
  ::close(fd);
  if (rewriter) rewriter->commit();
  return state;
}

}  // namespace promptpack::run
