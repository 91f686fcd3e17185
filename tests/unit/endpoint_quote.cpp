// Tests for quote_endpoint_text: what a message shows of an endpoint's words is bounded, keeps the
// key out and cannot drive a terminal.
#include "text/endpoint_quote.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "common/contains.hpp"

namespace {

using promptpack::detail::quote_endpoint_text;
using promptpack::detail::secret_redactor;
using promptpack::test::contains;

const std::string key = "sk-live-abcdefghijklmnop";

}  // namespace

BOOST_AUTO_TEST_SUITE(endpoint_quote)

BOOST_AUTO_TEST_CASE(short_text_is_quoted_whole) {
  const secret_redactor no_key("");
  BOOST_TEST(quote_endpoint_text("model overloaded", no_key, 200) == "model overloaded");
  BOOST_TEST(quote_endpoint_text("", no_key, 200) == "");
}

BOOST_AUTO_TEST_CASE(long_text_is_cut_and_says_so) {
  const secret_redactor no_key("");
  BOOST_TEST(quote_endpoint_text(std::string(300, 'x'), no_key, 200) ==
             std::string(200, 'x') + "...");
}

BOOST_AUTO_TEST_CASE(the_key_is_redacted_and_controls_escaped) {
  const secret_redactor redactor(key);
  const std::string body = "\x1b[2Jbad key " + key + "\r\npromptpack run: all done";
  const std::string quoted = quote_endpoint_text(body, redactor, 200);
  BOOST_TEST(quoted == "\\x1b[2Jbad key [redacted]\\r\\npromptpack run: all done");
}

BOOST_AUTO_TEST_CASE(a_key_across_the_cut_is_redacted_whole) {
  const secret_redactor redactor(key);
  const std::string body = std::string(190, '.') + key + std::string(100, '.');
  const std::string quoted = quote_endpoint_text(body, redactor, 200);
  BOOST_TEST(quoted == std::string(190, '.') + "[redacted]...");
  // Not even a piece of it shows.
  BOOST_TEST(!contains(quoted, key.substr(0, 10)));
}

BOOST_AUTO_TEST_CASE(escapes_never_hide_a_cut) {
  // 300 ESC bytes: the cut is made on the bytes as sent, then each becomes four characters.
  const secret_redactor no_key("");
  const std::string quoted = quote_endpoint_text(std::string(300, '\x1b'), no_key, 200);
  BOOST_TEST(quoted.size() == 200 * 4 + 3);
  BOOST_TEST(quoted.ends_with("\\x1b..."));
}

BOOST_AUTO_TEST_SUITE_END()
