// Tests for the gateway's error answers: OpenAI's {"error": {...}} shape and each case's status.
#include "gateway/openai_error.hpp"
#include "gateway/upstream_failure_log.hpp"

#include <simdjson.h>
#include <boost/test/unit_test.hpp>

#include <string>

namespace {

namespace gw = promptpack::gateway;

std::string json_of(const gw::openai_error& error) {
  std::string out;
  gw::append_error_json(out, error);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openai_error)

BOOST_AUTO_TEST_CASE(the_body_has_message_type_param_and_code) {
  const std::string json = json_of(gw::model_not_found("llama \"7b\""));
  simdjson::dom::parser parser;
  simdjson::dom::element error;
  BOOST_TEST_REQUIRE(parser.parse(json)["error"].get(error) == simdjson::SUCCESS, json);
  BOOST_TEST(std::string_view(error["message"]).find("llama \"7b\"") != std::string_view::npos);
  BOOST_TEST(std::string_view(error["type"]) == "invalid_request_error");
  BOOST_TEST(std::string_view(error["param"]) == "model");
  BOOST_TEST(std::string_view(error["code"]) == "model_not_found");

  const std::string no_param = json_of(gw::invalid_request("bad"));
  BOOST_TEST(
      no_param ==
      R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}})");
}

BOOST_AUTO_TEST_CASE(each_case_has_its_status) {
  BOOST_TEST(gw::invalid_request("x").status == 400u);
  BOOST_TEST(gw::missing_api_key().status == 401u);
  BOOST_TEST(gw::wrong_api_key().status == 401u);
  BOOST_TEST(gw::model_not_found("m").status == 404u);
  BOOST_TEST(gw::unknown_path("GET", "/x").status == 404u);
  BOOST_TEST(gw::wrong_method("/health", "GET").status == 405u);
  BOOST_TEST(gw::body_too_large(10).status == 413u);
  BOOST_TEST(gw::queue_full(2, 10).status == 429u);
  BOOST_TEST(gw::headers_too_large(10).status == 431u);
}

BOOST_AUTO_TEST_CASE(upstream_failures_are_502_timeouts_504_and_a_shutdown_503) {
  using promptpack::errc;
  using promptpack::prompt_error;
  const auto failed = gw::upstream_failure(prompt_error{
      .type = errc::connection, .message = "cannot connect", .http_status = 0, .attempts = 4});
  BOOST_TEST(failed.status == 502u);
  BOOST_TEST(failed.code == "connection");
  BOOST_TEST(failed.message.find("(connection)") != std::string::npos, failed.message);
  BOOST_TEST(gw::upstream_failure(prompt_error{.type = errc::timeout}).status == 504u);
  BOOST_TEST(gw::upstream_failure(prompt_error{.type = errc::cancelled}).status == 503u);
  // The engine's message (hosts, ports, the endpoint's own words) stays with the operator.
  const auto refused = gw::upstream_failure(prompt_error{
      .type = errc::http_status,
      .message = "endpoint answered HTTP 500 from 10.1.2.3:8000: secret-internal-host down",
      .http_status = 500});
  BOOST_TEST(refused.message.find("HTTP 500") != std::string::npos, refused.message);
  BOOST_TEST(refused.message.find("10.1.2.3") == std::string::npos, refused.message);
  BOOST_TEST(refused.message.find("secret-internal-host") == std::string::npos, refused.message);
}

BOOST_AUTO_TEST_CASE(upstream_failure_lines_are_throttled_to_one_a_second) {
  using promptpack::errc;
  using promptpack::prompt_error;
  using clock = gw::upstream_failure_log::clock;
  gw::upstream_failure_log log;
  const auto t0 = clock::time_point{} + std::chrono::hours(1);
  const prompt_error failure{
      .type = errc::connection, .message = "cannot connect to 10.0.0.9:80\x1b", .attempts = 4};
  const std::string first = log.line_for(failure, t0);
  BOOST_TEST(first ==
             "promptpack gateway: upstream failure (connection): cannot connect to "
             "10.0.0.9:80\\x1b\n");
  BOOST_TEST(log.line_for(failure, t0 + std::chrono::milliseconds(500)).empty());
  BOOST_TEST(log.line_for(failure, t0 + std::chrono::milliseconds(900)).empty());
  const std::string next = log.line_for(failure, t0 + std::chrono::milliseconds(1200));
  BOOST_TEST(next.find("(and 2 more since the last line)") != std::string::npos, next);
  // The end of a burst: counted, then written when the gateway stops.
  BOOST_TEST(log.line_for(failure, t0 + std::chrono::milliseconds(1300)).empty());
  BOOST_TEST(log.unreported_line() ==
             "promptpack gateway: 1 more upstream failure since the last line\n");
  BOOST_TEST(log.unreported_line().empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_path_is_quoted_escaped) {
  const std::string json = json_of(gw::unknown_path("GET", "/v1/\xff\x1b[2J"));
  simdjson::dom::parser parser;
  BOOST_TEST(parser.parse(json).error() == simdjson::SUCCESS, json);
  BOOST_TEST(json.find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
