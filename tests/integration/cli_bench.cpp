// purpose: the real `promptpack bench` binary: counts, open loop, failures, sweeps, Ctrl-C.
#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.hpp"
#include "common/contains.hpp"
#include "common/dead_port.hpp"
#include "common/jsonl_job.hpp"
#include "common/reference_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::child_process;
using promptpack::test::contains;
using promptpack::test::read_file;
using promptpack::test::run_promptpack;
using promptpack::test::running_server;
using promptpack::test::temp_dir;

reference_config endpoint(double latency_ms = 0) {
  reference_config config;
  config.generator = generator_kind::fixed;
  config.latency_ms = latency_ms;
  return config;
}

std::vector<std::string> bench_args(const std::string& api_base, std::vector<std::string> extra) {
  std::vector<std::string> args{"bench", "--api-base", api_base, "--warmup", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The --json report, parsed (kept alive by the parser).
simdjson::dom::element report(simdjson::dom::parser& parser, const std::string& path) {
  simdjson::dom::element root;
  const std::string text = read_file(path);
  BOOST_TEST_REQUIRE(parser.parse(text).get(root) == simdjson::SUCCESS, "not JSON: " << text);
  return root;
}

simdjson::dom::element member(simdjson::dom::element object, const char* key) {
  simdjson::dom::element value;
  BOOST_TEST_REQUIRE(object[key].get(value) == simdjson::SUCCESS, key);
  return value;
}

std::uint64_t number(simdjson::dom::element object, const char* key) {
  std::uint64_t value = 0;
  BOOST_TEST_REQUIRE(object[key].get_uint64().get(value) == simdjson::SUCCESS, key);
  return value;
}

double real(simdjson::dom::element object, const char* key) {
  double value = 0;
  BOOST_TEST_REQUIRE(object[key].get_double().get(value) == simdjson::SUCCESS, key);
  return value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_bench)

BOOST_AUTO_TEST_CASE(a_closed_loop_counts_every_prompt_and_every_request) {
  running_server server(endpoint());
  temp_dir dir;
  const auto r = run_promptpack(
      bench_args(server.url(), {"--prompts", "5000", "--batch-size", "100", "--connections", "4",
                                "--json", dir.file("r.json")}));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "5000 ok, 0 failed"), r.out);
  BOOST_TEST(contains(r.out, "closed loop, batch 100, 4 connections"), r.out);

  simdjson::dom::parser parser;
  const auto root = report(parser, dir.file("r.json"));
  BOOST_TEST(number(root, "prompts_ok") == 5000u);
  BOOST_TEST(number(root, "prompts_failed") == 0u);
  // Every request the endpoint answered is counted, and carries at most a batch.
  const std::uint64_t requests = number(root, "requests");
  BOOST_TEST(requests == server.server.stats().requests.load());
  BOOST_TEST(requests >= 50u);
  const double per_request = real(root, "mean_prompts_per_request");
  BOOST_TEST(per_request <= 100.0);
  BOOST_TEST(per_request * static_cast<double>(requests) == 5000.0,
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(real(root, "prompts_per_s") > 0.0);
  const auto latency = member(root, "latency_ms");
  const double p50 = real(latency, "p50"), p90 = real(latency, "p90"), p99 = real(latency, "p99"),
               p999 = real(latency, "p999"), max = real(latency, "max");
  BOOST_TEST(p50 > 0.0);
  BOOST_TEST((p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max));
  BOOST_TEST(real(root, "client_cpu_s") > 0.0);
}

BOOST_AUTO_TEST_CASE(an_open_loop_reports_the_rate_it_achieved_beside_the_rate_asked) {
  running_server server(endpoint());
  temp_dir dir;
  const auto r = run_promptpack(bench_args(
      server.url(), {"--rate", "4000", "--duration", "2", "--json", dir.file("r.json")}));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "rate          asked 4,000 prompts/s, achieved"), r.out);

  simdjson::dom::parser parser;
  const auto root = report(parser, dir.file("r.json"));
  std::string_view loop;
  BOOST_TEST_REQUIRE(root["run"]["loop"].get_string().get(loop) == simdjson::SUCCESS);
  BOOST_TEST(loop == "open");
  BOOST_TEST(real(root, "rate_requested") == 4000.0);
  // A loose band (a sanitized build on a busy machine runs here too): this checks the schedule
  // is followed, not how precisely (bench/ measures that).
  const double achieved = real(root, "rate_achieved");
  BOOST_TEST((achieved > 2000.0 && achieved < 6000.0), "achieved " << achieved);
  const std::uint64_t ok = number(root, "prompts_ok");
  BOOST_TEST((ok > 4000u && ok < 12000u), "ok " << ok);
}

BOOST_AUTO_TEST_CASE(an_endpoint_that_fails_every_prompt_is_reported_by_type_and_exits_1) {
  temp_dir dir;
  const std::string down =
      "http://127.0.0.1:" + std::to_string(promptpack::test::dead_port()) + "/inference";
  const auto r = run_promptpack(
      bench_args(down, {"--prompts", "500", "--retries", "0", "--json", dir.file("r.json")}));
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(contains(r.out, "0 ok, 500 failed (500 connection)"), r.out);
  BOOST_TEST(contains(r.err, "every prompt failed (500 connection), so nothing was measured"),
             r.err);

  simdjson::dom::parser parser;
  const auto root = report(parser, dir.file("r.json"));
  BOOST_TEST(number(root, "prompts_ok") == 0u);
  BOOST_TEST(number(root, "prompts_failed") == 500u);
  BOOST_TEST(number(member(root, "failed_by_type"), "connection") == 500u);
  // Throughput and latency are of answered prompts: failing fast must not look fast.
  BOOST_TEST(real(root, "prompts_per_s") == 0.0);
  BOOST_TEST(real(member(root, "latency_ms"), "max") == 0.0);
}

BOOST_AUTO_TEST_CASE(a_sweep_prints_one_row_per_value_and_writes_json_and_an_svg_chart) {
  running_server server(endpoint());
  temp_dir dir;
  const auto r = run_promptpack(
      bench_args(server.url(), {"--sweep", "connections=1,2", "--prompts", "2000", "--chart",
                                dir.file("c.svg"), "--json", dir.file("s.json")}));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "| connections | prompts/s |"), r.out);
  BOOST_TEST(contains(r.out, "\n| 1 | "), r.out);
  BOOST_TEST(contains(r.out, "\n| 2 | "), r.out);

  const std::string svg = read_file(dir.file("c.svg"));
  BOOST_TEST(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), svg.substr(0, 80));
  BOOST_TEST(contains(svg, "</svg>"));

  simdjson::dom::parser parser;
  const auto root = report(parser, dir.file("s.json"));
  simdjson::dom::array rows;
  BOOST_TEST_REQUIRE(root["rows"].get_array().get(rows) == simdjson::SUCCESS);
  BOOST_TEST(rows.size() == 2u);
  for (auto row : rows) BOOST_TEST(number(member(row, "result"), "prompts_ok") == 2000u);
}

BOOST_AUTO_TEST_CASE(prompts_from_a_file_are_the_ones_sent) {
  running_server server(endpoint());
  temp_dir dir;
  // Prompts of 10 and 30 bytes, in two of run's input forms.
  promptpack::test::write_file(dir.file("p.jsonl"),
                               "{\"custom_id\":\"a\",\"prompt\":\"ten bytes!\"}\n"
                               "{\"custom_id\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":"
                               "\"thirty bytes, give or take...\"}]}\n");
  const auto r =
      run_promptpack(bench_args(server.url(), {"--prompts", "100", "--prompts-file",
                                               dir.file("p.jsonl"), "--json", dir.file("r.json")}));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  simdjson::dom::parser parser;
  const auto root = report(parser, dir.file("r.json"));
  BOOST_TEST(number(root, "prompts_ok") == 100u);
  BOOST_TEST(real(member(root, "run"), "mean_prompt_bytes") == 19.5);
}

BOOST_AUTO_TEST_CASE(ctrl_c_ends_it_early_and_still_prints_what_was_measured) {
  running_server server(endpoint(5));  // 5 ms a request: a 60 s run is far from done at the signal
  child_process bench(PROMPTPACK_BINARY,
                      bench_args(server.url(), {"--duration", "60", "--connections", "2"}));
  // Signalled once it is sending (its Ctrl-C handler is in place before its first request).
  for (int i = 0; i < 2000 && server.server.stats().requests.load() < 10; ++i)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST_REQUIRE(server.server.stats().requests.load() >= 10u);
  bench.send(SIGINT);
  const auto r = bench.finish(30s);
  BOOST_TEST(r.exit_code == 130, r.err);
  BOOST_TEST(contains(r.out, "(interrupted by Ctrl-C)"), r.out);
  BOOST_TEST(contains(r.out, " ok, "), r.out);
  BOOST_TEST(!contains(r.out, "\n  prompts       0 ok"), r.out);  // it had measured something
}

BOOST_AUTO_TEST_SUITE_END()
