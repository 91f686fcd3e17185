// Tests for the request head written before every body: its bytes, header replacement, the
// connection kept alive whatever the extra headers say, and Content-Length per body.
#include "http/request_head.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

namespace {

namespace pd = promptpack::detail;

pd::http_settings settings_with(std::vector<std::pair<std::string, std::string>> headers,
                                std::string api_key = "") {
  return {.target = "/v1/infer?x=1",
          .host_header = "gpu-7:8080",
          .api_key = std::move(api_key),
          .headers = std::move(headers)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_head)

BOOST_AUTO_TEST_CASE(writes_the_start_line_fields_and_length) {
  pd::request_head head(settings_with({{"X-Team", "a"}}, "sk-1"));
  BOOST_TEST(std::string(head.for_body(117)) ==
             "POST /v1/infer?x=1 HTTP/1.1\r\n"
             "Host: gpu-7:8080\r\n"
             "User-Agent: promptpack/0.1\r\n"
             "Content-Type: application/json\r\n"
             "Accept: application/json\r\n"
             "Authorization: Bearer sk-1\r\n"
             "X-Team: a\r\n"
             "Content-Length: 117\r\n"
             "\r\n");
  // Only the length changes from one request to the next.
  const std::string second(head.for_body(0));
  BOOST_TEST(second.ends_with("X-Team: a\r\nContent-Length: 0\r\n\r\n"), second);
}

BOOST_AUTO_TEST_CASE(extra_headers_replace_defaults_whatever_their_case) {
  pd::request_head head(settings_with({{"user-agent", "mine"}, {"content-length", "5"}}));
  const std::string text(head.for_body(9));
  BOOST_TEST(text.find("promptpack/0.1") == std::string::npos, text);
  BOOST_TEST(text.find("user-agent: mine\r\n") != std::string::npos, text);
  BOOST_TEST(text.find("content-length") == std::string::npos, text);
  BOOST_TEST(text.ends_with("Content-Length: 9\r\n\r\n"), text);
}

BOOST_AUTO_TEST_CASE(the_connection_stays_alive_whatever_the_headers_say) {
  pd::request_head head(settings_with({{"Connection", "close"}, {"Transfer-Encoding", "chunked"}}));
  const std::string text(head.for_body(3));
  BOOST_TEST(text.find("close") == std::string::npos, text);
  BOOST_TEST(text.find("chunked") == std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
