// purpose: a cancelled async_complete costs the endpoint nothing when its batch has not gone out:
// the prompt is taken out of the batch; one on the wire has its result dropped.
#include <promptpack/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include "common/reference_fixture.hpp"

namespace {

namespace asio = boost::asio;
using promptpack::client_config;
using promptpack::prompt_result;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::running_server;

struct outcome {
  boost::system::error_code ec;
  prompt_result result;
};

// An echo endpoint that takes `latency_ms` per request, and a client with one connection and one
// prompt per request, so that a second prompt waits in the queue while the first is out.
struct one_lane {
  explicit one_lane(double latency_ms) : server(make_server(latency_ms)) {}
  static reference_config make_server(double latency_ms) {
    reference_config config;
    config.generator = generator_kind::echo;
    config.latency_ms = latency_ms;
    return config;
  }
  client_config config() const {
    client_config c;
    c.endpoints = {{server.url(), 1.0}};
    c.model = "custom/cancel";
    c.connections_per_endpoint = 1;
    c.max_batch_prompts = 1;
    c.request_timeout_s = 10;
    return c;
  }
  running_server server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_cancellation)

BOOST_AUTO_TEST_CASE(a_queued_prompt_cancelled_is_never_sent) {
  one_lane lane(300);
  asio::io_context ioc;
  promptpack::client client(ioc.get_executor(), lane.config());
  std::optional<outcome> first, second;
  asio::cancellation_signal cancel_second;
  client.async_complete("first", client.config().params,
                        [&](boost::system::error_code ec, prompt_result r) {
                          first = outcome{ec, std::move(r)};
                        });
  client.async_complete(
      "second", client.config().params,
      asio::bind_cancellation_slot(cancel_second.slot(),
                                   [&](boost::system::error_code ec, prompt_result r) {
                                     second = outcome{ec, std::move(r)};
                                   }));
  // Cancelled while "first" holds the only connection: "second" is still queued.
  asio::steady_timer soon(ioc, std::chrono::milliseconds(50));
  soon.async_wait([&](auto) { cancel_second.emit(asio::cancellation_type::terminal); });
  // Long enough for "second" to have been sent and answered, had it not been dropped.
  asio::steady_timer later(ioc, std::chrono::milliseconds(1000));
  later.async_wait([&](auto) {
    client.async_shutdown(promptpack::shutdown_mode::drain, [](boost::system::error_code) {});
  });
  ioc.run();

  BOOST_REQUIRE(first && second);
  BOOST_TEST(!first->ec);
  BOOST_TEST(second->ec == asio::error::operation_aborted);
  BOOST_TEST(lane.server.server.stats().requests.load() == 1u);  // only "first" reached it
}

BOOST_AUTO_TEST_CASE(a_prompt_cancelled_on_the_wire_completes_at_once) {
  one_lane lane(500);
  asio::io_context ioc;
  promptpack::client client(ioc.get_executor(), lane.config());
  std::optional<outcome> only;
  std::chrono::steady_clock::time_point completed_at;
  asio::cancellation_signal cancel;
  client.async_complete("on the wire", client.config().params,
                        asio::bind_cancellation_slot(cancel.slot(), [&](auto ec, prompt_result r) {
                          only = outcome{ec, std::move(r)};
                          completed_at = std::chrono::steady_clock::now();
                        }));
  const auto started = std::chrono::steady_clock::now();
  asio::steady_timer soon(ioc, std::chrono::milliseconds(100));
  soon.async_wait([&](auto) {
    cancel.emit(asio::cancellation_type::terminal);
    client.async_shutdown(promptpack::shutdown_mode::drain, [](boost::system::error_code) {});
  });
  ioc.run();  // returns once the answer (dropped) came and the client shut down

  BOOST_REQUIRE(only);
  BOOST_TEST(only->ec == asio::error::operation_aborted);
  BOOST_TEST((completed_at - started < std::chrono::milliseconds(400)));  // before the answer
  BOOST_TEST(lane.server.server.stats().requests.load() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
