// The exchange watchdog: a deadline per exchange, one outstanding timer wait per connection.
#include "http/exchange_watchdog.hpp"

#include <boost/asio/steady_timer.hpp>

namespace promptpack::detail {

struct exchange_watchdog::state {
  state(boost::asio::any_io_executor executor, std::function<void()> expiry)
      : timer(std::move(executor)), on_expiry(std::move(expiry)) {}

  // Shared with the pending wait's handler, which may run after the watchdog is gone.
  static void arm(const std::shared_ptr<state>& self) {
    self->waiting = true;
    self->timer.expires_at(self->deadline);
    self->timer.async_wait([self](const boost::system::error_code&) { self->fired(self); });
  }

  void fired(const std::shared_ptr<state>& self) {
    waiting = false;
    if (!on_expiry || !watching) return;  // the watchdog is gone, or no exchange is running
    if (std::chrono::steady_clock::now() < deadline) {
      arm(self);  // an exchange that started after this wait was armed
      return;
    }
    expired = true;
    on_expiry();
  }

  boost::asio::steady_timer timer;
  std::function<void()> on_expiry;  // emptied when the watchdog is destroyed
  std::chrono::steady_clock::time_point deadline{};
  bool watching = false;  // an exchange is running
  bool waiting = false;   // a wait is outstanding
  bool expired = false;
};

exchange_watchdog::exchange_watchdog(boost::asio::any_io_executor executor,
                                     std::function<void()> on_expiry)
    : state_(std::make_shared<state>(std::move(executor), std::move(on_expiry))) {}

exchange_watchdog::~exchange_watchdog() {
  state_->on_expiry = nullptr;
  state_->watching = false;
  try {
    state_->timer.cancel();
  } catch (const boost::system::system_error&) {
    // Not cancelled: the wait completes at its time and, with no on_expiry, does nothing.
  }
}

void exchange_watchdog::start(std::chrono::steady_clock::duration timeout) {
  state_->deadline = std::chrono::steady_clock::now() + timeout;
  state_->watching = true;
  if (!state_->waiting) state::arm(state_);
}

void exchange_watchdog::stop() noexcept {
  state_->watching = false;
}

bool exchange_watchdog::expired() const noexcept {
  return state_->expired;
}

}  // namespace promptpack::detail
