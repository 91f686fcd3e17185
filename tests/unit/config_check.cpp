// Tests for client::validate() and the constructor on request fields: control characters in the
// key, headers and URLs, and header names that are not tokens, refused with the setting named.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/contains.hpp"

namespace {

using promptpack::client;
using promptpack::client_config;
using promptpack::test::contains;

using namespace std::string_literals;

// A configuration validate() accepts; nothing listens at its endpoint, and nothing connects.
client_config valid_config() {
  client_config config;
  config.endpoints = {{"http://127.0.0.1:9/inference", 1.0}};
  config.model = "custom/m";
  config.api_key = "sk-ok_0123.456~789+/=";
  config.headers = {{"X-Request-Source", "nightly job\tv2"}, {"Accept", "application/json"}};
  return config;
}

// What validate() says of `config`; a test failure when it accepts it.
std::string refusal(const client_config& config) {
  try {
    client::validate(config);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  BOOST_ERROR("validate() accepted the configuration");
  return {};
}

// Each control character a setting may not hold, as a message names it.
struct control_character {
  std::string byte;
  std::string_view name;
};

const control_character control_characters[] = {{"\r", "CR"},    {"\n", "LF"},
                                                {"\0"s, "NUL"},  {"\x1b", "0x1b"},
                                                {"\x7f", "DEL"}, {"\x01", "0x01"}};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_check)

BOOST_AUTO_TEST_CASE(ordinary_keys_headers_and_urls_are_accepted) {
  BOOST_CHECK_NO_THROW(client::validate(valid_config()));
  auto config = valid_config();
  config.headers = {{"!#$%&'*+-.^_`|~09azAZ", "value with spaces, a tab\tand UTF-8 \xc3\xa9"}};
  BOOST_CHECK_NO_THROW(client::validate(config));
}

BOOST_AUTO_TEST_CASE(a_control_character_in_the_key_is_refused_without_showing_it) {
  for (const auto& c : control_characters) {
    BOOST_TEST_CONTEXT(c.name) {
      auto config = valid_config();
      config.api_key = "sk-SECRET" + c.byte + "Injected: 1";
      const std::string message = refusal(config);
      BOOST_TEST(contains(message, "client_config.api_key contains a control character (" +
                                       std::string(c.name) + " at byte 10); remove it"),
                 message);
      BOOST_TEST(!contains(message, "SECRET"), message);
      BOOST_TEST(!contains(message, "Injected"), message);
    }
  }
  auto config = valid_config();
  config.api_key = "sk\tkey";  // a tab is no part of a key either
  BOOST_TEST(contains(refusal(config), "HTAB at byte 3"));
}

BOOST_AUTO_TEST_CASE(a_control_character_in_a_header_value_is_refused_naming_the_header) {
  for (const auto& c : control_characters) {
    BOOST_TEST_CONTEXT(c.name) {
      auto config = valid_config();
      config.headers.push_back({"X-Tenant", "a" + c.byte + "Injected: 1"});
      const std::string message = refusal(config);
      BOOST_TEST(contains(message, "client_config.headers[2] value contains a control character (" +
                                       std::string(c.name) + " at byte 2)"),
                 message);
      BOOST_TEST(!contains(message, "Injected"), message);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_header_name_must_be_a_token) {
  for (std::string_view name : {"X Tenant", "X-Tenant:", "X(Tenant)", "X\"T\"", "T\xc3\xa9nant"}) {
    BOOST_TEST_CONTEXT(name) {
      auto config = valid_config();
      config.headers = {{std::string(name), "v"}};
      const std::string message = refusal(config);
      BOOST_TEST(contains(message, "client_config.headers[0] name holds "), message);
      BOOST_TEST(contains(message, "letters, digits"), message);
    }
  }
  auto config = valid_config();
  config.headers = {{"X-Tenant", "v"}, {"", "v"}};
  BOOST_TEST(contains(refusal(config), "client_config.headers[1] name is empty"));
  config.headers = {{"X\r\nInjected", "v"}};
  BOOST_TEST(contains(refusal(config),
                      "client_config.headers[0] name contains a control character (CR at byte 2)"));
}

BOOST_AUTO_TEST_CASE(a_control_character_in_an_endpoint_url_is_refused_naming_the_endpoint) {
  for (const auto& c : control_characters) {
    BOOST_TEST_CONTEXT(c.name) {
      auto config = valid_config();
      config.endpoints.push_back({"http://127.0.0.1:9/x" + c.byte + "Host: evil", 1.0});
      const std::string message = refusal(config);
      BOOST_TEST(
          contains(message, "client_config.endpoints[1].api_base contains a control character (" +
                                std::string(c.name) + " at byte 21)"),
          message);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_constructor_refuses_what_validate_refuses) {
  auto config = valid_config();
  config.headers.push_back({"X-Tenant", "a\r\nInjected: 1"});
  BOOST_CHECK_THROW(client{config}, std::invalid_argument);
  config = valid_config();
  config.api_key = "k\r\nX: y";
  BOOST_CHECK_THROW(client{config}, std::invalid_argument);
}

// A timeout under a millisecond rounded to none; a huge one (or a huge delay) overflowed the
// conversion to a duration, and the deadline into the past.
BOOST_AUTO_TEST_CASE(durations_must_fit_the_clock) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct duration_setting {
    double client_config::*field;
    std::string name;
    std::vector<double> refused;
  };
  const std::vector<double> timeouts_refused = {0.0, 0.0004, -1.0, 1e300, 4e7, nan};
  const std::vector<double> delays_refused = {-1.0, 1e300, nan};
  const std::vector<duration_setting> settings = {
      {&client_config::request_timeout_s, "request_timeout_s", timeouts_refused},
      {&client_config::connect_timeout_s, "connect_timeout_s", timeouts_refused},
      {&client_config::total_timeout_s, "total_timeout_s", timeouts_refused},
      {&client_config::backoff_base_ms, "backoff_base_ms", delays_refused},
      {&client_config::backoff_cap_ms, "backoff_cap_ms", delays_refused},
      {&client_config::endpoint_cooldown_s, "endpoint_cooldown_s", delays_refused},
  };
  for (const auto& setting : settings) {
    for (const double value : setting.refused) {
      auto config = valid_config();
      config.*setting.field = value;
      BOOST_TEST(contains(refusal(config), setting.name + " must be between"),
                 setting.name << " = " << value);
    }
  }
  auto config = valid_config();
  config.request_timeout_s = 0.001;
  config.total_timeout_s = 31536000;
  config.backoff_base_ms = 0;
  BOOST_CHECK_NO_THROW(client::validate(config));
}

BOOST_AUTO_TEST_SUITE_END()
