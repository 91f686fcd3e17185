// promptpack gateway's HTTP server: OpenAI's routes over the route table's clients, on the same
// io_context as those clients.
#pragma once

#include "gateway/route_table.hpp"
#include "server/request_reading.hpp"

#include <promptpack/sampling_params.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace promptpack::gateway {

struct gateway_settings {
  std::string host = "127.0.0.1";  ///< an IP address to listen on
  std::uint16_t port = 8080;       ///< 0 picks a free one
  /// Header and body sizes, idle and read timeouts for callers' requests.
  server::request_limits limits{.max_header_bytes = 16 << 10, .max_body_bytes = 16 << 20};
  std::size_t max_connections = 1024;  ///< connections beyond this many open ones are closed
  std::size_t max_queue = 1 << 16;     ///< prompts queued or in flight at once; more get 429
  std::chrono::milliseconds grace_period{10000};  ///< for requests in flight at shutdown
  bool access_log = false;                        ///< one line per request on stderr
  std::string api_key;       ///< callers must send `Authorization: Bearer <api_key>`; empty: none
  sampling_params defaults;  ///< for what a request leaves out
};

/// Serves POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health and
/// GET /metrics. Each request's prompts go to its model's client with async_complete from the
/// session's own coroutine, and their results come back to that coroutine's strand: the
/// clients run on the same io_context's threads, with no thread pool of their own. Sessions run
/// on strands of `ioc`, so any number of threads may run it.
class gateway_server {
 public:
  gateway_server(boost::asio::io_context& ioc, route_table& routes, gateway_settings settings);
  ~gateway_server();
  gateway_server(const gateway_server&) = delete;
  gateway_server& operator=(const gateway_server&) = delete;

  /// Binds and starts accepting. Throws std::runtime_error naming the address when it can't.
  void start();
  /// http://HOST:PORT, with the port bound.
  std::string url() const;
  /// The strand that accepts connections; drain() must run on it.
  boost::asio::any_io_executor get_executor() const;

  /// The graceful stop: closes the listener and the idle connections, lets the requests in
  /// flight finish and be answered (with `Connection: close`) within the grace period, then
  /// cancels the prompts still pending and closes every connection. Completes when none is open.
  boost::asio::awaitable<void> drain();
  /// Ends the grace period now (a second SIGINT or SIGTERM). From any thread.
  void cut_grace_short();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace promptpack::gateway
