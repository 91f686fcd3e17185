// Chunked line splitting with SIMD scans; long lines grow the buffer up to the limit, then are
// skipped.
#include "run/line_reader.hpp"

#include "run/line_scan.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>

namespace promptpack::run {

// Reads of 256 KiB keep the syscall count negligible at a million lines a second, and are small
// enough that a chunk is still in cache when its lines are parsed (4 MiB: the same CPU, 8 MB more
// resident).
constexpr std::size_t read_chunk_bytes = 256u << 10;
constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

line_reader::line_reader(int fd, std::size_t max_line_bytes, std::size_t padding,
                         std::function<bool()> stop_requested)
    : fd_(fd),
      max_line_bytes_(max_line_bytes),
      padding_(padding),
      buffer_(read_chunk_bytes * 2 + padding),
      stop_requested_(std::move(stop_requested)) {
  struct stat info {};
  regular_file_ = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
}

bool line_reader::stream_line_ready() {
  std::size_t scanned = begin_;
  for (;;) {
    if (eof_ || stopped_ || end_ - begin_ > max_line_bytes_) return true;  // next() won't wait
    if (std::memchr(buffer_.data() + scanned, '\n', end_ - scanned) != nullptr) return true;
    pollfd readable{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&readable, 1, 0) == 0) return false;
    const std::size_t offset = end_ - begin_;  // fill() may move the unread bytes to the front
    if (!fill()) return true;
    scanned = begin_ + offset;
  }
}

bool line_reader::wait_readable() {
  if (regular_file_ || !stop_requested_) return true;
  pollfd readable{.fd = fd_, .events = POLLIN, .revents = 0};
  for (;;) {
    if (stop_requested_()) return false;
    const int ready = ::poll(&readable, 1, 100);
    // Readable, closed, or an error: read() says which.
    if (ready > 0 || (ready < 0 && errno != EINTR)) return true;
  }
}

std::uint64_t count_lines(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return 0;
  std::vector<char> chunk(read_chunk_bytes);
  std::uint64_t lines = 0;
  off_t offset = 0;
  char last = '\n';
  for (;;) {
    const ssize_t n = ::pread(fd, chunk.data(), chunk.size(), offset);
    if (n <= 0) break;
    lines += count_newlines(chunk.data(), chunk.data() + n);
    last = chunk[static_cast<std::size_t>(n) - 1];
    offset += n;
  }
  return lines + (last != '\n' ? 1 : 0);
}

line_count estimate_lines(int fd) {
  constexpr off_t counted_up_to = 16 << 20;
  constexpr std::size_t sample_bytes = 4 << 20;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return {};
  if (info.st_size <= counted_up_to) return {.lines = count_lines(fd)};
  // Left uninitialised: zeroing 4 MiB only for pread to overwrite it cost more than the count.
  const std::unique_ptr<char[]> sample(new char[sample_bytes]);
  std::size_t got = 0;
  while (got < sample_bytes) {
    const ssize_t n = ::pread(fd, sample.get() + got, sample_bytes - got, static_cast<off_t>(got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  const auto newlines =
      static_cast<std::uint64_t>(count_newlines(sample.get(), sample.get() + got));
  if (newlines == 0) return {.lines = 1, .exact = false};  // lines longer than the sample
  const double mean_line_bytes = static_cast<double>(got) / static_cast<double>(newlines);
  return {.lines = static_cast<std::uint64_t>(static_cast<double>(info.st_size) / mean_line_bytes),
          .exact = false};
}

bool line_reader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the partial line, move it to the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t capacity = buffer_.size() - padding_;
  if (capacity - end_ < read_chunk_bytes) buffer_.resize(end_ + read_chunk_bytes + padding_);
  for (;;) {
    if (!wait_readable()) {
      stopped_ = true;
      return false;
    }
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - padding_ - end_);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "cannot read the input");
  }
}

void line_reader::skip_byte_order_mark() {
  at_start_ = false;
  // More bytes are waited for only while what came could still be a mark: a pipe whose first
  // line is shorter than the mark must not hold it back.
  const auto buffered = [&] { return std::string_view(buffer_.data() + begin_, end_ - begin_); };
  while (end_ - begin_ < byte_order_mark.size() && byte_order_mark.starts_with(buffered()) &&
         fill()) {
  }
  if (std::string_view(buffer_.data() + begin_, end_ - begin_).starts_with(byte_order_mark))
    begin_ += byte_order_mark.size();
}

void line_reader::take_line(input_line& out, const char* stop, bool at_newline) {
  const char* start = buffer_.data() + begin_;
  std::size_t length = static_cast<std::size_t>(stop - start);
  out.number = ++line_number_;
  out.too_long = length > max_line_bytes_;
  // A class found with the newline counted the bytes of a dropped line, or a \r now cut off.
  if (out.too_long) out.text_class.reset();
  if (length > 0 && start[length - 1] == '\r') {
    --length;
    out.text_class.reset();
  }
  out.text = out.too_long ? std::string_view() : std::string_view(start, length);
  begin_ = static_cast<std::size_t>(stop - buffer_.data()) + (at_newline ? 1 : 0);
}

bool line_reader::next(input_line& out) {
  if (at_start_) skip_byte_order_mark();
  out.text_class.reset();
  std::size_t scanned = begin_;  // bytes before this were checked for a newline already
  if (padding_ >= line_scan_overread) {
    // The usual line, whole in the buffer: its end and its class in one pass.
    plain_text_class text_class;
    if (const char* newline =
            scan_line(buffer_.data() + begin_, buffer_.data() + end_, text_class)) {
      out.text_class = text_class;
      take_line(out, newline, true);
      return true;
    }
    scanned = end_;
  }
  for (;;) {
    const char* newline =
        static_cast<const char*>(std::memchr(buffer_.data() + scanned, '\n', end_ - scanned));
    if (newline || (eof_ && end_ > begin_)) {
      take_line(out, newline ? newline : buffer_.data() + end_, newline != nullptr);
      return true;
    }
    if (end_ - begin_ > max_line_bytes_) {
      // Over the limit: drop what we have of this line and keep dropping until its newline.
      scanned = begin_ = end_;
      for (;;) {
        if (!fill()) {
          if (stopped_) return false;
          break;
        }
        const char* nl = static_cast<const char*>(std::memchr(buffer_.data(), '\n', end_));
        if (nl) {
          begin_ = static_cast<std::size_t>(nl - buffer_.data()) + 1;
          break;
        }
        begin_ = end_;
      }
      out.number = ++line_number_;
      out.too_long = true;
      out.text = {};
      return true;
    }
    scanned = end_;
    const std::size_t offset = scanned - begin_;
    if (!fill()) {
      if (end_ == begin_ || stopped_) return false;
      scanned = begin_ + offset;
      continue;  // a last line without a newline
    }
    scanned = begin_ + offset;
  }
}

}  // namespace promptpack::run
