// Uses the installed promptpack as a user would: a client on the program's own io_context with
// co_await, as_tuple, a cancellation slot and async_shutdown; and the threaded form.
#include <promptpack/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <cstdio>
#include <string>

namespace asio = boost::asio;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

promptpack::client_config config_for(const std::string& url) {
  promptpack::client_config config;
  config.endpoints = {{url, 1.0}};
  config.model = "custom/consumer";
  config.max_retries = 0;
  config.max_delay_us = 200000;  // a lone prompt waits 200 ms for company: time to cancel it
  return config;
}

asio::awaitable<void> use_client(promptpack::client& client) {
  const promptpack::sampling_params params;
  // as_tuple: a failed prompt is data, with a promptpack::errc code.
  auto [ec, completion] =
      co_await client.async_complete("hello", params, asio::as_tuple(asio::use_awaitable));
  check(ec == promptpack::errc::connection, "as_tuple gives errc::connection for a dead endpoint");
  check(!completion.ok() && completion.error->type == promptpack::errc::connection,
        "the prompt_result carries the error too");
  check(ec.category() == promptpack::error_category(), "the code is in promptpack's category");

  // use_awaitable alone throws boost::system::system_error.
  bool threw = false;
  try {
    co_await client.async_complete("hello", params, asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    threw = e.code() == promptpack::errc::connection;
  }
  check(threw, "use_awaitable throws system_error with errc::connection");

  // A cancellation slot: the queued prompt completes at once with operation_aborted.
  asio::cancellation_signal cancel;
  bool cancelled = false;
  client.async_complete("to be cancelled", params,
                        asio::bind_cancellation_slot(cancel.slot(), [&](boost::system::error_code e,
                                                                        promptpack::prompt_result) {
                          cancelled = e == asio::error::operation_aborted;
                        }));
  cancel.emit(asio::cancellation_type::terminal);
  co_await client.async_shutdown(promptpack::shutdown_mode::drain, asio::use_awaitable);
  check(cancelled, "cancellation completes the handler with operation_aborted");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "http://127.0.0.1:9/inference";

  // The executor form: no thread of its own; ioc.run() returns only after async_shutdown, and
  // after every handler has run.
  {
    asio::io_context ioc;
    promptpack::client client(ioc.get_executor(), config_for(url));
    bool finished = false;
    asio::co_spawn(ioc, use_client(client), [&](std::exception_ptr e) { finished = !e; });
    ioc.run();
    check(finished, "the coroutine finished before ioc.run() returned");
  }

  // The threaded form.
  {
    promptpack::client client(config_for(url));
    const promptpack::prompt_result result =
        client.complete("hello", promptpack::sampling_params{});
    check(!result.ok() && result.error->type == promptpack::errc::connection,
          "the threaded form gives a connection error");
  }
  if (failures == 0) std::printf("consumer: executor and threaded forms behave as documented\n");
  return failures == 0 ? 0 : 1;
}
