// Tests for the one-pass line scan: the newline and the class agree with memchr and
// classify_plain_text on every mix of special bytes, lengths and alignments.
#include "run/line_scan.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace {

namespace run = promptpack::run;
using promptpack::classify_plain_text;

// Scans [data + from, data + size) of a buffer with the overread's padding after it, checked
// against a newline search and classify_plain_text.
void check_scan(const std::string& text, std::size_t from) {
  std::string buffer = text;
  buffer.append(run::line_scan_overread, '\n');  // padding full of newlines that must not count
  const char* begin = buffer.data() + from;
  const char* end = buffer.data() + text.size();
  promptpack::plain_text_class found{.clean = false, .ascii = true};
  const char* newline = run::scan_line(begin, end, found);
  const auto* expected =
      static_cast<const char*>(std::memchr(begin, '\n', static_cast<std::size_t>(end - begin)));
  BOOST_TEST_REQUIRE(newline == expected, "text of " << text.size() << " from " << from);
  if (newline == nullptr) return;
  const auto expected_class =
      classify_plain_text({begin, static_cast<std::size_t>(newline - begin)});
  BOOST_TEST_REQUIRE(found.clean == expected_class.clean, "text of " << text.size());
  BOOST_TEST_REQUIRE(found.ascii == expected_class.ascii, "text of " << text.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(line_scan)

BOOST_AUTO_TEST_CASE(one_special_byte_anywhere) {
  // Each special byte at each place of lines up to 50 bytes, before and after the newline, from
  // every start: the masks of the step that holds the newline must cut at it exactly.
  for (std::size_t length = 0; length <= 50; ++length) {
    for (std::size_t at = 0; at <= length; ++at) {
      for (const char special : {'\\', '\t', '\x01', '\x80', '"'}) {
        std::string text(length, 'a');
        text += '\n';
        text += std::string(20, 'b');
        if (at < length) text[at] = special;
        text[length + 1 + at % 20] = special;  // after the newline: must not count
        for (std::size_t from = 0; from <= std::min<std::size_t>(length, 17); ++from)
          check_scan(text, from);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(random_texts_agree_with_memchr_and_classify) {
  std::mt19937 random(7);
  const std::string alphabet = std::string("abc \"\\\t\n\r\x7F\x80\xC3\xA9\x1F") + '\0';
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 100, 'x');
    for (char& c : text) {
      // Mostly plain bytes, as lines are.
      if (random() % 8 == 0) c = alphabet[random() % alphabet.size()];
    }
    check_scan(text, 0);
  }
}

BOOST_AUTO_TEST_CASE(no_newline_is_null) {
  check_scan("", 0);
  check_scan(std::string(15, 'a'), 0);
  check_scan(std::string(16, 'a'), 0);
  check_scan(std::string(100, 'a'), 3);
}

BOOST_AUTO_TEST_CASE(counts_newlines_as_std_count_does) {
  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    std::string text(random() % 200, 'x');
    for (char& c : text) {
      if (random() % 5 == 0) c = '\n';
    }
    const auto expected = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    BOOST_TEST_REQUIRE(run::count_newlines(text.data(), text.data() + text.size()) == expected);
  }
}

BOOST_AUTO_TEST_SUITE_END()
