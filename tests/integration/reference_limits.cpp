// purpose: the reference endpoint against hostile clients: greedy parameters, huge headers and
// bodies, slow and idle connections, and more connections than it will hold.
#include <simdjson.h>
#include <algorithm>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/http_probe.hpp"
#include "common/raw_socket.hpp"
#include "common/reference_fixture.hpp"
#include "reference/reference_server.hpp"

namespace {

using namespace std::chrono_literals;
using promptpack::reference::reference_config;
using promptpack::test::http_probe;
using promptpack::test::probe_response;
using promptpack::test::raw_socket;
using promptpack::test::running_server;

// Generous bounds: a loaded machine is slow, but not as slow as the failures they catch (a
// generation that runs for tens of seconds, a connection held until the idle timeout).
constexpr double prompt_answer_ms = 2000;
constexpr auto close_bound = 5000ms;

/// A two-prompt request with the given raw JSON parameters.
std::string body_with(std::string_view params) {
  return R"({"model":"m","params":{"prompt":["a","b"],)" + std::string(params) + "}}";
}

/// The message of a refusal, which must have the protocol's error shape {"data":[],"message":..}.
std::string refusal_message(const probe_response& res) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array data;
  std::string_view message;
  BOOST_TEST_REQUIRE(parser.parse(res.body).get(root) == simdjson::SUCCESS, res.body);
  BOOST_TEST_REQUIRE(root["data"].get_array().get(data) == simdjson::SUCCESS, res.body);
  BOOST_TEST(data.size() == 0u);
  BOOST_TEST_REQUIRE(root["message"].get_string().get(message) == simdjson::SUCCESS, res.body);
  return std::string(message);
}

/// Number of outputs answered for the first prompt; 0 when the body is not an answer.
std::size_t outputs_of_first_prompt(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array outputs;
  if (parser.parse(body)["data"].at(std::size_t{0})["output"].get_array().get(outputs)) return 0;
  return outputs.size();
}

bool has_status(const std::string& received, int status) {
  return received.starts_with("HTTP/1.1 " + std::to_string(status) + " ");
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_limits)

BOOST_AUTO_TEST_CASE(max_tokens_above_the_limit_gets_400_naming_the_limit_and_flag) {
  running_server server;  // the default limit, 4096
  http_probe probe(server.port());
  const auto asked = std::chrono::steady_clock::now();
  const auto refused = probe.post("/inference", body_with(R"("max_tokens":1000000000)"));
  BOOST_TEST(elapsed_ms(asked) < prompt_answer_ms);
  BOOST_TEST(refused.status == 400);
  BOOST_TEST(refusal_message(refused) ==
             "max_tokens 1000000000 is above this server's limit of 4096 (serve "
             "--max-tokens-limit)");
  BOOST_TEST(probe.post("/inference", body_with(R"("max_tokens":4096)")).status == 200);
}

BOOST_AUTO_TEST_CASE(n_above_the_limit_gets_400_naming_the_limit_and_flag) {
  reference_config config;
  config.max_n = 4;
  running_server server(config);
  http_probe probe(server.port());
  const auto refused = probe.post("/inference", body_with(R"("max_tokens":2,"n":5)"));
  BOOST_TEST(refused.status == 400);
  BOOST_TEST(refusal_message(refused) == "n 5 is above this server's limit of 4 (serve --max-n)");
  const auto at_limit = probe.post("/inference", body_with(R"("max_tokens":2,"n":4)"));
  BOOST_TEST(at_limit.status == 200);
  BOOST_TEST(outputs_of_first_prompt(at_limit.body) == 4u, at_limit.body);
}

BOOST_AUTO_TEST_CASE(the_latency_model_cannot_be_driven_past_the_token_limit) {
  reference_config config;
  config.per_token_us = 1000;  // max_tokens 1e9 would be a wait of eleven days
  config.max_tokens_limit = 100;
  running_server server(config);
  http_probe probe(server.port());
  auto asked = std::chrono::steady_clock::now();
  BOOST_TEST(probe.post("/inference", body_with(R"("max_tokens":1000000000)")).status == 400);
  BOOST_TEST(elapsed_ms(asked) < prompt_answer_ms);
  asked = std::chrono::steady_clock::now();
  BOOST_TEST(probe.post("/inference", body_with(R"("max_tokens":100)")).status == 200);
  BOOST_TEST(elapsed_ms(asked) >= 100.0);  // the modelled cost is still waited, up to the limit
}

BOOST_AUTO_TEST_CASE(headers_over_the_limit_get_431_and_a_close) {
  running_server server;  // the default limit, 16 KiB
  const auto request_with_filler = [](std::size_t filler_bytes) {
    return "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Filler: " +
           std::string(filler_bytes, 'a') + "\r\n\r\n";
  };
  raw_socket over(server.port());
  BOOST_TEST_REQUIRE(over.send(request_with_filler(20 * 1024)));
  BOOST_TEST(over.closed_within(close_bound));
  BOOST_TEST(has_status(over.received(), 431), over.received().substr(0, 200));
  BOOST_TEST(over.received().find("--max-header-bytes") != std::string::npos, over.received());

  raw_socket under(server.port());
  BOOST_TEST_REQUIRE(under.send(request_with_filler(8 * 1024)));
  BOOST_TEST(under.closed_within(close_bound));
  BOOST_TEST(has_status(under.received(), 200), under.received().substr(0, 200));
}

BOOST_AUTO_TEST_CASE(a_body_announced_over_the_limit_gets_413_before_it_is_sent) {
  reference_config config;
  config.max_body_bytes = 1024;
  running_server server(config);
  raw_socket client(server.port());
  BOOST_TEST_REQUIRE(
      client.send("POST /inference HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                  "application/json\r\nContent-Length: 100000000\r\n\r\n"));
  BOOST_TEST(client.closed_within(close_bound));
  BOOST_TEST(has_status(client.received(), 413), client.received().substr(0, 200));
}

BOOST_AUTO_TEST_CASE(slow_requests_are_cut_off_by_the_read_timeout_while_others_are_served) {
  reference_config config;
  config.read_timeout_s = 1;
  config.idle_timeout_s = 60;     // so that only the read timeout can close the slow connections
  running_server server(config);  // one I/O thread: a slow client holding it would stall all
  constexpr std::size_t slow_clients = 10;
  std::vector<raw_socket> trickling;  // a header that never ends, one byte every 100 ms
  std::vector<raw_socket> stalled;    // a few bytes, then silence
  const auto first_bytes = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < slow_clients; ++i) {
    BOOST_TEST_REQUIRE(trickling.emplace_back(server.port())
                           .send("POST /inference HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));
    BOOST_TEST_REQUIRE(stalled.emplace_back(server.port()).send("POST /infer"));
  }

  http_probe probe(server.port());
  double slowest_answer_ms = 0;
  std::vector<bool> cut_off(slow_clients, false);
  std::size_t cut_off_count = 0;
  while (cut_off_count < slow_clients && elapsed_ms(first_bytes) < 6000) {
    const auto asked = std::chrono::steady_clock::now();
    BOOST_TEST(probe.post("/inference", body_with(R"("max_tokens":4)")).status == 200);
    slowest_answer_ms = std::max(slowest_answer_ms, elapsed_ms(asked));
    for (std::size_t i = 0; i < slow_clients; ++i) {
      if (cut_off[i]) continue;
      cut_off[i] = trickling[i].closed_within(0ms) || !trickling[i].send("a");
      if (cut_off[i]) ++cut_off_count;
    }
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(cut_off_count == slow_clients,
             "still open after " << elapsed_ms(first_bytes) << " ms");
  BOOST_TEST(slowest_answer_ms < prompt_answer_ms);
  for (auto& client : stalled) BOOST_TEST(client.closed_within(close_bound));
}

BOOST_AUTO_TEST_CASE(idle_connections_do_not_block_others_and_close_after_the_idle_timeout) {
  reference_config config;
  config.idle_timeout_s = 1;
  running_server server(config);
  const auto opened = std::chrono::steady_clock::now();
  std::vector<raw_socket> idle;
  for (int i = 0; i < 20; ++i) idle.emplace_back(server.port());
  {
    http_probe probe(server.port());
    const auto asked = std::chrono::steady_clock::now();
    BOOST_TEST(probe.post("/inference", body_with(R"("max_tokens":4)")).status == 200);
    BOOST_TEST(elapsed_ms(asked) < prompt_answer_ms);
  }
  BOOST_TEST_REQUIRE(idle.front().closed_within(close_bound));
  BOOST_TEST(elapsed_ms(opened) >= 900.0);  // not before the idle timeout (allowing clock slack)
  for (auto& client : idle) {
    BOOST_TEST(client.closed_within(close_bound));
    BOOST_TEST(client.received().empty());
  }
}

BOOST_AUTO_TEST_CASE(connections_beyond_max_connections_are_closed_until_some_close) {
  reference_config config;
  config.max_connections = 4;
  running_server server(config);
  std::vector<std::unique_ptr<http_probe>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<http_probe>(server.port()));
    BOOST_TEST(held.back()->get("/health").status == 200);
  }
  for (int i = 0; i < 3; ++i) {
    raw_socket extra(server.port());
    BOOST_TEST(extra.closed_within(close_bound));
    BOOST_TEST(extra.received().empty());
  }
  BOOST_TEST(server.server.stats().refused == 3u);
  for (auto& probe : held) BOOST_TEST(probe->get("/health").status == 200);

  held.resize(2);
  // The server gives a slot back once it sees the client close, a moment later: retry until then.
  const auto freed = std::chrono::steady_clock::now();
  bool served = false;
  while (!served && elapsed_ms(freed) < 5000) {
    try {
      http_probe again(server.port());
      served = again.get("/health").status == 200;
    } catch (const boost::system::system_error&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  BOOST_TEST(served);
}

BOOST_AUTO_TEST_SUITE_END()
