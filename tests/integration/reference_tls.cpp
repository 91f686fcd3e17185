// purpose: the reference endpoint over https, with a CA and server certificate made at test time.
#include <boost/test/unit_test.hpp>
#include <promptpack/protocol/json_text.hpp>
#include <string>
#include <vector>

#include "common/http_probe.hpp"
#include "common/reference_fixture.hpp"
#include "common/test_ca.hpp"
#include "reference/reference_server.hpp"

namespace {

using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::http_probe;
using promptpack::test::running_server;
using promptpack::test::test_ca;

using strings = std::vector<std::string>;

std::string request_body(const strings& prompts) {
  std::string body = R"({"model":"test/model","params":{"prompt":[)";
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i > 0) body.push_back(',');
    promptpack::append_json_string(body, prompts[i]);
  }
  return body + R"(],"max_tokens":8}})";
}

strings numbered_prompts(std::size_t count) {
  strings prompts;
  for (std::size_t i = 0; i < count; ++i) prompts.push_back("tls prompt " + std::to_string(i));
  return prompts;
}

/// data[i].output of an answer, which must be well-formed.
std::vector<strings> outputs_of(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array data;
  BOOST_TEST_REQUIRE(parser.parse(body)["data"].get_array().get(data) == simdjson::SUCCESS,
                     "not an answer: " << body.substr(0, 200));
  std::vector<strings> out;
  for (simdjson::dom::element entry : data) {
    simdjson::dom::array outputs;
    BOOST_TEST_REQUIRE(entry["output"].get_array().get(outputs) == simdjson::SUCCESS);
    strings& texts = out.emplace_back();
    for (simdjson::dom::element output : outputs) {
      std::string_view text;
      BOOST_TEST_REQUIRE(output.get_string().get(text) == simdjson::SUCCESS);
      texts.emplace_back(text);
    }
  }
  return out;
}

/// An echo server on https://127.0.0.1:<port> with a certificate from `ca`.
reference_config tls_config(const test_ca& ca) {
  reference_config config;
  config.generator = generator_kind::echo;
  config.tls_cert_file = ca.server_cert().string();
  config.tls_key_file = ca.server_key().string();
  return config;
}

void check_echoes(const std::string& body, const strings& prompts) {
  const auto outputs = outputs_of(body);
  BOOST_TEST_REQUIRE(outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) BOOST_TEST(outputs[i] == strings{prompts[i]});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_tls)

BOOST_AUTO_TEST_CASE(https_post_verified_against_the_ca_is_answered_in_order) {
  test_ca ca;
  running_server server(tls_config(ca));
  BOOST_TEST(server.server.url().starts_with("https://127.0.0.1:"));
  http_probe probe(server.port(), ca.ca_cert().string());
  const auto prompts = numbered_prompts(100);
  const auto res = probe.post("/inference", request_body(prompts));
  BOOST_TEST_REQUIRE(res.status == 200);
  check_echoes(res.body, prompts);
}

BOOST_AUTO_TEST_CASE(two_requests_on_one_tls_keep_alive_connection) {
  test_ca ca;
  running_server server(tls_config(ca));
  http_probe probe(server.port(), ca.ca_cert().string());
  const auto prompts = numbered_prompts(5);
  const auto first = probe.post("/inference", request_body(prompts));
  const auto second = probe.post("/inference", request_body(prompts));
  BOOST_TEST(first.status == 200);
  BOOST_TEST(second.status == 200);
  BOOST_TEST(first.keep_alive);
  BOOST_TEST(first.body == second.body);
  check_echoes(second.body, prompts);
  BOOST_TEST(probe.get("/health").status == 200);
  BOOST_TEST(server.server.stats().connections == 1u);
}

BOOST_AUTO_TEST_CASE(body_over_max_body_bytes_gets_413_over_tls) {
  test_ca ca;
  auto config = tls_config(ca);
  config.max_body_bytes = 64 * 1024;
  running_server server(config);
  http_probe probe(server.port(), ca.ca_cert().string());
  const auto res = probe.post("/inference", request_body({std::string(2 << 20, 'x')}));
  BOOST_TEST(res.status == 413);
  BOOST_TEST(!res.keep_alive);
}

BOOST_AUTO_TEST_CASE(untrusted_ca_fails_the_handshake) {
  test_ca ca;
  test_ca other;
  running_server server(tls_config(ca));
  BOOST_CHECK_THROW(http_probe(server.port(), other.ca_cert().string()),
                    boost::system::system_error);
  // A refused handshake leaves the server serving the clients that trust it.
  http_probe trusted(server.port(), ca.ca_cert().string());
  BOOST_TEST(trusted.post("/inference", request_body({"still here"})).status == 200);
}

BOOST_AUTO_TEST_CASE(plain_http_to_the_tls_port_gets_no_answer) {
  test_ca ca;
  running_server server(tls_config(ca));
  http_probe plain(server.port());
  BOOST_CHECK_THROW(plain.post("/inference", request_body({"a"})), boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
