// Tests for the line reader and count_lines: pipes and files, CRLF, blank, last and too-long lines.
#include "run/line_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

namespace run = promptpack::run;

constexpr std::size_t padding = 64;

// Writes all of `data`, `piece` bytes a call.
void write_all(int fd, std::string_view data, std::size_t piece = SIZE_MAX) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), std::min(piece, data.size()));
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A temporary file holding `content`, open for reading and removed at destruction.
class temp_file {
 public:
  explicit temp_file(std::string_view content) {
    path_ = (std::filesystem::temp_directory_path() / "promptpack-line-reader-XXXXXX").string();
    fd_ = ::mkstemp(path_.data());
    BOOST_TEST_REQUIRE(fd_ >= 0);
    write_all(fd_, content);
    BOOST_TEST_REQUIRE(::lseek(fd_, 0, SEEK_SET) == 0);
  }
  ~temp_file() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

// A pipe that a thread fills with `content`, `piece` bytes a write, so that reads split lines.
class pipe_source {
 public:
  pipe_source(std::string content, std::size_t piece) : content_(std::move(content)) {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    read_fd_ = fds[0];
    writer_ = std::thread([this, fd = fds[1], piece] {
      write_all(fd, content_, piece);
      ::close(fd);
    });
  }
  ~pipe_source() {
    char sink[1 << 16];  // drains what a reader that stopped early left, so the writer ends
    while (::read(read_fd_, sink, sizeof sink) > 0) {
    }
    writer_.join();
    ::close(read_fd_);
  }
  pipe_source(const pipe_source&) = delete;
  pipe_source& operator=(const pipe_source&) = delete;

  int fd() const { return read_fd_; }

 private:
  std::string content_;
  int read_fd_ = -1;
  std::thread writer_;
};

// Reads the padding after a line: it must be readable (an out-of-bounds read shows under ASan).
void touch_padding(std::string_view text) {
  if (text.data() == nullptr) return;
  volatile char sink = 0;
  for (std::size_t i = 0; i < padding; ++i) sink = sink ^ text.data()[text.size() + i];
}

// Every line of `fd` as "number:text;", with "!" for the text of a too-long line.
std::string read_all(int fd, std::size_t max_line_bytes) {
  run::line_reader reader(fd, max_line_bytes, padding);
  run::input_line line;
  std::string result;
  std::uint64_t expected_number = 0;
  while (reader.next(line)) {
    BOOST_TEST_REQUIRE(line.number == ++expected_number);
    if (line.too_long) BOOST_TEST(line.text.empty());
    if (line.text_class) {  // found with the newline: it must be what the parser would find
      const auto expected = promptpack::classify_plain_text(line.text);
      BOOST_TEST_REQUIRE(line.text_class->clean == expected.clean, "line " << line.number);
      BOOST_TEST_REQUIRE(line.text_class->ascii == expected.ascii, "line " << line.number);
    }
    touch_padding(line.text);
    result +=
        std::to_string(line.number) + ":" + (line.too_long ? "!" : std::string(line.text)) + ";";
  }
  BOOST_TEST(!reader.next(line));  // the end stays the end
  return result;
}

// The lines of `content`, read from a regular file; a pipe fed in small pieces must agree.
std::string lines_of(const std::string& content, std::size_t max_line_bytes = 100) {
  const temp_file file(content);
  const std::string from_file = read_all(file.fd(), max_line_bytes);
  // Byte-sized writes for small inputs; large ones in the pipe's own 64 KiB.
  const auto pieces = content.size() < 100000 ? std::vector<std::size_t>{1, 7, 4096}
                                              : std::vector<std::size_t>{1u << 16};
  for (std::size_t piece : pieces) {
    const pipe_source pipe(content, piece);
    BOOST_TEST(read_all(pipe.fd(), max_line_bytes) == from_file,
               "pipe written " << piece << " bytes at a time");
  }
  return from_file;
}

std::uint64_t count_file_lines(std::string_view content) {
  const temp_file file(content);
  return run::count_lines(file.fd());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(line_reader)

BOOST_AUTO_TEST_CASE(classifies_the_lines_it_finds) {
  // Backslashes, tabs, high bytes and CRs at both ends of lines short and long (read_all checks
  // every class the reader gives against classify_plain_text).
  std::string content;
  for (const std::string_view piece : {"\\", "\t", "\xC3\xA9", "\r", "\"", "a"}) {
    for (std::size_t length : {0, 1, 15, 16, 17, 40}) {
      content.append(piece).append(std::string(length, 'x')).append("\n");
      content.append(std::string(length, 'x')).append(piece).append("\n");
    }
  }
  content += "last, no newline \\";
  const std::string lines = lines_of(content);
  BOOST_TEST(lines.find("73:last, no newline \\;") != std::string::npos, lines);
  // The reader gives a class for the usual line, and none where the \r it counted is gone.
  const temp_file file("plain\r\nplain\n");
  run::line_reader reader(file.fd(), 100, padding);
  run::input_line line;
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(!line.text_class.has_value());
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST_REQUIRE(line.text_class.has_value());
  BOOST_TEST(line.text_class->clean);
  BOOST_TEST(line.text_class->ascii);
}

BOOST_AUTO_TEST_CASE(splits_lines) {
  BOOST_TEST(lines_of("a\nbb\nccc\n") == "1:a;2:bb;3:ccc;");
  BOOST_TEST(lines_of("{\"prompt\": \"x\"}\n{\"prompt\": \"y\"}\n") ==
             "1:{\"prompt\": \"x\"};2:{\"prompt\": \"y\"};");
}

BOOST_AUTO_TEST_CASE(last_line_without_newline) {
  BOOST_TEST(lines_of("a\nb") == "1:a;2:b;");
  BOOST_TEST(lines_of("only") == "1:only;");
}

BOOST_AUTO_TEST_CASE(crlf_is_stripped) {
  BOOST_TEST(lines_of("a\r\nb\r\n\r\nc\r") == "1:a;2:b;3:;4:c;");
  BOOST_TEST(lines_of("a\rb\n\rc\n") == "1:a\rb;2:\rc;");  // only a \r before the newline goes
}

BOOST_AUTO_TEST_CASE(blank_lines_are_empty_text) {
  BOOST_TEST(lines_of("\n\na\n\n") == "1:;2:;3:a;4:;");
  BOOST_TEST(lines_of("\n") == "1:;");
  BOOST_TEST(lines_of("") == "");
}

BOOST_AUTO_TEST_CASE(a_byte_order_mark_at_the_start_is_skipped) {
  const std::string mark = "\xEF\xBB\xBF";
  BOOST_TEST(lines_of(mark + "{\"a\": 1}\nb\n") == "1:{\"a\": 1};2:b;");
  BOOST_TEST(lines_of(mark + "\nx") == "1:;2:x;");
  BOOST_TEST(lines_of(mark) == "");
  // Only at the very start, and only whole.
  BOOST_TEST(lines_of("a\n" + mark + "b\n") == "1:a;2:" + mark + "b;");
  BOOST_TEST(lines_of("\xEF\xBB") == "1:\xEF\xBB;");
}

BOOST_AUTO_TEST_CASE(too_long_lines_are_skipped_to_their_newline) {
  const std::string at_limit(100, 'k');
  const std::string over = std::string(101, 'o');
  BOOST_TEST(lines_of("short\n" + std::string(150, 'x') + "\n" + at_limit + "\n" + over +
                      "\nafter") == "1:short;2:!;3:" + at_limit + ";4:!;5:after;");
  // At the start, back to back, and last without a newline.
  BOOST_TEST(lines_of(over + "\n" + std::string(1000, 'y') + "\nok\n" + std::string(5000, 'z')) ==
             "1:!;2:!;3:ok;4:!;");
  BOOST_TEST(lines_of(std::string(300, 'w') + "\n\n") == "1:!;2:;");
  // A dropped line with a backslash and a high byte: its class must not stay on the empty text
  // (read_all checks every class given against the text's).
  BOOST_TEST(lines_of(std::string(150, 'x') + "\\\xC3\xA9\nok\n") == "1:!;2:ok;");
}

BOOST_AUTO_TEST_CASE(too_long_line_over_several_reads) {
  // 9 MB is more than the reader's buffer: the line's end arrives in a later read.
  const std::string huge(9u << 20, 'x');
  BOOST_TEST(lines_of("first\n" + huge + "\nlast\n", 1u << 20) == "1:first;2:!;3:last;");
  BOOST_TEST(lines_of("first\n" + huge, 1u << 20) == "1:first;2:!;");
}

BOOST_AUTO_TEST_CASE(long_line_within_the_limit_grows_the_buffer) {
  const std::string big(10u << 20, 'y');
  const temp_file file("a\n" + big + "\r\nz");
  run::line_reader reader(file.fd(), 16u << 20, padding);
  run::input_line line;
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(line.text == "a");
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(!line.too_long);
  BOOST_TEST(line.number == 2u);
  BOOST_TEST((line.text == big));  // not printed: 10 MB
  touch_padding(line.text);
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(line.text == "z");
  BOOST_TEST(!reader.next(line));
}

BOOST_AUTO_TEST_CASE(many_lines_across_buffer_refills) {
  constexpr std::size_t n = 800000;  // ~10 MB: more than one 8 MB read
  std::string content;
  content.reserve(n * 13);
  for (std::size_t i = 0; i < n; ++i) content += "line-" + std::to_string(1000000 + i) + "\n";
  const temp_file file(content);
  run::line_reader reader(file.fd(), 100, padding);
  run::input_line line;
  std::size_t mismatches = 0;
  std::size_t count = 0;
  while (reader.next(line)) {
    if (line.too_long || line.number != count + 1 ||
        line.text != "line-" + std::to_string(1000000 + count)) {
      ++mismatches;
    }
    ++count;
  }
  BOOST_TEST(count == n);
  BOOST_TEST(mismatches == 0u);
  BOOST_TEST(run::count_lines(file.fd()) == n);
}

BOOST_AUTO_TEST_CASE(line_estimates_count_small_files_and_sample_large_ones) {
  const temp_file small("a\nb\nc");
  const auto counted = run::estimate_lines(small.fd());
  BOOST_TEST(counted.exact);
  BOOST_TEST(counted.lines == 3u);
  // 20 MiB of lines of 64 bytes: estimated from the first 4 MiB, within a line of the truth.
  const std::string line(63, 'x');
  std::string content;
  for (std::size_t i = 0; i < (20u << 20) / 64; ++i) content += line + "\n";
  const temp_file large(content);
  const auto estimated = run::estimate_lines(large.fd());
  BOOST_TEST(!estimated.exact);
  BOOST_TEST(estimated.lines == (20u << 20) / 64);
  // A pipe has no size: unknown.
  const pipe_source pipe("a\nb\n", 4);
  BOOST_TEST(run::estimate_lines(pipe.fd()).lines == 0u);
}

BOOST_AUTO_TEST_CASE(line_ready_says_when_a_pipe_would_keep_the_next_line_waiting) {
  int ends[2];
  BOOST_TEST_REQUIRE(::pipe(ends) == 0);
  const auto say = [&](std::string_view text) {
    BOOST_TEST_REQUIRE(::write(ends[1], text.data(), text.size()) ==
                       static_cast<ssize_t>(text.size()));
  };
  run::line_reader reader(ends[0], 100, padding, [] { return false; });
  run::input_line line;
  say("a\nb-par");  // one line and the start of the next
  BOOST_TEST(reader.line_ready());
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(line.text == "a");
  BOOST_TEST(!reader.line_ready());  // the rest of "b-part" has not come: next() would wait
  say("t\n");
  BOOST_TEST(reader.line_ready());
  BOOST_TEST_REQUIRE(reader.next(line));
  BOOST_TEST(line.text == "b-part");
  ::close(ends[1]);
  BOOST_TEST(reader.line_ready());  // the end of the input: next() says so at once
  BOOST_TEST(!reader.next(line));
  BOOST_TEST(!reader.stopped());
  ::close(ends[0]);
}

BOOST_AUTO_TEST_CASE(a_stop_ends_a_wait_on_an_idle_pipe) {
  int ends[2];
  BOOST_TEST_REQUIRE(::pipe(ends) == 0);
  std::atomic<bool> stop{false};
  run::line_reader reader(ends[0], 100, padding, [&] { return stop.load(); });
  BOOST_TEST_REQUIRE(::write(ends[1], "x\n", 2) == 2);
  run::input_line line;
  BOOST_TEST_REQUIRE(reader.next(line));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  BOOST_TEST(!reader.next(line));  // returns once the stop is seen, the pipe still open
  BOOST_TEST(reader.stopped());
  stopper.join();
  ::close(ends[1]);
  ::close(ends[0]);
}

BOOST_AUTO_TEST_CASE(count_lines_of_a_file) {
  BOOST_TEST(count_file_lines("a\nb\n") == 2u);
  BOOST_TEST(count_file_lines("a\nb") == 2u);
  BOOST_TEST(count_file_lines("") == 0u);
  BOOST_TEST(count_file_lines("\n") == 1u);
  BOOST_TEST(count_file_lines("\n\nx") == 3u);
}

BOOST_AUTO_TEST_CASE(count_lines_leaves_the_position_alone) {
  const temp_file file("a\nb\nc");
  BOOST_TEST(run::count_lines(file.fd()) == 3u);
  BOOST_TEST(read_all(file.fd(), 100) == "1:a;2:b;3:c;");
}

BOOST_AUTO_TEST_CASE(count_lines_of_a_pipe_is_zero) {
  const pipe_source pipe("a\nb\n", 4096);
  BOOST_TEST(run::count_lines(pipe.fd()) == 0u);
  BOOST_TEST(read_all(pipe.fd(), 100) == "1:a;2:b;");
}

BOOST_AUTO_TEST_CASE(read_errors_throw) {
  run::line_reader reader(-1, 100, padding);
  run::input_line line;
  BOOST_CHECK_THROW(reader.next(line), std::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
