// purpose: the real `promptpack` binary: `serve` end to end, --help, and usage errors.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/http_probe.hpp"

namespace {

using promptpack::test::announced_port;
using promptpack::test::child_process;
using promptpack::test::http_probe;
using promptpack::test::run_promptpack;

std::string three_prompt_body() {
  return R"({"model":"m","params":{"prompt":["one","two","three"],"max_tokens":4}})";
}

/// Number of entries in data[]; 0 when the body is not an answer.
std::size_t data_size(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array data;
  if (parser.parse(body)["data"].get_array().get(data)) return 0;
  return data.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_serve)

BOOST_AUTO_TEST_CASE(serve_prints_its_address_answers_and_exits_0_on_sigterm) {
  child_process serve(PROMPTPACK_BINARY, {"serve", "--port", "0"});
  const std::string line = serve.read_stdout_line();
  const std::uint16_t port = announced_port(line);
  BOOST_TEST_REQUIRE(port != 0, "first stdout line: '" << line << "'");
  {
    http_probe probe(port);
    const auto res = probe.post("/inference", three_prompt_body());
    BOOST_TEST(res.status == 200);
    BOOST_TEST(data_size(res.body) == 3u, res.body);
    BOOST_TEST(probe.get("/health").status == 200);
  }
  serve.send(SIGTERM);
  const auto result = serve.finish();
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
}

BOOST_AUTO_TEST_CASE(serve_flags_reach_the_server) {
  child_process serve(PROMPTPACK_BINARY, {"serve", "--port", "0", "--generator", "echo",
                                          "--max-batch", "2", "--threads", "2"});
  const std::uint16_t port = announced_port(serve.read_stdout_line());
  BOOST_TEST_REQUIRE(port != 0);
  http_probe probe(port);
  BOOST_TEST(probe.post("/", three_prompt_body()).status == 413);
  const auto res = probe.post("/", R"({"model":"m","params":{"prompt":["echo me","and me"]}})");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.body.find(R"({"prompt":"echo me","output":["echo me"]})") != std::string::npos,
             res.body);
  serve.send(SIGINT);
  const auto result = serve.finish();
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
}

BOOST_AUTO_TEST_CASE(help_lists_serve) {
  const auto result = run_promptpack({"--help"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out.find("serve") != std::string::npos, result.out);
}

BOOST_AUTO_TEST_CASE(serve_help_lists_its_options) {
  const auto result = run_promptpack({"serve", "--help"});
  BOOST_TEST(result.exit_code == 0);
  for (const char* option : {"--max-batch", "--port", "--tls-cert", "--generator", "--fail-rate"}) {
    BOOST_TEST(result.out.find(option) != std::string::npos, option << " in: " << result.out);
  }
}

BOOST_AUTO_TEST_CASE(unknown_flag_is_a_usage_error) {
  const auto result = run_promptpack({"serve", "--no-such-flag"});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("--no-such-flag") != std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_subcommand_is_a_usage_error) {
  const auto result = run_promptpack({});
  BOOST_TEST(result.exit_code != 0);
  BOOST_TEST(!result.err.empty());
}

BOOST_AUTO_TEST_CASE(tls_cert_without_key_is_a_usage_error) {
  // An existing file, so that the missing --tls-key is the only thing wrong.
  const auto cert = std::filesystem::temp_directory_path() /
                    ("promptpack-cli-cert-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(cert) << "not really a certificate\n";
  const auto result = run_promptpack({"serve", "--port", "0", "--tls-cert", cert.string()});
  std::filesystem::remove(cert);
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("--tls-key") != std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreadable_tls_files_are_a_usage_error) {
  const auto cert = std::filesystem::temp_directory_path() /
                    ("promptpack-cli-bad-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(cert) << "not really a certificate\n";
  const auto result = run_promptpack(
      {"serve", "--port", "0", "--tls-cert", cert.string(), "--tls-key", cert.string()});
  std::filesystem::remove(cert);
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(!result.err.empty());
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
