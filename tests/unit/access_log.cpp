// Tests for the gateway's access-log line: time, method, route, status, prompts and latency.
#include "gateway/access_log.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

namespace {

namespace gw = promptpack::gateway;
using namespace std::chrono_literals;

}  // namespace

BOOST_AUTO_TEST_SUITE(access_log)

BOOST_AUTO_TEST_CASE(one_line_with_what_was_asked_and_how_it_went) {
  const auto at = std::chrono::system_clock::time_point(1'714'564'800'123ms);
  const std::string line = gw::access_log_line({.at = at,
                                                .method = "POST",
                                                .route = gw::gateway_route::chat_completions,
                                                .status = 200,
                                                .prompts = 1,
                                                .latency = 2410us});
  BOOST_TEST(line ==
             "2024-05-01T12:00:00.123Z POST /v1/chat/completions 200 prompts=1 latency_ms=2.41\n");
}

BOOST_AUTO_TEST_CASE(an_unknown_path_is_logged_as_other_and_a_long_method_is_cut) {
  const std::string line = gw::access_log_line({.at = {},
                                                .method = std::string(100, 'X'),
                                                .route = gw::gateway_route::unknown,
                                                .status = 404,
                                                .prompts = 0,
                                                .latency = 0ms});
  BOOST_TEST(line == "1970-01-01T00:00:00.000Z " + std::string(16, 'X') +
                         " other 404 prompts=0 latency_ms=0.00\n");
}

BOOST_AUTO_TEST_SUITE_END()
