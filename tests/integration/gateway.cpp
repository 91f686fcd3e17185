// purpose: `promptpack gateway` end to end, against an in-process reference endpoint that echoes
// its prompts: OpenAI's routes and objects, n > 1, streaming, errors and auth, limits and
// slowloris, batching of concurrent callers, hang-up cancellation, SIGTERM with requests in
// flight, and the official Node `openai` SDK.
#include <simdjson.h>
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "common/child_process.hpp"
#include "common/dead_port.hpp"
#include "common/gateway_process.hpp"
#include "common/raw_http.hpp"
#include "common/raw_socket.hpp"
#include "common/reference_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::gateway_process;
using promptpack::test::header_list;
using promptpack::test::http_exchange;
using promptpack::test::http_request;
using promptpack::test::probe_response;
using promptpack::test::raw_socket;
using promptpack::test::running_server;

const std::string test_key = "gateway-test-key";
const header_list with_key{{"Authorization", "Bearer " + test_key}};

// Generous bounds: a loaded machine is slow, but not as slow as the failures they catch.
constexpr auto answer_bound = 5000ms;

reference_config echo_endpoint(double latency_ms = 0) {
  reference_config config;
  config.generator = generator_kind::echo;
  config.latency_ms = latency_ms;
  return config;
}

/// Serves model "m" from `endpoint`, callers need the test key; `extra` flags follow.
std::vector<std::string> gateway_args(const running_server& endpoint,
                                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"--api-base", endpoint.url(), "--model",
                                "m",          "--api-key",    test_key};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

probe_response post(const gateway_process& gateway, std::string_view target, std::string_view body,
                    const header_list& headers = with_key) {
  return http_exchange(gateway.port(), http_request("POST", target, body, headers));
}

probe_response get(const gateway_process& gateway, std::string_view target,
                   const header_list& headers = with_key) {
  return http_exchange(gateway.port(), http_request("GET", target, {}, headers));
}

std::string chat_body(std::string_view content, std::string_view more = {}) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":")";
  body.append(content).append(R"("}])");
  if (!more.empty()) body.append(",").append(more);
  return body + "}";
}

/// A response header by its lower-case name; "" when the response has none.
std::string header(const probe_response& res, const std::string& name) {
  const auto found = res.headers.find(name);
  return found == res.headers.end() ? std::string() : found->second;
}

/// The string at a JSON pointer of `json`, or a description of what is there instead.
std::string string_at(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (parser.parse(json).at_pointer(pointer).get_string().get(value)) {
    return "<no string at " + std::string(pointer) + ">";
  }
  return std::string(value);
}

std::int64_t int_at(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::int64_t value = -1;
  if (parser.parse(json).at_pointer(pointer).get_int64().get(value)) return -1;
  return value;
}

std::size_t size_at(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(json).at_pointer(pointer).get_array().get(array)) return 0;
  return array.size();
}

/// The `data:` payloads of a Server-Sent Events body, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> events;
  std::size_t at = 0;
  while (at < body.size()) {
    const auto end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    const std::string event = body.substr(at, end - at);
    if (event.starts_with("data: ")) events.push_back(event.substr(6));
    at = end + 2;
  }
  return events;
}

/// The value of one sample line of a /metrics page, or -1 when the page has no such line.
double metric(const std::string& page, const std::string& sample) {
  const auto at = page.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(page.c_str() + at + sample.size() + 2, nullptr);
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

/// `name` on PATH, or "" (posix_spawn does not search PATH).
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::filesystem::path candidate =
        std::filesystem::path(std::string(dirs.substr(0, colon))) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway)

BOOST_AUTO_TEST_CASE(a_chat_completion_joins_the_messages_and_answers_as_openai_does) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  // Contents joined with one space; text parts of a list joined as they are, other parts skipped.
  const auto res = post(gateway, "/v1/chat/completions",
                        R"({"model":"m","messages":[{"role":"system","content":"be brief"},)"
                        R"({"role":"user","content":[{"type":"text","text":"what is"},)"
                        R"({"type":"image_url","image_url":{"url":"https://example.com/a.png"}},)"
                        R"({"type":"text","text":" custom llama?"}]}],"max_tokens":20})");
  BOOST_TEST_REQUIRE(res.status == 200, res.body);
  BOOST_TEST(header(res, "content-type") == "application/json");
  BOOST_TEST(string_at(res.body, "/object") == "chat.completion");
  BOOST_TEST(string_at(res.body, "/id").starts_with("chatcmpl-"), res.body);
  BOOST_TEST(int_at(res.body, "/created") > 1'600'000'000);
  BOOST_TEST(string_at(res.body, "/model") == "m");
  BOOST_TEST(size_at(res.body, "/choices") == 1u);
  BOOST_TEST(int_at(res.body, "/choices/0/index") == 0);
  BOOST_TEST(string_at(res.body, "/choices/0/message/role") == "assistant");
  BOOST_TEST(string_at(res.body, "/choices/0/message/content") == "be brief what is custom llama?");
  BOOST_TEST(string_at(res.body, "/choices/0/finish_reason") == "stop");
  BOOST_TEST(int_at(res.body, "/usage/prompt_tokens") == 6);
  BOOST_TEST(int_at(res.body, "/usage/completion_tokens") == 6);
  BOOST_TEST(int_at(res.body, "/usage/total_tokens") == 12);
  // `custom/` is optional on the caller's side too.
  BOOST_TEST(post(gateway, "/v1/chat/completions",
                  R"({"model":"custom/m","messages":[)"
                  R"({"role":"user","content":"hi"}]})")
                 .status == 200);
}

BOOST_AUTO_TEST_CASE(n_above_one_and_a_list_of_prompts_give_every_output_as_a_choice) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto chat = post(gateway, "/v1/chat/completions", chat_body("three times", R"("n":3)"));
  BOOST_TEST_REQUIRE(chat.status == 200, chat.body);
  BOOST_TEST_REQUIRE(size_at(chat.body, "/choices") == 3u, chat.body);
  for (int i = 0; i < 3; ++i) {
    const std::string choice = "/choices/" + std::to_string(i);
    BOOST_TEST(int_at(chat.body, choice + "/index") == i);
    BOOST_TEST(string_at(chat.body, choice + "/message/content") == "three times");
  }

  const auto text =
      post(gateway, "/v1/completions",
           R"({"model":"m","prompt":["first prompt","second"],"n":2,"max_tokens":2})");
  BOOST_TEST_REQUIRE(text.status == 200, text.body);
  BOOST_TEST(string_at(text.body, "/object") == "text_completion");
  BOOST_TEST(string_at(text.body, "/id").starts_with("cmpl-"), text.body);
  BOOST_TEST_REQUIRE(size_at(text.body, "/choices") == 4u, text.body);
  const char* expected[] = {"first prompt", "first prompt", "second", "second"};
  for (int i = 0; i < 4; ++i) {
    const std::string choice = "/choices/" + std::to_string(i);
    BOOST_TEST(int_at(text.body, choice + "/index") == i);
    BOOST_TEST(string_at(text.body, choice + "/text") == expected[i]);
  }
  // Two words reach max_tokens 2: "length"; one word stops short of it: "stop".
  BOOST_TEST(string_at(text.body, "/choices/0/finish_reason") == "length");
  BOOST_TEST(string_at(text.body, "/choices/2/finish_reason") == "stop");
  BOOST_TEST(int_at(text.body, "/usage/prompt_tokens") == 3);
  BOOST_TEST(int_at(text.body, "/usage/completion_tokens") == 6);

  const auto one = post(gateway, "/v1/completions", R"({"model":"m","prompt":"just one"})");
  BOOST_TEST(one.status == 200, one.body);
  BOOST_TEST(string_at(one.body, "/choices/0/text") == "just one");
}

BOOST_AUTO_TEST_CASE(stream_true_answers_with_openai_chunks_then_done) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto res =
      post(gateway, "/v1/chat/completions",
           chat_body("stream me", R"("stream":true,"stream_options":{"include_usage":true})"));
  BOOST_TEST_REQUIRE(res.status == 200, res.body);
  BOOST_TEST(header(res, "content-type") == "text/event-stream");
  const auto events = sse_data(res.body);
  BOOST_TEST_REQUIRE(events.size() == 5u, res.body);  // role, content, finish, usage, [DONE]
  BOOST_TEST(events.back() == "[DONE]");
  BOOST_TEST(string_at(events[0], "/object") == "chat.completion.chunk");
  BOOST_TEST(string_at(events[0], "/choices/0/delta/role") == "assistant");
  BOOST_TEST(string_at(events[1], "/choices/0/delta/content") == "stream me");
  BOOST_TEST(string_at(events[2], "/choices/0/finish_reason") == "stop");
  BOOST_TEST(string_at(events[0], "/id") == string_at(events[2], "/id"));
  BOOST_TEST(size_at(events[3], "/choices") == 0u);
  BOOST_TEST(int_at(events[3], "/usage/total_tokens") == 4);

  const auto text =
      post(gateway, "/v1/completions", R"({"model":"m","prompt":"stream text","stream":true})");
  BOOST_TEST_REQUIRE(text.status == 200, text.body);
  const auto text_events = sse_data(text.body);
  BOOST_TEST_REQUIRE(text_events.size() == 2u, text.body);
  BOOST_TEST(string_at(text_events[0], "/object") == "text_completion");
  BOOST_TEST(string_at(text_events[0], "/choices/0/text") == "stream text");
  BOOST_TEST(text_events[1] == "[DONE]");
}

BOOST_AUTO_TEST_CASE(models_health_and_metrics_answer) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto models = get(gateway, "/v1/models");
  BOOST_TEST_REQUIRE(models.status == 200, models.body);
  BOOST_TEST(string_at(models.body, "/object") == "list");
  BOOST_TEST(string_at(models.body, "/data/0/id") == "m");
  BOOST_TEST(string_at(models.body, "/data/0/object") == "model");
  BOOST_TEST(get(gateway, "/health", {}).status == 200);  // no key needed
  BOOST_TEST(post(gateway, "/v1/chat/completions", chat_body("count me")).status == 200);

  const auto page = get(gateway, "/metrics", {});
  BOOST_TEST_REQUIRE(page.status == 200);
  BOOST_TEST(header(page, "content-type").starts_with("text/plain; version=0.0.4"));
  const std::string& m = page.body;
  BOOST_TEST(metric(m, R"(promptpack_gateway_requests_total{route="/v1/models",status="200"})") ==
             1);
  BOOST_TEST(
      metric(m,
             R"(promptpack_gateway_requests_total{route="/v1/chat/completions",status="200"})") ==
      1);
  BOOST_TEST(metric(m, "promptpack_gateway_prompts_total") == 1);
  BOOST_TEST(metric(m, "promptpack_gateway_upstream_requests_total") == 1);
  BOOST_TEST(metric(m, "promptpack_gateway_upstream_prompts_per_request_count") == 1);
  BOOST_TEST(metric(m, "promptpack_gateway_upstream_prompts_per_request_sum") == 1);
  BOOST_TEST(metric(m, R"(promptpack_gateway_request_duration_seconds_bucket{le="+Inf"})") >= 3);
  BOOST_TEST(metric(m, "promptpack_gateway_upstream_duration_seconds_count") == 1);
  BOOST_TEST(metric(m, "promptpack_gateway_requests_in_flight") == 1);  // this very scrape
  BOOST_TEST(metric(m, "promptpack_gateway_queue_depth") == 0);
  BOOST_TEST(metric(m, R"(promptpack_gateway_upstream_errors_total{type="timeout"})") == 0);
}

BOOST_AUTO_TEST_CASE(errors_come_in_openai_shape_with_their_status) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(
      PROMPTPACK_BINARY,
      gateway_args(endpoint, {"--max-body-bytes", "2048", "--max-header-bytes", "2048"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto check = [](const probe_response& res, int status, std::string_view code) {
    BOOST_TEST(res.status == status, res.body);
    BOOST_TEST(header(res, "content-type") == "application/json");
    BOOST_TEST(!string_at(res.body, "/error/message").starts_with("<no string"), res.body);
    BOOST_TEST(!string_at(res.body, "/error/type").starts_with("<no string"), res.body);
    if (!code.empty()) BOOST_TEST(string_at(res.body, "/error/code") == code, res.body);
  };
  const auto not_json = post(gateway, "/v1/chat/completions", "{not json");
  check(not_json, 400, {});
  BOOST_TEST(string_at(not_json.body, "/error/type") == "invalid_request_error");
  const auto no_messages = post(gateway, "/v1/chat/completions", R"({"model":"m"})");
  check(no_messages, 400, {});
  BOOST_TEST(string_at(no_messages.body, "/error/param") == "messages");
  check(post(gateway, "/v1/chat/completions", chat_body("x", R"("temperature":"hot")")), 400, {});
  check(post(gateway, "/v1/completions", R"({"model":"m","prompt":[1,2,3]})"), 400, {});

  const auto no_key = post(gateway, "/v1/chat/completions", chat_body("x"), {});
  check(no_key, 401, "missing_api_key");
  BOOST_TEST(header(no_key, "www-authenticate") == "Bearer");
  check(post(gateway, "/v1/chat/completions", chat_body("x"),
             {{"Authorization", "Bearer " + test_key + "x"}}),
        401, "invalid_api_key");
  check(get(gateway, "/v1/models", {{"Authorization", "Basic " + test_key}}), 401,
        "missing_api_key");
  BOOST_TEST(no_key.body.find(test_key) == std::string::npos);

  const auto unknown_model =
      post(gateway, "/v1/chat/completions", R"({"model":"nope","messages":[{"content":"x"}]})");
  check(unknown_model, 404, "model_not_found");
  BOOST_TEST(string_at(unknown_model.body, "/error/param") == "model");
  check(post(gateway, "/v1/embeddings", R"({"model":"m","input":"x"})"), 404, "unknown_url");
  check(get(gateway, "/v1/chat/completions"), 405, "method_not_allowed");

  check(post(gateway, "/v1/chat/completions", chat_body(std::string(4096, 'a'))), 413,
        "request_too_large");
  check(http_exchange(gateway.port(),
                      http_request("GET", "/health", {}, {{"X-Filler", std::string(4096, 'b')}})),
        431, "headers_too_large");
  // The gateway still serves after all of that.
  BOOST_TEST(post(gateway, "/v1/chat/completions", chat_body("still here")).status == 200);
}

BOOST_AUTO_TEST_CASE(an_unreachable_endpoint_is_a_502_that_names_no_internal_host) {
  const std::uint16_t port = promptpack::test::dead_port();
  gateway_process gateway(PROMPTPACK_BINARY,
                          {"--api-base", "http://127.0.0.1:" + std::to_string(port) + "/inference",
                           "--model", "m", "--api-key", test_key, "--retries", "0"});
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto failed = post(gateway, "/v1/chat/completions", chat_body("anyone there?"));
  BOOST_TEST(failed.status == 502, failed.body);
  BOOST_TEST(string_at(failed.body, "/error/type") == "upstream_error", failed.body);
  BOOST_TEST(string_at(failed.body, "/error/code") == "connection", failed.body);
  BOOST_TEST(failed.body.find(std::to_string(port)) == std::string::npos, failed.body);
  // The operator's log has the details.
  gateway.process().send(SIGTERM);
  const auto ended = gateway.process().finish();
  BOOST_TEST(ended.err.find("upstream failure (connection)") != std::string::npos, ended.err);
  BOOST_TEST(ended.err.find(std::to_string(port)) != std::string::npos, ended.err);
}

BOOST_AUTO_TEST_CASE(a_full_queue_gets_429_with_retry_after) {
  running_server endpoint(echo_endpoint(500));
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint, {"--max-queue", "2"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  probe_response held;
  std::thread holder(
      [&] { held = post(gateway, "/v1/completions", R"({"model":"m","prompt":["one","two"]})"); });
  std::this_thread::sleep_for(200ms);  // the two prompts fill the queue for 500 ms
  const auto refused = post(gateway, "/v1/chat/completions", chat_body("one more"));
  BOOST_TEST(refused.status == 429, refused.body);
  BOOST_TEST(header(refused, "retry-after") == "1");
  BOOST_TEST(string_at(refused.body, "/error/code") == "queue_full");
  // More prompts than the queue holds can never be taken: 400, not 429.
  const auto too_many = post(gateway, "/v1/completions", R"({"model":"m","prompt":["a","b","c"]})");
  BOOST_TEST(too_many.status == 400, too_many.body);
  holder.join();
  BOOST_TEST(held.status == 200, held.body);
  BOOST_TEST(post(gateway, "/v1/chat/completions", chat_body("room again")).status == 200);
}

BOOST_AUTO_TEST_CASE(many_concurrent_callers_share_upstream_requests_and_get_their_own_answers) {
  running_server endpoint(echo_endpoint(20));
  // Callers started one thread at a time arrive over tens of milliseconds (more on a loaded
  // machine): a partial batch waits up to 20 ms for them.
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint, {"--max-delay-us", "20000"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  constexpr int callers = 200;
  std::atomic<int> right{0};
  std::vector<std::string> wrong(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      const std::string prompt = "caller " + std::to_string(i) + " asks";
      // Half chat, half text: both APIs batch into the same upstream group.
      const auto res = i % 2 == 0 ? post(gateway, "/v1/chat/completions", chat_body(prompt))
                                  : post(gateway, "/v1/completions",
                                         R"({"model":"m","prompt":")" + prompt + R"("})");
      const std::string answer =
          string_at(res.body, i % 2 == 0 ? "/choices/0/message/content" : "/choices/0/text");
      if (res.status == 200 && answer == prompt) {
        ++right;
      } else {
        wrong[i] = std::to_string(res.status) + " " + res.body;
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(right.load() == callers);
  for (const auto& w : wrong) {
    if (!w.empty()) BOOST_TEST_MESSAGE("wrong answer: " << w);
  }
  const auto requests = endpoint.server.stats().requests.load();
  BOOST_TEST_MESSAGE(callers << " callers in " << requests << " upstream requests");
  BOOST_TEST(requests < static_cast<std::uint64_t>(callers) / 4);
  BOOST_TEST(endpoint.server.stats().prompts.load() == static_cast<std::uint64_t>(callers));
}

BOOST_AUTO_TEST_CASE(a_caller_that_hangs_up_has_its_prompt_dropped_before_it_is_sent) {
  running_server endpoint(echo_endpoint());
  // A partial batch waits 500 ms for company: long enough to hang up before it goes.
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint, {"--max-delay-us", "500000"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  {
    raw_socket caller(gateway.port());
    BOOST_TEST_REQUIRE(caller.send(
        http_request("POST", "/v1/chat/completions", chat_body("never mind"), with_key)));
    std::this_thread::sleep_for(100ms);
  }  // hangs up
  std::this_thread::sleep_for(800ms);
  BOOST_TEST(endpoint.server.stats().prompts.load() == 0u);
  BOOST_TEST(endpoint.server.stats().requests.load() == 0u);
  const auto page = get(gateway, "/metrics", {});
  BOOST_TEST(
      metric(page.body,
             R"(promptpack_gateway_requests_total{route="/v1/chat/completions",status="499"})") ==
      1);
  BOOST_TEST(metric(page.body, "promptpack_gateway_queue_depth") == 0);
  // A caller that stays gets its answer.
  BOOST_TEST(post(gateway, "/v1/chat/completions", chat_body("still here")).status == 200);
}

BOOST_AUTO_TEST_CASE(sigterm_lets_the_requests_in_flight_finish_then_exits_0) {
  running_server endpoint(echo_endpoint(300));
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  constexpr int callers = 8;
  std::vector<probe_response> answers(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      answers[i] =
          post(gateway, "/v1/chat/completions", chat_body("in flight " + std::to_string(i)));
    });
  }
  std::this_thread::sleep_for(100ms);
  const auto signalled = std::chrono::steady_clock::now();
  gateway.process().send(SIGTERM);
  std::this_thread::sleep_for(100ms);
  BOOST_CHECK_THROW(raw_socket late(gateway.port()), std::system_error);  // no longer listening
  for (auto& t : threads) t.join();
  for (int i = 0; i < callers; ++i) {
    BOOST_TEST(answers[i].status == 200, answers[i].body);
    BOOST_TEST(string_at(answers[i].body, "/choices/0/message/content") ==
               "in flight " + std::to_string(i));
  }
  const auto result = gateway.process().finish();
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  BOOST_TEST(elapsed_ms(signalled) < 5000.0);
  BOOST_TEST(result.err.find("signal 15") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_CASE(the_grace_period_bounds_how_long_a_stop_waits) {
  running_server endpoint(echo_endpoint(3000));
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint, {"--grace-period", "0.3"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  // Several callers, each cancelled when the grace period ends: the gateway's cancelling of their
  // prompts races the engine's completing of them (AddressSanitizer once caught a use-after-free
  // there, in 1 run of many).
  constexpr int callers = 8;
  std::vector<probe_response> answers(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = post(gateway, "/v1/chat/completions", chat_body("slow " + std::to_string(i)));
    });
  }
  std::this_thread::sleep_for(200ms);
  const auto signalled = std::chrono::steady_clock::now();
  gateway.process().send(SIGTERM);
  const auto result = gateway.process().finish();
  for (auto& t : threads) t.join();
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  BOOST_TEST(elapsed_ms(signalled) < 2500.0);  // not the endpoint's 3 s
  for (const auto& answer : answers) {
    BOOST_TEST(answer.status != 200);  // cancelled: 503, or the connection closed
  }
}

BOOST_AUTO_TEST_CASE(slow_callers_are_cut_off_while_others_are_served) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY,
                          gateway_args(endpoint, {"--read-timeout", "1", "--threads", "1"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  constexpr std::size_t slow_callers = 10;
  std::vector<raw_socket> trickling;  // headers that never end, one byte every 100 ms
  const auto first_bytes = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < slow_callers; ++i) {
    BOOST_TEST_REQUIRE(trickling.emplace_back(gateway.port())
                           .send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  }
  double slowest_answer_ms = 0;
  std::size_t cut_off = 0;
  std::vector<bool> closed(slow_callers, false);
  while (cut_off < slow_callers && elapsed_ms(first_bytes) < 6000) {
    const auto asked = std::chrono::steady_clock::now();
    BOOST_TEST(post(gateway, "/v1/chat/completions", chat_body("quick")).status == 200);
    slowest_answer_ms = std::max(slowest_answer_ms, elapsed_ms(asked));
    for (std::size_t i = 0; i < slow_callers; ++i) {
      if (closed[i]) continue;
      closed[i] = trickling[i].closed_within(0ms) || !trickling[i].send("a");
      if (closed[i]) ++cut_off;
    }
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(cut_off == slow_callers, "still open after " << elapsed_ms(first_bytes) << " ms");
  BOOST_TEST(slowest_answer_ms < 2000.0);
}

BOOST_AUTO_TEST_CASE(connections_beyond_max_connections_are_closed_at_once) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint, {"--max-connections", "2"}));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  std::vector<raw_socket> held;
  held.emplace_back(gateway.port());
  held.emplace_back(gateway.port());
  std::this_thread::sleep_for(100ms);  // both accepted
  raw_socket extra(gateway.port());
  BOOST_TEST(extra.closed_within(answer_bound));
  BOOST_TEST(extra.received().empty());
  held.clear();
  // A slot comes back once the gateway sees a held connection close: retry until then.
  const auto freed = std::chrono::steady_clock::now();
  int status = 0;
  while (status != 200 && elapsed_ms(freed) < 5000) {
    status = get(gateway, "/health", {}).status;
    if (status != 200) std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(status == 200);
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered_before_the_body_is_sent) {
  running_server endpoint(echo_endpoint());
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const std::string body = chat_body("after continue");
  std::string request =
      http_request("POST", "/v1/chat/completions", body,
                   {{"Authorization", "Bearer " + test_key}, {"Expect", "100-continue"}});
  request.resize(request.size() - body.size());  // the headers only, for now
  raw_socket caller(gateway.port());
  BOOST_TEST_REQUIRE(caller.send(request));
  BOOST_TEST(!caller.closed_within(500ms));
  BOOST_TEST_REQUIRE(caller.received().starts_with("HTTP/1.1 100 Continue\r\n\r\n"),
                     caller.received());
  BOOST_TEST_REQUIRE(caller.send(body));
  BOOST_TEST(caller.closed_within(answer_bound));
  const auto res = promptpack::test::parse_http_response(
      caller.received().substr(std::string_view("HTTP/1.1 100 Continue\r\n\r\n").size()));
  BOOST_TEST(res.status == 200, res.body);
  BOOST_TEST(string_at(res.body, "/choices/0/message/content") == "after continue");
}

BOOST_AUTO_TEST_CASE(the_official_openai_node_sdk_gets_right_answers) {
  const std::string node = find_on_path("node");
  if (node.empty()) {
    BOOST_TEST_MESSAGE("skipped: node is not on PATH (make setup installs it)");
    return;
  }
  const std::filesystem::path sdk_dir =
      std::filesystem::path(PROMPTPACK_SOURCE_DIR) / "tests" / "openai_sdk";
  BOOST_TEST_REQUIRE(std::filesystem::exists(sdk_dir / "node_modules" / "openai"),
                     "the OpenAI SDK is not installed: run `make setup` (or `npm ci --prefix "
                     "tests/openai_sdk`)");
  // An endpoint that takes 100 ms a request, as a model takes its time: concurrent callers then
  // find company to share requests with, with the gateway's default flags.
  running_server endpoint(echo_endpoint(100));
  gateway_process gateway(PROMPTPACK_BINARY, gateway_args(endpoint));
  BOOST_TEST_REQUIRE(gateway.port() != 0);
  const auto result = promptpack::test::run_process(
      node, {(sdk_dir / "gateway_test.mjs").string(), gateway.url(), test_key, "m"}, 120s);
  BOOST_TEST(result.exit_code == 0, "stdout:\n" << result.out << "stderr:\n" << result.err);
  BOOST_TEST_MESSAGE(result.out);
  const auto prompts = endpoint.server.stats().prompts.load();
  const auto requests = endpoint.server.stats().requests.load();
  BOOST_TEST_MESSAGE("the SDK's prompts: " << prompts << " in " << requests
                                           << " upstream requests");
  BOOST_TEST(prompts >= 4 * requests);
}

BOOST_AUTO_TEST_SUITE_END()
