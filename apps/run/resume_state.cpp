// Scans an output file with simdjson, one record a line, to find what is already done.
#include "run/resume_state.hpp"

#include "run/custom_id_hash.hpp"
#include "run/line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

namespace promptpack::run {
namespace {

// Large enough for any record; the reader only needs to hold one line at a time.
constexpr std::size_t max_record_bytes = std::size_t{1} << 30;
constexpr std::size_t tail_scan_bytes = 1u << 20;
// How much of a foreign custom_id a refusal quotes.
constexpr std::size_t quoted_id_bytes = 100;

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

// Closes a file on every way out, refusals included.
struct scoped_fd {
  int fd;
  explicit scoped_fd(int f) : fd(f) {}
  ~scoped_fd() {
    if (fd >= 0) ::close(fd);
  }
  scoped_fd(const scoped_fd&) = delete;
  scoped_fd& operator=(const scoped_fd&) = delete;
};

// What a record tells --resume.
struct record_view {
  std::string_view custom_id;  // valid until the parser's next document
  bool is_error = false;
  bool is_duplicate = false;  // an error record for a line that repeated a custom_id
};

// Whether an OpenAI record's "response" holds a 2xx "status_code": an endpoint's HTTP error is
// written there too (with "error": null), and its line must still count as failed.
bool has_success_status(simdjson::ondemand::value& response) {
  std::int64_t status = 0;
  return !response.find_field_unordered("status_code").get_int64().get(status) && status >= 200 &&
         status <= 299;
}

// Reads one complete line of an output as a record; returns why it is not one, or nullptr.
const char* read_record(simdjson::ondemand::parser& parser, std::string_view text,
                        record_view& out) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object record;
  if (parser.iterate(text.data(), text.size(), text.size() + simdjson::SIMDJSON_PADDING).get(doc) ||
      doc.get_object().get(record)) {
    return "it is not a JSON object";
  }
  if (record.find_field_unordered("custom_id").get_string().get(out.custom_id))
    return "it has no string \"custom_id\"";
  // An error record has a non-null "error" (an OpenAI success carries "error": null), or a
  // "response" without a 2xx status.
  simdjson::ondemand::value error;
  bool is_null = true;
  out.is_error =
      !record.find_field_unordered("error").get(error) && !error.is_null().get(is_null) && !is_null;
  out.is_duplicate = false;
  if (out.is_error) {
    std::string_view message;
    out.is_duplicate = !error.find_field_unordered("message").get_string().get(message) &&
                       message.find(duplicate_id_message) != std::string_view::npos;
    return nullptr;
  }
  simdjson::ondemand::value result;
  if (!record.find_field_unordered("output").get(result)) return nullptr;
  if (record.find_field_unordered("response").get(result)) {
    return "it has no \"output\", \"error\" or \"response\" (is it an input line?)";
  }
  out.is_error = !has_success_status(result);
  return nullptr;
}

[[noreturn]] void refuse(std::uint64_t line_number, const std::string& why) {
  throw foreign_output_error("line " + std::to_string(line_number) +
                             " is not a record of this job: " + why);
}

}  // namespace

// Appends kept records to a temporary file beside the output, then swaps it in.
class record_rewriter {
 public:
  record_rewriter(const std::string& path, mode_t mode)
      : path_(path), temp_(path + ".retry-errors.tmp"), mode_(mode) {
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
    // The output keeps its permissions (0600 stays 0600) through the rename.
    if (::fchmod(fd_, mode_ & 0777) != 0) fail("cannot set the permissions of", temp_);
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
  mode_t mode_;
  int fd_ = -1;
  std::string buffer_;
};

resume_state load_resume_state(const std::string& path, bool drop_errors,
                               const id_counter* job_ids) {
  resume_state state;
  const scoped_fd output(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (output.fd < 0) fail("cannot open the output for --resume", path);
  struct stat info {};
  if (::fstat(output.fd, &info) != 0) fail("cannot stat the output", path);
  const auto size = static_cast<std::uint64_t>(info.st_size);
  // A record is whole only once its newline is written: anything after the last newline is torn.
  // It is cut only once every whole line has passed, so a refused file is left as it was.
  const std::uint64_t whole = whole_records_size(output.fd, size, path);
  const std::uint64_t lines = count_lines(output.fd);
  const std::uint64_t whole_lines = whole < size ? lines - 1 : lines;

  // Sized once for every record: growing by doubling would briefly hold two tables.
  state.done.reserve(whole_lines);
  line_reader reader(output.fd, max_record_bytes, simdjson::SIMDJSON_PADDING);
  std::optional<record_rewriter> rewriter;
  if (drop_errors) rewriter.emplace(path, info.st_mode);
  simdjson::ondemand::parser parser;
  input_line line;
  record_view record;
  while (reader.next(line) && line.number <= whole_lines) {
    if (line.text.empty() && !line.too_long) continue;
    if (line.too_long) refuse(line.number, "it is over 1 GiB");
    if (const char* why = read_record(parser, line.text, record)) refuse(line.number, why);
    const std::uint64_t id_hash = custom_id_hash(record.custom_id);
    if (job_ids != nullptr && job_ids->count(id_hash) == 0) {
      const std::string_view id = record.custom_id.substr(0, quoted_id_bytes);
      refuse(line.number, "no line of the input has its custom_id '" + std::string(id) +
                              (id.size() < record.custom_id.size() ? "..." : "") + "'");
    }
    if (record.is_error && rewriter) {
      ++state.dropped;
      continue;
    }
    if (record.is_error) ++state.errors;
    if (rewriter) rewriter->keep(line.text);
    ++state.records;
    (record.is_duplicate ? state.duplicates : state.done).add(id_hash);
  }
  if (whole < size) {
    if (::ftruncate(output.fd, static_cast<off_t>(whole)) != 0)
      fail("cannot truncate the torn record of", path);
    state.torn_bytes = size - whole;
  }
  if (rewriter) rewriter->commit();
  return state;
}

}  // namespace promptpack::run
