// purpose: promptpack::client end to end: API forms, packing, grouping, threads and shutdown.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <promptpack/litellm.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/client_bulk.hpp"
#include "common/counting_sink.hpp"
#include "common/reference_fixture.hpp"

namespace {

namespace asio = boost::asio;
using promptpack::client;
using promptpack::client_config;
using promptpack::errc;
using promptpack::prompt_result;
using promptpack::sampling_params;
using promptpack::shutdown_mode;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::check_echo;
using promptpack::test::client_hang_guard;
using promptpack::test::counting_sink;
using promptpack::test::describe;
using promptpack::test::numbered;
using promptpack::test::run_bulk;
using promptpack::test::running_server;

using strings = std::vector<std::string>;
using clock_type = std::chrono::steady_clock;

reference_config server_config(generator_kind generator = generator_kind::echo) {
  reference_config config;
  config.generator = generator;
  config.threads = 2;
  return config;
}

client_config make_config(const std::string& url) {
  client_config config;
  config.endpoints = {{url, 1.0}};
  config.model = "custom/test-model";
  config.connections_per_endpoint = 4;
  config.threads = 2;
  return config;
}

std::vector<std::string_view> views_of(const strings& prompts) {
  return {prompts.begin(), prompts.end()};
}

std::size_t word_count(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::size_t words = 0;
  for (std::string word; in >> word;) ++words;
  return words;
}

template <class T>
bool ready(std::future<T>& f, std::chrono::seconds within = client_hang_guard) {
  return f.wait_for(within) == std::future_status::ready;
}

/// A slow server, and a client with few connections and small batches, so that at any moment
/// most prompts are queued or in flight.
struct loaded_client {
  explicit loaded_client(double latency_ms) : server(slow_config(latency_ms)) {
    auto config = make_config(server.url());
    config.connections_per_endpoint = 2;
    config.max_batch_prompts = 10;
    client = std::make_unique<promptpack::client>(config);
    for (const auto& p : prompts) futures.push_back(client->submit(p));
  }
  static reference_config slow_config(double latency_ms) {
    auto config = server_config();
    config.latency_ms = latency_ms;
    return config;
  }
  /// Waits until the server has requests in hand (bounded by the hang guard).
  void wait_in_flight() const {
    const auto deadline = clock_type::now() + client_hang_guard;
    while (server.server.stats().requests.load() == 0 && clock_type::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    BOOST_TEST_REQUIRE(server.server.stats().requests.load() > 0u);
  }

  running_server server;
  strings prompts = numbered("loaded", 200);
  std::unique_ptr<promptpack::client> client;
  std::vector<std::future<prompt_result>> futures;
};

/// Every future is complete, and each holds the echo or a `cancelled` error. Returns the number
/// cancelled.
std::size_t check_echo_or_cancelled(std::vector<std::future<prompt_result>>& futures,
                                    const strings& prompts) {
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    BOOST_TEST_REQUIRE(ready(futures[i], std::chrono::seconds(0)), "future " << i << " pending");
    const prompt_result c = futures[i].get();
    if (c.ok()) {
      BOOST_TEST(c.outputs == strings{prompts[i]});
    } else {
      BOOST_TEST((c.error->type == errc::cancelled), "prompt " << i << ": " << describe(c));
      ++cancelled;
    }
  }
  return cancelled;
}

}  // namespace

namespace {

// What async_complete's handler received, as a future (use_future alone would throw the code).
using async_outcome = std::pair<boost::system::error_code, prompt_result>;
std::future<async_outcome> async_outcome_of(client& client, std::string prompt) {
  auto promise = std::make_shared<std::promise<async_outcome>>();
  auto future = promise->get_future();
  client.async_complete(std::move(prompt), sampling_params{},
                        [promise](boost::system::error_code ec, prompt_result c) {
                          promise->set_value({ec, std::move(c)});
                        });
  return future;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_basic)

BOOST_AUTO_TEST_CASE(submit_returns_a_future_per_prompt) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  const strings prompts = numbered("submit", 20);
  std::vector<std::future<prompt_result>> futures;
  for (const auto& p : prompts) futures.push_back(client.submit(p));
  futures.push_back(client.submit("with params", sampling_params{.max_tokens = 5}));
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_REQUIRE(ready(futures[i]));
    check_echo(futures[i].get(), prompts[i]);
  }
  BOOST_TEST_REQUIRE(ready(futures.back()));
  check_echo(futures.back().get(), "with params");
}

BOOST_AUTO_TEST_CASE(submit_many_returns_futures_in_input_order) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  const strings prompts = numbered("many", 50);
  auto futures = client.submit_many(prompts, sampling_params{});
  BOOST_TEST_REQUIRE(futures.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_REQUIRE(ready(futures[i]));
    check_echo(futures[i].get(), prompts[i]);
  }
}

BOOST_AUTO_TEST_CASE(submit_bulk_future_gives_results_in_input_order) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.max_batch_prompts = 7;  // many batches on several connections, finishing in any order
  promptpack::client client(config);
  const strings prompts = numbered("bulk", 500);
  const auto results = run_bulk(client, prompts);
  BOOST_TEST_REQUIRE(results.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
}

BOOST_AUTO_TEST_CASE(submit_bulk_empty_span_completes_at_once) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  auto future = client.submit_bulk(std::span<const std::string_view>{}, client.group());
  BOOST_TEST_REQUIRE(ready(future));
  BOOST_TEST(future.get().empty());
}

BOOST_AUTO_TEST_CASE(submit_bulk_sink_gets_every_index_once_then_one_on_complete) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.max_batch_prompts = 16;
  promptpack::client client(config);
  const strings prompts = numbered("sink", 1000);
  const auto views = views_of(prompts);
  counting_sink sink(prompts);
  client.submit_bulk(views, client.group(), sink);
  BOOST_TEST_REQUIRE(sink.wait());
  sink.check_each_echoed_once();
}

BOOST_AUTO_TEST_CASE(async_complete_with_a_callback) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  std::promise<prompt_result> promise;
  auto future = promise.get_future();
  client.async_complete(
      "callback prompt", sampling_params{},
      [&promise](boost::system::error_code, prompt_result c) { promise.set_value(std::move(c)); });
  BOOST_TEST_REQUIRE(ready(future));
  check_echo(future.get(), "callback prompt");
}

BOOST_AUTO_TEST_CASE(async_complete_with_use_future) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  std::future<prompt_result> future =
      client.async_complete("future prompt", sampling_params{}, asio::use_future);
  BOOST_TEST_REQUIRE(ready(future));
  check_echo(future.get(), "future prompt");
}

BOOST_AUTO_TEST_CASE(async_complete_with_use_awaitable_resumes_on_the_callers_context) {
  running_server server(server_config());
  asio::io_context ioc;  // outlives the client, which may still post to it if the test fails
  promptpack::client client(make_config(server.url()));
  const strings prompts = numbered("awaited", 5);
  std::vector<prompt_result> results;
  int resumed_elsewhere = 0;
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        const auto own_thread = std::this_thread::get_id();  // the one thread running `ioc`
        for (const auto& p : prompts) {
          results.push_back(
              co_await client.async_complete(p, sampling_params{}, asio::use_awaitable));
          if (std::this_thread::get_id() != own_thread) ++resumed_elsewhere;
        }
      },
      [&](std::exception_ptr e) {
        failure = e;
        finished = true;
      });
  // Returns early once the coroutine is done: it holds the only work.
  ioc.run_for(client_hang_guard);
  BOOST_TEST_REQUIRE(finished, "the coroutine did not finish");
  BOOST_TEST(!failure);
  BOOST_TEST(resumed_elsewhere == 0);
  BOOST_TEST_REQUIRE(results.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
}

BOOST_AUTO_TEST_CASE(async_complete_with_deferred_starts_only_when_launched) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  auto op = client.async_complete("deferred prompt", sampling_params{}, asio::deferred);
  BOOST_TEST(client.stats().prompts_submitted == 0u);  // nothing happens until launched
  std::future<prompt_result> future = std::move(op)(asio::use_future);
  BOOST_TEST_REQUIRE(ready(future));
  check_echo(future.get(), "deferred prompt");

  std::promise<prompt_result> promise;
  auto second = promise.get_future();
  client.async_complete("deferred callback", sampling_params{}, asio::deferred)(
      [&promise](boost::system::error_code, prompt_result c) { promise.set_value(std::move(c)); });
  BOOST_TEST_REQUIRE(ready(second));
  check_echo(second.get(), "deferred callback");
}

BOOST_AUTO_TEST_CASE(complete_blocks_until_the_answer) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  check_echo(client.complete("blocking prompt", sampling_params{}), "blocking prompt");
}

BOOST_AUTO_TEST_CASE(prompts_are_packed_into_few_requests) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.max_batch_prompts = 100;
  promptpack::client client(config);
  const strings prompts = numbered("packed", 1000);
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  BOOST_TEST(server.server.stats().requests.load() <= 12u);
  BOOST_TEST(server.server.stats().prompts.load() == 1000u);
  BOOST_TEST(client.stats().requests_sent <= 12u);
}

BOOST_AUTO_TEST_CASE(prompts_with_different_params_never_share_a_request) {
  // The text generator writes exactly max_tokens words, so each output shows which params
  // travelled with its prompt. A long max_delay gives mixing every chance to happen.
  running_server server(server_config(generator_kind::text));
  auto config = make_config(server.url());
  config.max_delay_us = 100000;
  promptpack::client client(config);
  const sampling_params short_params{.max_tokens = 3};
  const sampling_params long_params{.max_tokens = 9};
  const strings prompts = numbered("grouped", 40);
  std::vector<std::future<prompt_result>> futures;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    futures.push_back(client.submit(prompts[i], i % 2 == 0 ? short_params : long_params));
  }
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_REQUIRE(ready(futures[i]));
    const prompt_result c = futures[i].get();
    BOOST_TEST_REQUIRE(c.ok(), describe(c));
    BOOST_TEST_REQUIRE(c.outputs.size() == 1u);
    BOOST_TEST(word_count(c.outputs[0]) == (i % 2 == 0 ? 3u : 9u),
               "prompt " << i << ": " << c.outputs[0]);
  }
  BOOST_TEST(server.server.stats().requests.load() >= 2u);
}

BOOST_AUTO_TEST_CASE(echo_groups_by_params_in_separate_requests) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.max_delay_us = 100000;
  promptpack::client client(config);
  const strings a = numbered("group a", 10);
  const strings b = numbered("group b", 10);
  const auto va = views_of(a);
  const auto vb = views_of(b);
  auto fa = client.submit_bulk(va, client.group(sampling_params{.temperature = 0.1}));
  auto fb = client.submit_bulk(vb, client.group(sampling_params{.temperature = 0.9}));
  BOOST_TEST_REQUIRE(ready(fa));
  BOOST_TEST_REQUIRE(ready(fb));
  const auto ra = fa.get();
  const auto rb = fb.get();
  for (std::size_t i = 0; i < a.size(); ++i) check_echo(ra[i], a[i]);
  for (std::size_t i = 0; i < b.size(); ++i) check_echo(rb[i], b[i]);
  BOOST_TEST(server.server.stats().requests.load() >= 2u);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_fails_alone_and_its_neighbours_succeed) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  const strings prompts{"fine one", "bad \xff\xfe bytes", "fine two", "truncated \xe2\x82",
                        "fine three"};
  const auto results = run_bulk(client, prompts);
  for (std::size_t i : {0u, 2u, 4u}) check_echo(results[i], prompts[i]);
  for (std::size_t i : {1u, 3u}) {
    BOOST_TEST_REQUIRE(!results[i].ok());
    BOOST_TEST((results[i].error->type == errc::invalid_input));
    BOOST_TEST(results[i].error->attempts == 0);
    BOOST_TEST(results[i].error->message.find("UTF-8") != std::string::npos,
               results[i].error->message);
  }
  BOOST_TEST(server.server.stats().prompts.load() == 3u);  // the bad ones were never sent

  auto single = client.submit("bad \xc3\x28");
  BOOST_TEST_REQUIRE(ready(single));
  const prompt_result c = single.get();
  BOOST_TEST_REQUIRE(!c.ok());
  BOOST_TEST((c.error->type == errc::invalid_input));
}

BOOST_AUTO_TEST_CASE(every_output_of_a_prompt_is_kept) {
  running_server server(server_config(generator_kind::text));
  promptpack::client client(make_config(server.url()));
  sampling_params params{.max_tokens = 4};
  params.extra = {{"n", "3"}};
  const strings prompts = numbered("three outputs", 10);
  const auto views = views_of(prompts);
  auto future = client.submit_bulk(views, client.group(params));
  BOOST_TEST_REQUIRE(ready(future));
  for (const auto& c : future.get()) {
    BOOST_TEST_REQUIRE(c.ok(), describe(c));
    BOOST_TEST(c.outputs.size() == 3u);
    for (const auto& output : c.outputs) BOOST_TEST(word_count(output) == 4u);
  }
}

BOOST_AUTO_TEST_CASE(reordered_answers_are_matched_by_their_echoed_prompts) {
  auto config = server_config();
  config.shuffle = true;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_batch_prompts = 25;
  promptpack::client client(client_config);
  strings prompts = numbered("shuffled", 100);
  prompts.push_back("twin");
  prompts.push_back("twin");  // identical prompts are matched in order
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_are_reused) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.connections_per_endpoint = 3;
  promptpack::client client(config);
  for (int i = 0; i < 60; ++i) {
    const std::string prompt = "sequential " + std::to_string(i);
    check_echo(client.complete(prompt, sampling_params{}), prompt);
  }
  BOOST_TEST(server.server.stats().requests.load() == 60u);
  BOOST_TEST(server.server.stats().connections.load() <= 3u);
  BOOST_TEST(client.stats().connects <= 3u);
}

BOOST_AUTO_TEST_CASE(many_threads_submit_at_once) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  constexpr int thread_count = 8;
  constexpr int per_thread = 200;
  std::atomic<int> wrong{0};
  std::atomic<int> hung{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      const strings prompts = numbered("thread " + std::to_string(t), per_thread);
      std::vector<std::future<prompt_result>> futures;
      for (const auto& p : prompts) futures.push_back(client.submit(p));
      for (int i = 0; i < per_thread; ++i) {
        if (!ready(futures[i])) {
          ++hung;
          continue;
        }
        const prompt_result c = futures[i].get();
        if (!c.ok() || c.outputs != strings{prompts[i]}) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(hung.load() == 0);
  BOOST_TEST(wrong.load() == 0);
  const auto stats = client.stats();
  BOOST_TEST(stats.prompts_submitted == std::uint64_t{thread_count * per_thread});
  BOOST_TEST(stats.prompts_succeeded == std::uint64_t{thread_count * per_thread});
}

BOOST_AUTO_TEST_CASE(stats_are_consistent_after_completion) {
  running_server server(server_config());
  auto config = make_config(server.url());
  config.max_batch_prompts = 50;
  promptpack::client client(config);
  const strings prompts = numbered("counted", 300);
  (void)run_bulk(client, prompts);
  // The pending gauge drops just after the results are handed over: let it settle.
  const auto deadline = clock_type::now() + client_hang_guard;
  while (client.stats().prompts_pending != 0 && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto stats = client.stats();
  BOOST_TEST(stats.prompts_submitted == 300u);
  BOOST_TEST(stats.prompts_succeeded == stats.prompts_submitted);
  BOOST_TEST(stats.prompts_failed == 0u);
  BOOST_TEST(stats.prompts_pending == 0u);
  BOOST_TEST(stats.requests_in_flight == 0u);
  BOOST_TEST(stats.requests_sent == server.server.stats().requests.load());
  BOOST_TEST(stats.requests_sent >= 6u);
  BOOST_TEST(stats.requests_retried == 0u);
  BOOST_TEST(stats.batches_split == 0u);
  BOOST_TEST(stats.connects >= 1u);
  BOOST_TEST(stats.connects <= config.connections_per_endpoint);
  BOOST_TEST(stats.bytes_sent > 0u);
  BOOST_TEST(stats.bytes_received > 0u);
  BOOST_TEST(stats.latency_p50_ms <= stats.latency_p99_ms);
}

BOOST_AUTO_TEST_CASE(shutdown_drain_completes_every_pending_future_with_results) {
  loaded_client load(50);
  load.client->shutdown(shutdown_mode::drain);
  BOOST_TEST(check_echo_or_cancelled(load.futures, load.prompts) == 0u);
  BOOST_TEST(load.client->stats().prompts_succeeded == load.prompts.size());
  load.client->shutdown(shutdown_mode::drain);  // idempotent
}

BOOST_AUTO_TEST_CASE(shutdown_cancel_under_load_completes_everything_quickly) {
  loaded_client load(2000);
  load.wait_in_flight();
  const auto started = clock_type::now();
  load.client->shutdown(shutdown_mode::cancel);
  BOOST_TEST((clock_type::now() - started < client_hang_guard));
  const std::size_t cancelled = check_echo_or_cancelled(load.futures, load.prompts);
  BOOST_TEST(cancelled > 0u);
  BOOST_TEST_MESSAGE("cancel under load: " << cancelled << " of " << load.prompts.size()
                                           << " prompts cancelled");
}

BOOST_AUTO_TEST_CASE(destructor_completes_pending_futures_as_cancelled) {
  loaded_client load(2000);
  load.wait_in_flight();
  const auto started = clock_type::now();
  load.client.reset();
  BOOST_TEST((clock_type::now() - started < client_hang_guard));
  BOOST_TEST(check_echo_or_cancelled(load.futures, load.prompts) > 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_cancel_completes_every_async_handler) {
  loaded_client load(2000);
  std::vector<std::future<async_outcome>> futures;
  const strings prompts = numbered("async loaded", 100);
  for (const auto& p : prompts) futures.push_back(async_outcome_of(*load.client, p));
  load.wait_in_flight();
  load.client->shutdown(shutdown_mode::cancel);
  std::size_t lost = 0;
  for (auto& f : futures) {
    if (!ready(f, std::chrono::seconds(5))) {
      ++lost;
      continue;
    }
    try {
      const auto [ec, c] = f.get();
      BOOST_TEST((c.ok() || c.error->type == errc::cancelled), describe(c));
      BOOST_TEST((c.ok() ? !ec : ec == errc::cancelled));
    } catch (const std::future_error& e) {
      ++lost;  // the handler was destroyed without being called
    }
  }
  BOOST_TEST(lost == 0u, lost << " async handlers were never called");
  (void)check_echo_or_cancelled(load.futures, load.prompts);
}

BOOST_AUTO_TEST_CASE(submissions_after_shutdown_are_cancelled) {
  running_server server(server_config());
  promptpack::client client(make_config(server.url()));
  check_echo(client.complete("before", sampling_params{}), "before");
  client.shutdown();

  auto future = client.submit("after");
  BOOST_TEST_REQUIRE(ready(future));
  const prompt_result c = future.get();
  BOOST_TEST_REQUIRE(!c.ok());
  BOOST_TEST((c.error->type == errc::cancelled));

  const strings prompts = numbered("after bulk", 3);
  const auto views = views_of(prompts);
  auto bulk = client.submit_bulk(views, client.group());
  BOOST_TEST_REQUIRE(ready(bulk));
  for (const auto& r : bulk.get()) {
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST((r.error->type == errc::cancelled));
  }

  // The async form completes its handler even though the client's threads have stopped.
  auto async = async_outcome_of(client, "after async");
  BOOST_TEST_REQUIRE(ready(async, std::chrono::seconds(5)),
                     "async_complete after shutdown never completed");
  const auto [ec, a] = async.get();
  BOOST_TEST_REQUIRE(!a.ok());
  BOOST_TEST((a.error->type == errc::cancelled));
  BOOST_TEST((ec == errc::cancelled));
}

BOOST_AUTO_TEST_CASE(litellm_completion_returns_a_chat_completion) {
  running_server server(server_config());
  promptpack::completion_request request;
  request.model = "custom/meta-llama/Llama-2-13b-hf";
  request.messages = {{"system", "be brief"}, {"user", "hello there"}};
  request.api_base = server.url();
  request.max_tokens = 10;
  const auto response = promptpack::completion(request);
  BOOST_TEST(response.object == "chat.completion");
  BOOST_TEST(response.model == "meta-llama/Llama-2-13b-hf");
  BOOST_TEST(response.id.starts_with("chatcmpl-"));
  BOOST_TEST_REQUIRE(response.choices.size() == 1u);
  BOOST_TEST(response.choices[0].message.role == "assistant");
  BOOST_TEST(response.choices[0].message.content == "be brief hello there");
  BOOST_TEST(response.usage.prompt_tokens == 4);
  BOOST_TEST(response.usage.total_tokens ==
             response.usage.prompt_tokens + response.usage.completion_tokens);
}

BOOST_AUTO_TEST_CASE(litellm_batch_completion_packs_message_lists) {
  running_server server(server_config());
  promptpack::completion_request request;
  request.model = "custom/test-model";
  request.api_base = server.url();
  std::vector<std::vector<promptpack::chat_message>> lists;
  for (int i = 0; i < 100; ++i) lists.push_back({{"user", "list"}, {"user", std::to_string(i)}});
  lists.push_back({{"user", "bad \xff"}});
  const auto results = promptpack::batch_completion(request, lists);
  BOOST_TEST_REQUIRE(results.size() == lists.size());
  for (int i = 0; i < 100; ++i) {
    BOOST_TEST_REQUIRE(results[i].response.has_value());
    BOOST_TEST(results[i].response->choices.at(0).message.content == "list " + std::to_string(i));
  }
  BOOST_TEST_REQUIRE(results.back().error.has_value());
  BOOST_TEST((results.back().error->type == errc::invalid_input));
  BOOST_TEST(server.server.stats().requests.load() < 100u);  // packed, not one request each
}

BOOST_AUTO_TEST_CASE(litellm_completion_throws_completion_error) {
  running_server server(server_config());
  promptpack::completion_request request;
  request.model = "custom/test-model";
  request.messages = {{"user", "bad \xff"}};
  request.api_base = server.url();
  try {
    (void)promptpack::completion(request);
    BOOST_FAIL("completion() of an invalid prompt did not throw");
  } catch (const promptpack::completion_error& e) {
    BOOST_TEST((e.error().type == errc::invalid_input));
  }
  request.api_base.clear();
  BOOST_CHECK_THROW((void)promptpack::completion(request), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
