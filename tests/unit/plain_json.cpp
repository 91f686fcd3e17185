// Tests for the plain-JSON cursor: the whole-text check, strings on both of its paths, short
// literal compares, and skipped values, whose grammar it must check as a parser would.
#include <promptpack/protocol/plain_json.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

using promptpack::classify_plain_text;
using promptpack::plain_json_cursor;

bool skips(std::string_view text) {
  plain_json_cursor c(text);
  return c.skip_value() && c.at_end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plain_json)

BOOST_AUTO_TEST_CASE(finds_escapes_and_controls_at_every_offset) {
  // Every position of texts of many lengths, so the 64- and 16-byte steps, the overlapping last
  // step and the short texts' byte loop are all covered.
  for (const std::size_t length : {1, 7, 15, 16, 17, 31, 40, 63, 64, 65, 79, 80}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (const char bad : {'\\', '\0', '\x1F', '\n', '\t'}) {
        std::string text(length, 'a');
        BOOST_TEST_REQUIRE(classify_plain_text(text).clean);
        text[at] = bad;
        BOOST_TEST(!classify_plain_text(text).clean,
                   "byte " << int(bad) << " at " << at << " of " << length);
        BOOST_TEST(!classify_plain_text(text).ascii);
      }
    }
  }
  BOOST_TEST(classify_plain_text("\"quotes\" and \xC3\xA9 are fine").clean);
  BOOST_TEST(classify_plain_text("").clean);
  BOOST_TEST(classify_plain_text("").ascii);
}

BOOST_AUTO_TEST_CASE(finds_bytes_above_ascii_at_every_offset) {
  for (const std::size_t length : {5, 16, 23, 100}) {
    for (std::size_t at = 0; at < length; ++at) {
      std::string text(length, 'a');
      BOOST_TEST_REQUIRE(classify_plain_text(text).ascii);
      text[at] = '\x80';
      BOOST_TEST(classify_plain_text(text).clean);
      BOOST_TEST(!classify_plain_text(text).ascii, "at " << at << " of " << length);
    }
  }
}

BOOST_AUTO_TEST_CASE(string_ends_are_found_from_every_start_in_every_text) {
  // Against a byte-by-byte search: every start, every place of the stop byte (or none), texts
  // shorter and longer than one step (16 or 32 bytes), so the steps, the overlapping last load that
  // reads bytes before the start, and the short texts' fallback are all covered.
  const auto special = [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  };
  for (std::size_t length = 0; length <= 70; ++length) {
    for (std::size_t stop_at = 0; stop_at <= length; ++stop_at) {  // == length: none
      for (const char stop : {'"', '\\', '\n'}) {
        // Starts past the stop byte, too: the overlapping load reads it but must not report it.
        std::string text(length, 'a');
        if (stop_at < length) text[stop_at] = stop;
        const char* begin = text.data();
        const char* end = begin + length;
        for (std::size_t from = 0; from <= length; ++from) {
          const char* p = begin + from;
          const char* quote = nullptr;
          const char* run_end = end;
          for (const char* q = end; q != p;) {
            --q;
            if (*q == '"') quote = q;
            if (special(*q)) run_end = q;
          }
          BOOST_TEST_REQUIRE(promptpack::find_quote(p, end, begin) == quote,
                             "length " << length << " from " << from << " stop " << stop_at);
          BOOST_TEST_REQUIRE(promptpack::find_string_special(p, end, begin) == run_end,
                             "length " << length << " from " << from << " stop " << stop_at);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(short_literals_match_as_memcmp_would_at_every_length_and_difference) {
  // Literals of 0 to 20 bytes (both sides of the one-load limit of 16), texts with 0 to 40
  // bytes left (both sides of 16), and a difference at each byte of the literal or none. The
  // literal's storage is exactly its bytes (so the helper must not read 16 of a shorter one:
  // ASan's build would see it) or padded to 16, which allows the one load.
  for (const bool padded : {false, true}) {
    for (std::size_t size = 0; size <= 20; ++size) {
      std::string storage(padded ? std::max<std::size_t>(size, 16) : size, 'x');
      for (std::size_t i = 0; i < size; ++i) storage[i] = static_cast<char>('a' + i % 26);
      const auto literal = std::make_unique<char[]>(storage.size());  // nothing readable after
      std::copy(storage.begin(), storage.end(), literal.get());
      const std::string_view text_of_literal(literal.get(), size);
      for (std::size_t left = 0; left <= 40; ++left) {
        for (std::size_t differ_at = 0; differ_at <= size; ++differ_at) {  // == size: none
          std::string text(left, 'y');
          for (std::size_t i = 0; i < std::min(size, left); ++i) text[i] = storage[i];
          if (differ_at < std::min(size, left)) text[differ_at] = '#';
          const bool expected = left >= size && std::memcmp(text.data(), storage.data(), size) == 0;
          BOOST_TEST_REQUIRE(promptpack::starts_with_short(
                                 text.data(), text.data() + left,
                                 promptpack::short_literal(
                                     text_of_literal, literal.get() + storage.size())) == expected,
                             "size " << size << " left " << left << " differ at " << differ_at
                                     << " padded " << padded);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(strings_read_alike_with_and_without_whitespace_controls) {
  // The second text has a newline between tokens, so the cursor cannot take the whole-text
  // shortcut and checks each string itself.
  for (const std::string text : {"[\"ab\", \"\", \"c d\"]", "[\"ab\",\n\"\",\t\"c d\"]"}) {
    plain_json_cursor c(text);
    std::string_view a, b, d;
    BOOST_TEST_REQUIRE(c.take('['));
    BOOST_TEST_REQUIRE(c.plain_string(a));
    BOOST_TEST_REQUIRE(c.take(','));
    BOOST_TEST_REQUIRE(c.plain_string(b));
    BOOST_TEST_REQUIRE(c.take(','));
    BOOST_TEST_REQUIRE(c.plain_string(d));
    BOOST_TEST(c.take(']'));
    BOOST_TEST(c.at_end());
    BOOST_TEST(a == "ab");
    BOOST_TEST(b.empty());
    BOOST_TEST(d == "c d");
  }
  std::string_view s;
  BOOST_TEST(!plain_json_cursor("\"a\\\"b\"").plain_string(s));  // an escaped quote
  BOOST_TEST(!plain_json_cursor("\"a\nb\"\n").plain_string(s));  // a raw newline inside
  BOOST_TEST(!plain_json_cursor("\"abc").plain_string(s));       // no closing quote
  BOOST_TEST(!plain_json_cursor("abc").plain_string(s));
}

BOOST_AUTO_TEST_CASE(skipped_values_follow_the_json_grammar) {
  for (std::string_view ok :
       {"0", "-0", "12", "-1.5e+3", "1E9", "0.25", "true", "false", "null", "\"s\"", "[]", "{}",
        "[1, [2, {\"a\": [true]}]]", "{\"t\": 0.7, \"k\": 40, \"stop\": [\"x\"]}"}) {
    BOOST_TEST(skips(ok), ok);
  }
  for (std::string_view bad :
       {"", "-", "01", ".5", "1.", "1e", "+1", "tru", "nul", "True", "[1,]", "[1 2]", "{\"a\"}",
        "{\"a\":}", "{a:1}", "[", "\"s", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"}) {
    BOOST_TEST(!skips(bad), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
