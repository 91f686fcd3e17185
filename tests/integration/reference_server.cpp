// purpose: the reference endpoint (`promptpack serve`) in-process: protocol, model, latency,
// faults.
#include "reference/reference_server.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <promptpack/protocol/json_text.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/http_probe.hpp"
#include "common/reference_fixture.hpp"

namespace {

using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::http_probe;
using promptpack::test::probe_response;
using promptpack::test::running_server;

using strings = std::vector<std::string>;

/// {"model":"test/model","params":{"prompt":[...]<,params>}}; `params` is raw JSON members.
std::string request_body(const strings& prompts, std::string_view params = R"("max_tokens":8)") {
  std::string body = R"({"model":"test/model","params":{"prompt":[)";
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i > 0) body.push_back(',');
    promptpack::append_json_string(body, prompts[i]);
  }
  body.push_back(']');
  if (!params.empty()) {
    body.push_back(',');
    body.append(params);
  }
  return body + "}}";
}

strings numbered_prompts(std::size_t count, std::string_view stem = "prompt number ") {
  strings prompts;
  for (std::size_t i = 0; i < count; ++i) prompts.push_back(std::string(stem) + std::to_string(i));
  return prompts;
}

/// A decoded answer body: the echoed prompts (when present), the outputs and the message.
struct answer {
  strings echoes;            ///< data[i].prompt, or "" when absent
  std::vector<bool> echoed;  ///< whether data[i] has a "prompt"
  std::vector<strings> outputs;
  std::string message;  ///< "" when absent
  bool has_message = false;
};

/// Parses a body of the protocol's answer shape; false (with a test failure) when it is not one.
bool parse_answer(const std::string& body, answer& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root)) return false;
  simdjson::dom::array data;
  if (root["data"].get_array().get(data)) return false;
  for (simdjson::dom::element entry : data) {
    std::string_view text;
    const bool echoed = entry["prompt"].get_string().get(text) == simdjson::SUCCESS;
    out.echoes.emplace_back(echoed ? text : std::string_view{});
    out.echoed.push_back(echoed);
    simdjson::dom::array outputs;
    if (entry["output"].get_array().get(outputs)) return false;
    strings& texts = out.outputs.emplace_back();
    for (simdjson::dom::element output : outputs) {
      if (output.get_string().get(text)) return false;
      texts.emplace_back(text);
    }
  }
  std::string_view message;
  if (root["message"].get_string().get(message) == simdjson::SUCCESS) {
    out.message = message;
    out.has_message = true;
  }
  return true;
}

answer require_answer(const probe_response& res) {
  answer out;
  BOOST_TEST_REQUIRE(parse_answer(res.body, out), "not an answer: " << res.body.substr(0, 200));
  return out;
}

/// POSTs and requires a 200 with a well-formed answer.
answer post_ok(http_probe& probe, const std::string& body) {
  const auto res = probe.post("/inference", body);
  BOOST_TEST_REQUIRE(res.status == 200, "status " << res.status << ": " << res.body.substr(0, 200));
  return require_answer(res);
}

/// The error shape of every refused request: {"data":[],"message":"<reason>"}.
void check_error_body(const probe_response& res) {
  const auto parsed = require_answer(res);
  BOOST_TEST(parsed.outputs.empty());
  BOOST_TEST_REQUIRE(parsed.has_message);
  BOOST_TEST(!parsed.message.empty());
  BOOST_TEST(parsed.message != "ok");
}

std::size_t word_count(std::string_view text) {
  if (text.empty()) return 0;
  std::size_t words = 1;
  for (char c : text) words += c == ' ' ? 1 : 0;
  return words;
}

reference_config with_generator(generator_kind kind) {
  reference_config config;
  config.generator = kind;
  return config;
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_server)

BOOST_AUTO_TEST_CASE(health_answers_200) {
  running_server server;
  http_probe probe(server.port());
  const auto res = probe.get("/health");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.keep_alive);
}

BOOST_AUTO_TEST_CASE(post_on_any_path_answers_the_protocol) {
  running_server server(with_generator(generator_kind::echo));
  http_probe probe(server.port());
  for (const char* target : {"/", "/inference", "/v1/some/deep/path?key=value"}) {
    BOOST_TEST_CONTEXT("target " << target) {
      const auto res = probe.post(target, request_body({"p"}));
      BOOST_TEST(res.status == 200);
      BOOST_TEST((require_answer(res).outputs == std::vector<strings>{{"p"}}));
    }
  }
}

BOOST_AUTO_TEST_CASE(hundred_prompts_answered_in_order_by_echo) {
  running_server server(with_generator(generator_kind::echo));
  http_probe probe(server.port());
  const auto prompts = numbered_prompts(100);
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_CONTEXT("prompt " << i) {
      BOOST_TEST(parsed.echoes[i] == prompts[i]);
      BOOST_TEST(parsed.outputs[i] == strings{prompts[i]});
    }
  }
  BOOST_TEST(parsed.message == "ok");
  BOOST_TEST(server.server.stats().prompts == 100u);
}

BOOST_AUTO_TEST_CASE(hundred_prompts_answered_in_order_by_text_generator) {
  running_server server;
  http_probe probe(server.port());
  const auto prompts = numbered_prompts(100);
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_CONTEXT("prompt " << i) {
      BOOST_TEST(parsed.echoes[i] == prompts[i]);
      BOOST_TEST_REQUIRE(parsed.outputs[i].size() == 1u);
      BOOST_TEST(!parsed.outputs[i][0].empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(same_request_twice_on_one_connection_gets_identical_answers) {
  running_server server;
  http_probe probe(server.port());
  const auto body = request_body(numbered_prompts(20));
  const auto first = probe.post("/inference", body);
  const auto second = probe.post("/inference", body);
  BOOST_TEST(first.status == 200);
  BOOST_TEST(second.status == 200);
  BOOST_TEST(first.keep_alive);
  BOOST_TEST(first.body == second.body);
  BOOST_TEST(server.server.stats().connections == 1u);
  BOOST_TEST(server.server.stats().requests == 2u);
}

BOOST_AUTO_TEST_CASE(text_generator_honours_max_tokens) {
  running_server server;
  http_probe probe(server.port());
  const auto prompts = numbered_prompts(5);
  for (int max_tokens : {0, 1, 5, 32, 100}) {
    BOOST_TEST_CONTEXT("max_tokens " << max_tokens) {
      const auto parsed =
          post_ok(probe, request_body(prompts, "\"max_tokens\":" + std::to_string(max_tokens)));
      BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
      for (const auto& outputs : parsed.outputs) {
        BOOST_TEST_REQUIRE(outputs.size() == 1u);
        BOOST_TEST(word_count(outputs[0]) == static_cast<std::size_t>(max_tokens),
                   "output: " << outputs[0]);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(text_generator_output_depends_on_prompt_and_every_parameter) {
  running_server server;
  const auto prompts = numbered_prompts(5);
  const std::string base = R"("max_tokens":32,"temperature":0.7,"top_p":1.0,"top_k":40)";
  const auto baseline = [&] {
    http_probe probe(server.port());
    return post_ok(probe, request_body(prompts, base)).outputs;
  }();
  BOOST_TEST_REQUIRE(baseline.size() == prompts.size());
  for (std::size_t i = 1; i < baseline.size(); ++i) BOOST_TEST((baseline[i] != baseline[0]));

  http_probe probe(server.port());
  BOOST_TEST((post_ok(probe, request_body(prompts, base)).outputs == baseline),
             "the same request on another connection must get the same answer");
  const std::vector<std::string> variants = {
      R"("max_tokens":32,"temperature":1.5,"top_p":1.0,"top_k":40)",
      R"("max_tokens":32,"temperature":0.7,"top_p":1.0,"top_k":3)",
      R"("max_tokens":32,"temperature":0.7,"top_p":0.3,"top_k":40)",
      R"("max_tokens":32,"temperature":0.7,"top_p":1.0,"top_k":40,"seed":7)",
  };
  for (const auto& params : variants) {
    BOOST_TEST_CONTEXT("params " << params) {
      const auto outputs = post_ok(probe, request_body(prompts, params)).outputs;
      BOOST_TEST_REQUIRE(outputs.size() == baseline.size());
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        BOOST_TEST((outputs[i] != baseline[i]), "prompt " << i << ": " << outputs[i][0]);
      }
      BOOST_TEST((post_ok(probe, request_body(prompts, params)).outputs == outputs));
    }
  }
}

BOOST_AUTO_TEST_CASE(n_asks_for_several_outputs_per_prompt) {
  running_server server;
  http_probe probe(server.port());
  const auto parsed = post_ok(probe, request_body({"a", "b"}, R"("max_tokens":6,"n":3)"));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == 2u);
  for (const auto& outputs : parsed.outputs) {
    BOOST_TEST_REQUIRE(outputs.size() == 3u);
    for (const auto& text : outputs) BOOST_TEST(word_count(text) == 6u);
    BOOST_TEST(outputs[0] != outputs[1]);
  }
}

BOOST_AUTO_TEST_CASE(fixed_generator_answers_one_output_without_echo) {
  running_server server(with_generator(generator_kind::fixed));
  http_probe probe(server.port());
  const auto prompts = numbered_prompts(10);
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST(!parsed.echoed[i]);
    BOOST_TEST_REQUIRE(parsed.outputs[i].size() == 1u);
    BOOST_TEST(!parsed.outputs[i][0].empty());
  }
  BOOST_TEST(parsed.message == "ok");
}

BOOST_AUTO_TEST_CASE(malformed_or_wrong_shape_gets_400_with_reason) {
  running_server server;
  http_probe probe(server.port());
  const std::vector<std::string> bad_bodies = {
      "",
      "not json",
      R"({"model":"m","params":{"prompt":["a","b")",  // truncated
      R"({"model":"m","params":{"prompt":["a"]}} trailing garbage)",
      R"({"model":"m","params":{"prompt":["a"]}}{})",
      R"([{"model":"m","params":{"prompt":["a"]}}])",
      R"({"model":"m","params":{"prompt":"a single string"}})",
      R"({"model":"m","params":{"prompt":{"0":"a"}}})",
      R"({"model":"m","params":{"prompt":["a",1]}})",
      R"({"model":"m","params":{"prompt":["a",null]}})",
      R"({"model":"m","params":{"prompt":[["a"]]}})",
      R"({"model":"m"})",
      R"({"model":"m","params":{"max_tokens":3}})",
      R"({"model":"m","params":["a"]})",
      R"({"model":"m","params":{"prompt":["a"],"max_tokens":"many"}})",
      R"({"model":"m","params":{"prompt":["a"],"max_tokens":-1}})",
      R"({"model":"m","params":{"prompt":["a"],"temperature":"hot"}})",
  };
  for (const auto& body : bad_bodies) {
    BOOST_TEST_CONTEXT("body " << body) {
      const auto res = probe.post("/inference", body);
      BOOST_TEST(res.status == 400);
      check_error_body(res);
    }
  }
  // The connection stays usable after refusals, and whitespace around the object is fine.
  const auto good = post_ok(probe, " \n" + request_body({"a"}) + "\r\n");
  BOOST_TEST(good.outputs.size() == 1u);
  BOOST_TEST(server.server.stats().connections == 1u);
}

BOOST_AUTO_TEST_CASE(body_over_max_body_bytes_gets_413) {
  reference_config config;
  config.max_body_bytes = 64 * 1024;
  running_server server(config);
  {
    http_probe probe(server.port());
    const auto fits = request_body({std::string(60 * 1024, 'x')});
    BOOST_TEST(probe.post("/inference", fits).status == 200);
  }
  for (std::size_t size : {std::size_t{65 * 1024}, std::size_t{4 << 20}}) {
    BOOST_TEST_CONTEXT("prompt of " << size << " bytes") {
      http_probe probe(server.port());
      const auto res = probe.post("/inference", request_body({std::string(size, 'x')}));
      BOOST_TEST(res.status == 413);
      check_error_body(res);
    }
  }
}

BOOST_AUTO_TEST_CASE(injected_failures_carry_retry_after_for_429_and_503) {
  for (unsigned status : {429u, 503u, 500u}) {
    BOOST_TEST_CONTEXT("fail_status " << status) {
      reference_config config;
      config.fail_rate = 1;
      config.fail_status = status;
      config.retry_after_s = 7;
      running_server server(config);
      http_probe probe(server.port());
      const auto res = probe.post("/inference", request_body({"a"}));
      BOOST_TEST(res.status == static_cast<int>(status));
      const bool has_retry_after = res.headers.count("retry-after") > 0;
      BOOST_TEST(has_retry_after == (status != 500));
      if (has_retry_after) BOOST_TEST(res.headers.at("retry-after") == "7");
    }
  }
}

BOOST_AUTO_TEST_CASE(drop_rate_closes_without_answer) {
  reference_config config;
  config.drop_rate = 1;
  running_server server(config);
  http_probe probe(server.port());
  BOOST_TEST(probe.post_expect_close("/inference", request_body({"a"})));
  // The health check is not an inference request and is never dropped.
  http_probe health(server.port());
  BOOST_TEST(health.get("/health").status == 200);
}

BOOST_AUTO_TEST_CASE(max_batch_answers_413_above_the_limit) {
  reference_config config;
  config.max_batch = 4;
  config.generator = generator_kind::echo;
  running_server server(config);
  http_probe probe(server.port());
  const auto over = probe.post("/inference", request_body(numbered_prompts(5)));
  BOOST_TEST(over.status == 413);
  check_error_body(over);
  const auto prompts = numbered_prompts(4);
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == 4u);
  for (std::size_t i = 0; i < prompts.size(); ++i)
    BOOST_TEST(parsed.outputs[i] == strings{prompts[i]});
}

BOOST_AUTO_TEST_CASE(reject_substring_answers_400_for_the_whole_batch) {
  reference_config config;
  config.reject_substring = "BAD";
  running_server server(config);
  http_probe probe(server.port());
  const auto rejected = probe.post("/inference", request_body({"fine", "this is BAD news", "ok"}));
  BOOST_TEST(rejected.status == 400);
  check_error_body(rejected);
  const auto parsed = post_ok(probe, request_body({"fine", "bad but lower case", "ok"}));
  BOOST_TEST(parsed.outputs.size() == 3u);
}

BOOST_AUTO_TEST_CASE(error_message_rate_answers_200_with_a_message_other_than_ok) {
  reference_config config;
  config.error_message_rate = 1;
  running_server server(config);
  http_probe probe(server.port());
  const auto parsed = post_ok(probe, request_body({"a", "b"}));
  BOOST_TEST_REQUIRE(parsed.has_message);
  BOOST_TEST(parsed.message != "ok");
  BOOST_TEST(!parsed.message.empty());
}

BOOST_AUTO_TEST_CASE(garbage_rate_answers_200_with_a_body_that_is_not_json) {
  reference_config config;
  config.garbage_rate = 1;
  running_server server(config);
  http_probe probe(server.port());
  const auto res = probe.post("/inference", request_body({"a"}));
  BOOST_TEST(res.status == 200);
  simdjson::dom::parser parser;
  simdjson::dom::element ignored;
  BOOST_TEST(parser.parse(res.body).get(ignored) != simdjson::SUCCESS, "body: " << res.body);
}

BOOST_AUTO_TEST_CASE(shuffle_answers_in_reverse_order_with_echoes) {
  reference_config config;
  config.shuffle = true;
  config.generator = generator_kind::echo;
  running_server server(config);
  http_probe probe(server.port());
  const auto prompts = numbered_prompts(7);
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto& expected = prompts[prompts.size() - 1 - i];
    BOOST_TEST(parsed.echoes[i] == expected);
    BOOST_TEST(parsed.outputs[i] == strings{expected});
  }
}

BOOST_AUTO_TEST_CASE(fault_dice_repeat_with_the_same_seed) {
  const auto outcomes = [] {
    reference_config config;
    config.fail_rate = 0.5;
    config.fail_status = 503;
    running_server server(config);
    http_probe probe(server.port());
    std::vector<int> statuses;
    for (int i = 0; i < 20; ++i) statuses.push_back(probe.post("/", request_body({"a"})).status);
    return statuses;
  };
  const auto first = outcomes();
  BOOST_TEST(first == outcomes());
  BOOST_TEST(std::count(first.begin(), first.end(), 503) > 0);
  BOOST_TEST(std::count(first.begin(), first.end(), 200) > 0);
}

BOOST_AUTO_TEST_CASE(latency_model_waits_at_least_the_modelled_cost) {
  struct latency_case {
    const char* name;
    double latency_ms, per_prompt_us, per_token_us;
    std::size_t prompts;
    int max_tokens;
  };
  // Lower bounds only: a loaded machine may always take longer.
  for (const latency_case& c :
       {latency_case{"base", 200, 0, 0, 1, 8}, latency_case{"per prompt", 0, 2000, 0, 100, 8},
        latency_case{"per token", 0, 0, 2000, 1, 100}}) {
    BOOST_TEST_CONTEXT(c.name) {
      reference_config config;
      config.generator = generator_kind::echo;
      config.latency_ms = c.latency_ms;
      config.per_prompt_us = c.per_prompt_us;
      config.per_token_us = c.per_token_us;
      running_server server(config);
      http_probe probe(server.port());
      const auto body = request_body(numbered_prompts(c.prompts),
                                     "\"max_tokens\":" + std::to_string(c.max_tokens));
      const auto start = std::chrono::steady_clock::now();
      const auto parsed = post_ok(probe, body);
      const double took = elapsed_ms(start);
      BOOST_TEST(parsed.outputs.size() == c.prompts);
      BOOST_TEST(took >= 200.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_escapes_round_trip_through_echo) {
  running_server server(with_generator(generator_kind::echo));
  http_probe probe(server.port());
  const strings prompts = {
      "",
      R"(say "hi")",
      R"(back\slash \\ double)",
      "tab\there\nnewline\r\nCRLF",
      std::string("nul\0byte", 8),
      "\x01\x02\x1f\x7f controls",
      "caf\xc3\xa9 \xc3\xa9",                   // é
      "smile \xf0\x9f\x98\x80",                 // 😀 (outside the BMP)
      "\xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87",  // € 中文
      "slash / and \\/ and </script>",
      R"({"model":"x","params":{"prompt":["nested"]}})",
  };
  const auto parsed = post_ok(probe, request_body(prompts));
  BOOST_TEST_REQUIRE(parsed.outputs.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_CONTEXT("prompt " << i) {
      BOOST_TEST(parsed.echoes[i] == prompts[i]);
      BOOST_TEST(parsed.outputs[i] == strings{prompts[i]});
    }
  }
}

BOOST_AUTO_TEST_CASE(escapes_written_by_other_clients_decode_exactly) {
  running_server server(with_generator(generator_kind::echo));
  http_probe probe(server.port());
  // \u escapes, a surrogate pair and an escaped solidus, as other JSON writers produce them.
  const std::string body =
      R"({"model":"m","params":{"prompt":["caf\u00e9","\ud83d\ude00","a\/b","\u0000\u001f"]}})";
  const auto parsed = post_ok(probe, body);
  const strings expected = {"caf\xc3\xa9", "\xf0\x9f\x98\x80", "a/b", std::string("\0\x1f", 2)};
  BOOST_TEST_REQUIRE(parsed.outputs.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(parsed.outputs[i] == strings{expected[i]});
  }
}

BOOST_AUTO_TEST_CASE(concurrent_connections_all_succeed) {
  reference_config config;
  config.threads = 2;
  config.generator = generator_kind::echo;
  running_server server(config);
  constexpr int connections = 8;
  constexpr int requests_each = 20;
  // Boost.Test assertions are not thread-safe: the workers only record, the main thread checks.
  std::vector<int> good(connections, 0);
  std::vector<std::string> failures(connections);
  std::vector<std::thread> workers;
  for (int w = 0; w < connections; ++w) {
    workers.emplace_back([&, w] {
      try {
        http_probe probe(server.port());
        for (int r = 0; r < requests_each; ++r) {
          const auto prompts = numbered_prompts(
              10, "worker " + std::to_string(w) + " request " + std::to_string(r) + " prompt ");
          const auto res = probe.post("/inference", request_body(prompts));
          answer parsed;
          if (res.status != 200 || !parse_answer(res.body, parsed) || parsed.outputs.size() != 10) {
            failures[w] = "status " + std::to_string(res.status) + ": " + res.body.substr(0, 200);
            return;
          }
          for (std::size_t i = 0; i < prompts.size(); ++i) {
            if (parsed.outputs[i] != strings{prompts[i]}) {
              failures[w] = "wrong answer for " + prompts[i];
              return;
            }
          }
          ++good[w];
        }
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  }
  for (auto& t : workers) t.join();
  for (int w = 0; w < connections; ++w) {
    BOOST_TEST_CONTEXT("connection " << w) {
      BOOST_TEST(failures[w].empty(), failures[w]);
      BOOST_TEST(good[w] == requests_each);
    }
  }
  BOOST_TEST(server.server.stats().connections == static_cast<std::uint64_t>(connections));
  BOOST_TEST(server.server.stats().prompts ==
             static_cast<std::uint64_t>(connections * requests_each * 10));
}

BOOST_AUTO_TEST_SUITE_END()
