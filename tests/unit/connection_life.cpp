// A connection's whole life against a scripted server: no answer ever crosses exchanges,
// whatever the framing, interim responses, stray bytes, closes and reconnects.
#include "common/connection_life.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

namespace {

using promptpack::test::run_connection_life;

std::vector<std::uint8_t> bytes(std::initializer_list<int> values) {
  std::vector<std::uint8_t> out;
  for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_life)

BOOST_AUTO_TEST_CASE(random_lives_never_cross_answers) {
  std::mt19937 rng(20261124);
  int answered = 0;
  for (int life = 0; life < 4000; ++life) {
    std::vector<std::uint8_t> script(16 + rng() % 400);
    for (auto& b : script) b = static_cast<std::uint8_t>(rng());
    const auto report = run_connection_life(script);
    BOOST_TEST_REQUIRE(report.crossed.empty(), "life " << life << ": " << report.crossed);
    answered += report.answered;
  }
  BOOST_TEST(answered > 1000);  // the scripts reach real answers, not only failures
}

// The named cases, each scripted by hand: open byte (1 = connect), read size byte (0 =
// unlimited), then per request: segment count - 1, then per segment a close byte (1 = no
// close) and a response kind.
BOOST_AUTO_TEST_CASE(interim_100_continue_is_skipped_not_taken_as_the_answer) {
  // 100 Continue, then the real answer; then a second exchange with a plain answer.
  const auto report = run_connection_life(bytes({1, 0, 1, 1, 2, 1, 0, 0, 1, 0}));
  BOOST_TEST(report.crossed.empty(), report.crossed);
  BOOST_TEST(report.answered == 2);
  BOOST_TEST(report.opens == 1);
}

BOOST_AUTO_TEST_CASE(stray_crlf_after_connection_close_never_reaches_the_next_connection) {
  // Connection: close answer plus CRLF; the next exchange opens a new connection.
  const auto report = run_connection_life(bytes({1, 0, 1, 1, 9, 1, 8, 1, 0, 0, 1, 0}));
  BOOST_TEST(report.crossed.empty(), report.crossed);
  BOOST_TEST(report.answered == 2);
  BOOST_TEST(report.opens == 2);
}

BOOST_AUTO_TEST_CASE(short_content_length_closes_and_the_leftover_is_never_read) {
  // Content-Length 3 bytes short: the answer is not used, the next exchange gets its own.
  const auto report = run_connection_life(bytes({1, 0, 0, 1, 5, 2, 1, 0, 0, 1, 0}));
  BOOST_TEST(report.crossed.empty(), report.crossed);
  BOOST_TEST(report.answered == 1);
  BOOST_TEST(report.opens == 2);
}

BOOST_AUTO_TEST_CASE(timeout_in_the_middle_of_the_headers_leaves_nothing_behind) {
  // Noise that looks like a status line, then silence (a timeout); the next connection is new.
  const auto report =
      run_connection_life(bytes({1, 0, 0, 1, 7, 6, 72, 84, 84, 80, 47, 49, 1, 0, 0, 1, 0}));
  BOOST_TEST(report.crossed.empty(), report.crossed);
  BOOST_TEST(report.answered == 1);
  BOOST_TEST(report.opens == 2);
}

BOOST_AUTO_TEST_CASE(a_duplicated_answer_is_never_given_to_the_next_exchange) {
  // The answer comes twice: the extra bytes put its framing in doubt, so it is not used, and
  // the next exchange goes on a new connection and gets its own answer.
  const auto report = run_connection_life(bytes({1, 0, 0, 1, 12, 1, 0, 0, 1, 0}));
  BOOST_TEST(report.crossed.empty(), report.crossed);
  BOOST_TEST(report.answered == 1);
  BOOST_TEST(report.opens == 2);
}

BOOST_AUTO_TEST_SUITE_END()
