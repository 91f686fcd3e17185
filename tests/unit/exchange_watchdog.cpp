// Tests for the exchange watchdog: expiry at the deadline, stop, deadlines that move, destruction.
#include "http/exchange_watchdog.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using promptpack::detail::exchange_watchdog;

// Runs `io` until it has nothing left to do, or 5 s.
void run_all(boost::asio::io_context& io) {
  io.run_for(5s);
}

// Calls `action` on `io`'s thread after `delay`.
template <class Action>
void after(boost::asio::io_context& io, clock_type::duration delay, Action action) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io, delay);
  timer->async_wait([timer, action](auto) { action(); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exchange_watchdog)

BOOST_AUTO_TEST_CASE(an_exchange_past_its_deadline_expires_once) {
  boost::asio::io_context io;
  int expiries = 0;
  clock_type::time_point expired_at{};
  promptpack::detail::exchange_watchdog watchdog(io.get_executor(), [&] {
    ++expiries;
    expired_at = clock_type::now();
  });
  const auto started = clock_type::now();
  watchdog.start(50ms);
  BOOST_TEST(!watchdog.expired());
  run_all(io);
  BOOST_TEST(expiries == 1);
  BOOST_TEST(watchdog.expired());
  BOOST_TEST((expired_at - started >= 50ms));
}

BOOST_AUTO_TEST_CASE(a_stopped_exchange_never_expires) {
  boost::asio::io_context io;
  int expiries = 0;
  promptpack::detail::exchange_watchdog watchdog(io.get_executor(), [&] { ++expiries; });
  // Scheduled first, so it is due before the deadline however late start() runs; timers that are
  // due together run in the order of their times.
  after(io, 5ms, [&] { watchdog.stop(); });
  watchdog.start(30ms);
  run_all(io);  // the wait still fires at 30 ms, finds no exchange and is not re-armed
  BOOST_TEST(expiries == 0);
  BOOST_TEST(!watchdog.expired());
}

BOOST_AUTO_TEST_CASE(each_exchange_gets_its_own_deadline_from_one_wait) {
  boost::asio::io_context io;
  int expiries = 0;
  clock_type::time_point expired_at{}, last_start{};
  promptpack::detail::exchange_watchdog watchdog(io.get_executor(), [&] {
    ++expiries;
    expired_at = clock_type::now();
  });
  // Exchanges of 20 ms each for 200 ms, each within its 60 ms: the first wait fires at 60 ms
  // during a later exchange and is moved to that exchange's deadline, and so on.
  // The exchanges are scheduled before the first starts, so each one's end is due before the
  // deadline of the one before it however the thread is delayed.
  for (int i = 1; i <= 10; ++i) {
    after(io, i * 20ms, [&, i] {
      watchdog.stop();
      if (i < 10) watchdog.start(60ms);
    });
  }
  watchdog.start(60ms);
  run_all(io);
  BOOST_TEST(expiries == 0);

  // One more that takes too long expires 60 ms after its own start, not the first one's.
  last_start = clock_type::now();
  watchdog.start(60ms);
  io.restart();
  run_all(io);
  BOOST_TEST(expiries == 1);
  BOOST_TEST((expired_at - last_start >= 60ms));
}

BOOST_AUTO_TEST_CASE(destroyed_with_a_wait_pending_calls_nothing) {
  boost::asio::io_context io;
  int expiries = 0;
  std::optional<promptpack::detail::exchange_watchdog> watchdog;
  watchdog.emplace(io.get_executor(), [&] { ++expiries; });
  watchdog->start(20ms);
  watchdog.reset();  // the pending wait is cancelled and completes without calling back
  run_all(io);
  BOOST_TEST(expiries == 0);
}

BOOST_AUTO_TEST_SUITE_END()
