// Tests for endpoint URL parsing: schemes, ports, IPv6 literals, targets and what is rejected.
#include "http/url.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "common/contains.hpp"

namespace {

using promptpack::detail::endpoint_url;
using promptpack::test::contains;

endpoint_url parse(std::string_view url) {
  std::string error;
  const auto parsed = promptpack::detail::parse_endpoint_url(url, error);
  BOOST_TEST_REQUIRE(parsed.has_value(), "'" << url << "' rejected: " << error);
  return *parsed;
}

// The error message for a URL that must be rejected.
std::string rejection(std::string_view url) {
  std::string error;
  const auto parsed = promptpack::detail::parse_endpoint_url(url, error);
  BOOST_TEST_REQUIRE(!parsed.has_value(), "'" << url << "' accepted");
  BOOST_TEST(!error.empty());
  return error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(http_default_port) {
  const auto u = parse("http://example.com");
  BOOST_TEST(!u.tls);
  BOOST_TEST(u.host == "example.com");
  BOOST_TEST(u.port == 80);
  BOOST_TEST(u.port_text == "80");
  BOOST_TEST(u.target == "/");
  BOOST_TEST(u.host_header == "example.com");
}

BOOST_AUTO_TEST_CASE(https_default_port) {
  const auto u = parse("https://api.example.com/v1/infer");
  BOOST_TEST(u.tls);
  BOOST_TEST(u.host == "api.example.com");
  BOOST_TEST(u.port == 443);
  BOOST_TEST(u.port_text == "443");
  BOOST_TEST(u.target == "/v1/infer");
  BOOST_TEST(u.host_header == "api.example.com");
}

BOOST_AUTO_TEST_CASE(explicit_port) {
  const auto u = parse("http://127.0.0.1:8080/inference");
  BOOST_TEST(u.host == "127.0.0.1");
  BOOST_TEST(u.port == 8080);
  BOOST_TEST(u.port_text == "8080");
  BOOST_TEST(u.host_header == "127.0.0.1:8080");
  BOOST_TEST(parse("https://h:1").port == 1);
  BOOST_TEST(parse("https://h:65535").port == 65535);
}

BOOST_AUTO_TEST_CASE(host_header_keeps_the_port_as_given) {
  BOOST_TEST(parse("http://h:80/").host_header == "h:80");
  BOOST_TEST(parse("https://h:443").host_header == "h:443");
  BOOST_TEST(parse("https://h:80").host_header == "h:80");
  BOOST_TEST(parse("http://localhost:9000?x").host_header == "localhost:9000");
}

BOOST_AUTO_TEST_CASE(ipv6_literal_without_port) {
  const auto u = parse("http://[::1]/inference");
  BOOST_TEST(u.host == "::1");
  BOOST_TEST(u.port == 80);
  BOOST_TEST(u.target == "/inference");
  BOOST_TEST(u.host_header == "[::1]");
}

BOOST_AUTO_TEST_CASE(ipv6_literal_with_port) {
  const auto u = parse("https://[2001:db8::7]:8443");
  BOOST_TEST(u.tls);
  BOOST_TEST(u.host == "2001:db8::7");
  BOOST_TEST(u.port == 8443);
  BOOST_TEST(u.port_text == "8443");
  BOOST_TEST(u.target == "/");
  BOOST_TEST(u.host_header == "[2001:db8::7]:8443");
}

BOOST_AUTO_TEST_CASE(path_and_query_are_kept_exactly) {
  BOOST_TEST(parse("http://h/inference?x=1&y=2").target == "/inference?x=1&y=2");
  BOOST_TEST(parse("http://h:81/a/b/?k=%20v&&z").target == "/a/b/?k=%20v&&z");
  BOOST_TEST(parse("http://h/").target == "/");
  BOOST_TEST(parse("http://h//double").target == "//double");
  // An '@' or ':' in the path is not user info or a port.
  const auto u = parse("http://h/user@x:1");
  BOOST_TEST(u.target == "/user@x:1");
  BOOST_TEST(u.port == 80);
}

BOOST_AUTO_TEST_CASE(query_without_path_gets_a_root_path) {
  const auto u = parse("http://h?q");
  BOOST_TEST(u.host == "h");
  BOOST_TEST(u.target == "/?q");
  BOOST_TEST(parse("http://h:8000?a=1&b=2").target == "/?a=1&b=2");
}

BOOST_AUTO_TEST_CASE(fragment_is_dropped) {
  BOOST_TEST(parse("http://h/p?q=1#frag").target == "/p?q=1");
  BOOST_TEST(parse("http://h/p#frag").target == "/p");
  BOOST_TEST(parse("http://h#frag").target == "/");
  BOOST_TEST(parse("http://h:90#frag").port == 90);
}

BOOST_AUTO_TEST_CASE(missing_host_is_rejected) {
  for (std::string_view url : {"http://", "https://", "http:///inference", "http://:8080/",
                               "http://?q", "http://[]:80", "https://#f"}) {
    BOOST_TEST_CONTEXT(url) {
      BOOST_TEST(contains(rejection(url), "no host"));
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_port_is_rejected) {
  for (std::string_view url :
       {"http://h:0", "http://h:70000", "http://h:65536", "http://h:abc", "http://h:80a/",
        "http://h:-1", "http://h:+80", "http://h:99999999999999999999", "http://[::1]:0",
        "http://[::1]:x"}) {
    BOOST_TEST_CONTEXT(url) {
      BOOST_TEST(contains(rejection(url), "bad port"));
    }
  }
}

BOOST_AUTO_TEST_CASE(wrong_scheme_is_rejected) {
  for (std::string_view url : {"ftp://h/", "h:80", "//h/", "http:/h", "", "httpx://h", "ws://h"}) {
    BOOST_TEST_CONTEXT(url) {
      BOOST_TEST(contains(rejection(url), "http://"));
    }
  }
}

BOOST_AUTO_TEST_CASE(user_info_is_rejected) {
  for (std::string_view url :
       {"http://user:secret@h/", "https://user@h", "http://@h", "http://u@[::1]:80"}) {
    BOOST_TEST_CONTEXT(url) {
      BOOST_TEST(contains(rejection(url), "user info"));
    }
  }
}

BOOST_AUTO_TEST_CASE(user_info_is_not_echoed) {
  const auto error = rejection("https://alice:s3cr3t@api.example.com:8443/v1?x=1");
  BOOST_TEST(!contains(error, "s3cr3t"));
  BOOST_TEST(!contains(error, "alice"));
  BOOST_TEST(contains(error, "api.example.com:8443/v1?x=1"));  // still says which URL
}

BOOST_AUTO_TEST_CASE(malformed_ipv6_literal_is_rejected) {
  BOOST_TEST(contains(rejection("http://[::1"), "unclosed"));
  BOOST_TEST(contains(rejection("http://[::1]x/"), "after its IPv6 host"));
}

BOOST_AUTO_TEST_SUITE_END()
