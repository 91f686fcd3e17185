// One timer per connection that enforces the request timeout of every exchange on it.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace promptpack::detail {

/// Beast's basic_stream arms its timer for every read and write and cancels it when the
/// operation ends: two timer waits, two aborted wait handlers and often a timerfd_settime per
/// request. The deadlines of one connection only move forward, so one wait serves them all:
/// when the timer fires before the current exchange's deadline it is re-armed to it, and when
/// it fires at or after it, `on_expiry` runs (the session closes its socket, which ends the
/// pending read or write). A busy connection re-arms about once per timeout, not per request.
///
/// Not thread-safe: `executor` must be the strand the exchanges run on. A wait still pending
/// when the watchdog is destroyed completes later and does nothing.
class exchange_watchdog {
 public:
  exchange_watchdog(boost::asio::any_io_executor executor, std::function<void()> on_expiry);
  ~exchange_watchdog();
  exchange_watchdog(const exchange_watchdog&) = delete;
  exchange_watchdog& operator=(const exchange_watchdog&) = delete;

  /// An exchange starts now and must end within `timeout`.
  void start(std::chrono::steady_clock::duration timeout);
  /// The exchange ended, either way: nothing is watched until the next start().
  void stop() noexcept;
  /// True once on_expiry has run.
  bool expired() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace promptpack::detail
