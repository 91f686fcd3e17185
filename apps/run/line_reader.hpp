// Reads lines from a file descriptor in large chunks, with padding after each line for simdjson.
#pragma once

#include <promptpack/protocol/plain_json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::run {

/// One physical line. `text` excludes the newline (and a trailing \r) and is followed in memory
/// by at least `padding` readable bytes; it stays valid until the next call to next().
struct input_line {
  std::string_view text;
  std::uint64_t number = 0;  ///< 1-based physical line number
  bool too_long = false;     ///< the line was over the limit: `text` is empty, the line skipped
  /// classify_plain_text(text), when the reader found it while looking for the newline (the
  /// usual line); empty when it did not, and the parser classifies the line itself.
  std::optional<plain_text_class> text_class;
};

/// The number of lines of a regular file (a last line without a newline counts), read with
/// pread so the file position is untouched; 0 for a pipe or terminal, whose size is unknown.
std::uint64_t count_lines(int fd);

/// How many lines an input has, for a progress total and the id table's size.
struct line_count {
  std::uint64_t lines = 0;  ///< 0: unknown (a pipe or terminal)
  bool exact = true;        ///< false: estimated from the file's size and its first lines

  /// What to size an id table for up front (24 bytes a line): an estimate can be far off when
  /// the first lines are unusual, so it is trusted up to 4M lines only; the table grows past.
  std::uint64_t table_size() const {
    return exact ? lines : std::min<std::uint64_t>(lines, std::uint64_t{1} << 22);
  }
};

/// count_lines() for a file of up to 16 MiB; a larger one is estimated from its size and the
/// mean length of the lines in its first 4 MiB, because counting reads the whole file once more
/// (6% of a million-line job's CPU, all of it kernel copies).
line_count estimate_lines(int fd);

/// Not thread-safe. Throws std::system_error when reading fails.
class line_reader {
 public:
  /// `stop_requested`, when given, is polled while a pipe or terminal has nothing to read, so a
  /// signal ends an idle read within ~100 ms (the handler restarts reads: SA_RESTART).
  line_reader(int fd, std::size_t max_line_bytes, std::size_t padding,
              std::function<bool()> stop_requested = {});

  /// The next line, or false at the end of the input, or when a stop was requested while the
  /// input was idle (stopped() then says so, and a partial last line is left unread). A last
  /// line without a newline counts. A UTF-8 byte-order mark (EF BB BF) at the very start is
  /// skipped: some editors write one.
  bool next(input_line& out);
  bool stopped() const noexcept { return stopped_; }
  /// False when next() would wait for a pipe or terminal: no whole line buffered after reading
  /// what is there to read now. The caller then sends what it holds, so a trickle of lines (or a
  /// line arriving in pieces) does not keep earlier lines back. Always true for a regular file
  /// (inline: the job asks before every line).
  bool line_ready() { return regular_file_ || stream_line_ready(); }

 private:
  bool stream_line_ready();  // line_ready() for a pipe or terminal
  // Hands out the line from begin_ to `stop` (a newline, or the end of a last line).
  void take_line(input_line& out, const char* stop, bool at_newline);
  bool fill();           // reads more; false at end of input or on a stop
  bool wait_readable();  // false when a stop came first
  void skip_byte_order_mark();

  int fd_;
  std::size_t max_line_bytes_;
  std::size_t padding_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last byte read
  bool eof_ = false;
  bool stopped_ = false;
  bool regular_file_ = false;  // reads never block: nothing to poll
  std::function<bool()> stop_requested_;
  bool at_start_ = true;  // nothing read yet: a byte-order mark may come
  std::uint64_t line_number_ = 0;
};

}  // namespace promptpack::run
