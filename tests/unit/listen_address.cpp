// Tests for --listen HOST:PORT: IPv4, bracketed IPv6, port 0, and what is refused.
#include "gateway/listen_address.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

namespace {

namespace gw = promptpack::gateway;

}  // namespace

BOOST_AUTO_TEST_SUITE(listen_address)

BOOST_AUTO_TEST_CASE(host_and_port_are_split) {
  const auto v4 = gw::parse_listen_address("0.0.0.0:8080");
  BOOST_TEST(v4.host == "0.0.0.0");
  BOOST_TEST(v4.port == 8080);
  const auto v6 = gw::parse_listen_address("[::1]:0");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.port == 0);
  BOOST_TEST(gw::http_url(v6.host, 9) == "http://[::1]:9");
  BOOST_TEST(gw::http_url("127.0.0.1", 80) == "http://127.0.0.1:80");
}

BOOST_AUTO_TEST_CASE(malformed_addresses_are_refused_with_an_example) {
  for (const std::string text : {"8080", ":8080", "host:", "host:65536", "host:-1", "host:80x",
                                 "::1:8080", "[::1:8080", "[]:80"}) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_CHECK_THROW(gw::parse_listen_address(text), std::invalid_argument);
    }
  }
  try {
    gw::parse_listen_address("nope");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("127.0.0.1:8080") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
