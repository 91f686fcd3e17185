// Tests for escape_for_terminal: control characters of every kind escaped, all other text kept.
#include "text/terminal_text.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace {

using promptpack::detail::escape_for_terminal;
using namespace std::string_literals;

// True when printing `text` cannot act on a terminal: no C0 byte, no DEL, no C1 in any form.
bool inert(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c >= 0x80 && c < 0xa0 && (i == 0 || static_cast<unsigned char>(text[i - 1]) == 0xc2)) {
      return false;
    }
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(terminal_text)

BOOST_AUTO_TEST_CASE(printable_text_is_kept_as_is) {
  for (std::string_view text :
       {"", "plain words", "a \"quoted\" back\\slash and ~!@#$%^&*()_+{}|:<>?",
        "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xc2\xa0nbsp"}) {
    BOOST_TEST(escape_for_terminal(text) == text);
  }
}

BOOST_AUTO_TEST_CASE(line_ends_and_tabs_are_written_out) {
  BOOST_TEST(escape_for_terminal("a\nb\rc\td") == "a\\nb\\rc\\td");
  // An endpoint cannot start a line that passes for the program's own.
  BOOST_TEST(escape_for_terminal("busy\npromptpack run: 0 errors") ==
             "busy\\npromptpack run: 0 errors");
}

BOOST_AUTO_TEST_CASE(ansi_escapes_are_written_out) {
  BOOST_TEST(escape_for_terminal("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  BOOST_TEST(escape_for_terminal("\x1b]0;title\x07") == "\\x1b]0;title\\x07");
  BOOST_TEST(escape_for_terminal("\x1b[2J\x1b[H") == "\\x1b[2J\\x1b[H");
}

BOOST_AUTO_TEST_CASE(nul_and_del_are_written_out) {
  BOOST_TEST(escape_for_terminal("a\0b"s) == "a\\x00b");
  BOOST_TEST(escape_for_terminal("a\x7f") == "a\\x7f");
  BOOST_TEST(escape_for_terminal("\x01\x1f") == "\\x01\\x1f");
}

BOOST_AUTO_TEST_CASE(c1_controls_in_utf8_are_written_out) {
  BOOST_TEST(escape_for_terminal("\xc2\x9b"s + "31m") == "\\u009b31m");  // U+009B, CSI
  BOOST_TEST(escape_for_terminal("\xc2\x80\xc2\x9f") == "\\u0080\\u009f");
  BOOST_TEST(escape_for_terminal("\xc2\xa0") == "\xc2\xa0");  // U+00A0 is printable
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_are_written_out) {
  BOOST_TEST(escape_for_terminal("\x9b"s + "31m") == "\\x9b31m");  // a raw 8-bit CSI
  BOOST_TEST(escape_for_terminal("a\xff") == "a\\xff");
  BOOST_TEST(escape_for_terminal("\xe2\x82") == "\\xe2\\x82");                    // cut short
  BOOST_TEST(escape_for_terminal("\xc0\xaf") == "\\xc0\\xaf");                    // overlong '/'
  BOOST_TEST(escape_for_terminal("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
  BOOST_TEST(escape_for_terminal("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  BOOST_TEST(escape_for_terminal("\xe2\x82\xac") == "\xe2\x82\xac");              // the euro sign
}

BOOST_AUTO_TEST_CASE(no_byte_and_no_pair_of_bytes_gets_through) {
  for (int first = 0; first < 256; ++first) {
    for (int second = 0; second < 256; ++second) {
      const std::string text{static_cast<char>(first), static_cast<char>(second)};
      const std::string escaped = escape_for_terminal(text);
      BOOST_TEST_REQUIRE(inert(escaped), "bytes " << first << ", " << second);
    }
  }
}

BOOST_AUTO_TEST_CASE(escaping_twice_changes_nothing) {
  const std::string once = escape_for_terminal("\x1b[1m\xc2\x9b\xff\nend\\x1b");
  BOOST_TEST(escape_for_terminal(once) == once);
}

BOOST_AUTO_TEST_SUITE_END()
