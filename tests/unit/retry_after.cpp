// Tests for Retry-After parsing: delay-seconds and the three HTTP-date forms, relative to a fixed
// now.
#include "retry/retry_after.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using promptpack::detail::parse_retry_after;
using time_point = std::chrono::system_clock::time_point;

// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
constexpr std::time_t example_date = 784111777;

time_point at(std::time_t t) {
  return std::chrono::system_clock::from_time_t(t);
}

const time_point now = at(example_date);

// The parsed delay in milliseconds, or -1 for nullopt (so that BOOST_TEST can print it).
long long delay_ms(std::string_view value, time_point from = now) {
  const auto delay = parse_retry_after(value, from);
  return delay ? delay->count() : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry_after)

BOOST_AUTO_TEST_CASE(delay_seconds) {
  BOOST_TEST(delay_ms("120") == 120000);
  BOOST_TEST(delay_ms("0") == 0);
  BOOST_TEST(delay_ms(" 5 ") == 5000);
  BOOST_TEST(delay_ms("\t7\t") == 7000);
  BOOST_TEST(delay_ms("007") == 7000);
  // Seconds do not depend on the clock.
  BOOST_TEST(delay_ms("3", at(0)) == 3000);
}

BOOST_AUTO_TEST_CASE(imf_fixdate) {
  BOOST_TEST(delay_ms("Sun, 06 Nov 1994 08:49:37 GMT") == 0);
  BOOST_TEST(delay_ms("Sun, 06 Nov 1994 08:51:37 GMT") == 120000);
  BOOST_TEST(delay_ms("Mon, 07 Nov 1994 08:49:37 GMT") == 86400000);
  BOOST_TEST(delay_ms("  Sun, 06 Nov 1994 08:49:47 GMT  ") == 10000);
  // Across a leap day.
  BOOST_TEST(delay_ms("Wed, 01 Mar 2000 00:00:00 GMT", at(951782400)) == 86400000);
  // A `now` between whole seconds.
  BOOST_TEST(delay_ms("Sun, 06 Nov 1994 08:49:39 GMT", now + 500ms) == 1500);
}

BOOST_AUTO_TEST_CASE(rfc_850_date) {
  BOOST_TEST(delay_ms("Sunday, 06-Nov-94 08:51:37 GMT") == 120000);
  BOOST_TEST(delay_ms("Sunday, 06-Nov-94 08:49:37 GMT") == 0);
}

BOOST_AUTO_TEST_CASE(asctime_date) {
  BOOST_TEST(delay_ms("Sun Nov  6 08:51:37 1994") == 120000);
  BOOST_TEST(delay_ms("Sun Nov 6 08:49:38 1994") == 1000);
}

BOOST_AUTO_TEST_CASE(a_date_in_the_past_is_no_delay) {
  BOOST_TEST(delay_ms("Sun, 06 Nov 1994 08:49:36 GMT") == 0);
  BOOST_TEST(delay_ms("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  BOOST_TEST(delay_ms("Sunday, 06-Nov-94 07:00:00 GMT") == 0);
  BOOST_TEST(delay_ms("Sun Nov  6 08:00:00 1994") == 0);
}

BOOST_AUTO_TEST_CASE(garbage_is_no_value) {
  for (std::string_view value : {"",
                                 "   ",
                                 "abc",
                                 "-5",
                                 "-0x10",
                                 "+5",
                                 "5s",
                                 "1.5",
                                 "1e3",
                                 "12 34",
                                 "0x10",
                                 "Sun, 06 Nov 1994 08:49:37",       // no zone
                                 "Sun, 06 Nov 1994 08:49:37 UTC",   // not GMT
                                 "Sun, 06 Foo 1994 08:49:37 GMT",   // no such month
                                 "Sun, 06 Nov 1994 8:49:37 GMT",    // a one-digit hour
                                 "Sun, 06 Nov 1994 08-49-37 GMT",   // not a clock
                                 "Sun, xx Nov 1994 08:49:37 GMT",   // not a day
                                 "Sun Nov  6 08:49:37",             // asctime without a year
                                 "Sun Nov  6 08:49:37 1994 extra",  // too many words
                                 "GMT, GMT GMT GMT GMT GMT"}) {
    BOOST_TEST_CONTEXT("'" << value << "'") {
      BOOST_TEST(delay_ms(value) == -1);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
