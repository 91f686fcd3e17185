// Tests for the pending window: room, FIFO waiting, hand-back on release, close, blocking waits.
#include "batching/admission.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace promptpack::detail {
// Lets BOOST_TEST print a verdict that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, admission::verdict value) {
  switch (value) {
    case admission::verdict::admitted:
      return out << "admitted";
    case admission::verdict::refused:
      return out << "refused";
    case admission::verdict::waiting:
      return out << "waiting";
  }
  return out << "verdict " << static_cast<int>(value);
}
}  // namespace promptpack::detail

namespace {

namespace pd = promptpack::detail;
using verdict = pd::admission::verdict;
using handler_list = std::vector<pd::admission::admit_handler>;
using names = std::vector<std::string>;

struct admission_fixture {
  names log;  // "name+" when admitted, "name-" when refused, in the order the handlers ran

  pd::admission::admit_handler note(std::string name) {
    return [this, name = std::move(name)](bool admitted) {
      log.push_back(name + (admitted ? "+" : "-"));
    };
  }

  // Runs the handlers handed back, in order, as the scheduler does.
  void run(handler_list& handlers, bool admitted) {
    for (auto& handler : handlers) handler(admitted);
    handlers.clear();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(admission)

BOOST_FIXTURE_TEST_CASE(admits_while_the_window_has_room, admission_fixture) {
  pd::admission window(3);
  auto first = note("first");
  BOOST_TEST(window.acquire_async(2, first) == verdict::admitted);
  BOOST_TEST(window.pending() == 2u);
  auto second = note("second");
  BOOST_TEST(window.acquire_async(1, second) == verdict::admitted);
  BOOST_TEST(window.pending() == 3u);
  // Admitted at once: the handler stays with the caller, who runs it; the window does not.
  BOOST_TEST(static_cast<bool>(first));
  BOOST_TEST(log.empty());

  auto third = note("third");
  BOOST_TEST(window.acquire_async(1, third) == verdict::waiting);
  BOOST_TEST(window.pending() == 3u);  // a waiting request holds no room
  BOOST_TEST(log.empty());
}

BOOST_FIXTURE_TEST_CASE(release_hands_back_waiting_requests_in_fifo_order, admission_fixture) {
  pd::admission window(2);
  auto full = note("full");
  BOOST_TEST(window.acquire_async(2, full) == verdict::admitted);
  auto a = note("a");
  auto big = note("big");
  auto c = note("c");
  BOOST_TEST(window.acquire_async(1, a) == verdict::waiting);
  BOOST_TEST(window.acquire_async(2, big) == verdict::waiting);
  BOOST_TEST(window.acquire_async(1, c) == verdict::waiting);
  // The window took the handlers in: the caller's variables no longer matter.
  a = nullptr;
  big = nullptr;
  c = nullptr;

  handler_list admitted;
  window.release(1, admitted);  // room for one: "a"
  run(admitted, true);
  BOOST_TEST(log == (names{"a+"}));
  BOOST_TEST(window.pending() == 2u);

  window.release(1, admitted);  // room for one again: "c" would fit, but "big" is ahead of it
  BOOST_TEST(admitted.empty());
  BOOST_TEST(window.pending() == 1u);

  window.release(1, admitted);  // room for two: "big"
  run(admitted, true);
  BOOST_TEST(log == (names{"a+", "big+"}));
  BOOST_TEST(window.pending() == 2u);

  window.release(2, admitted);
  run(admitted, true);
  BOOST_TEST(log == (names{"a+", "big+", "c+"}));
  BOOST_TEST(window.pending() == 1u);
}

BOOST_FIXTURE_TEST_CASE(one_release_hands_back_every_request_that_now_fits, admission_fixture) {
  pd::admission window(3);
  auto full = note("full");
  BOOST_TEST(window.acquire_async(3, full) == verdict::admitted);
  for (const char* name : {"a", "b", "c", "d"}) {
    auto handler = note(name);
    BOOST_TEST(window.acquire_async(1, handler) == verdict::waiting);
  }
  handler_list admitted;
  window.release(3, admitted);
  BOOST_TEST(admitted.size() == 3u);
  run(admitted, true);
  BOOST_TEST(log == (names{"a+", "b+", "c+"}));
  BOOST_TEST(window.pending() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_newcomer_waits_behind_a_waiting_request_even_if_it_fits,
                        admission_fixture) {
  pd::admission window(3);
  auto first = note("first");
  BOOST_TEST(window.acquire_async(2, first) == verdict::admitted);
  auto big = note("big");
  BOOST_TEST(window.acquire_async(2, big) == verdict::waiting);
  auto small = note("small");
  BOOST_TEST(window.acquire_async(1, small) == verdict::waiting);  // 2 + 1 fits, but "big" is first
  BOOST_TEST(window.pending() == 2u);

  handler_list admitted;
  window.release(2, admitted);
  run(admitted, true);
  BOOST_TEST(log == (names{"big+", "small+"}));
  BOOST_TEST(window.pending() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_request_larger_than_the_window_is_let_in_alone, admission_fixture) {
  pd::admission window(2);
  auto huge = note("huge");
  BOOST_TEST(window.acquire_async(5, huge) == verdict::admitted);  // nothing pending: in it goes
  BOOST_TEST(window.pending() == 5u);
  auto next = note("next");
  BOOST_TEST(window.acquire_async(1, next) == verdict::waiting);  // the window is over-full

  handler_list admitted;
  window.release(5, admitted);
  run(admitted, true);
  BOOST_TEST(log == (names{"next+"}));
  BOOST_TEST(window.pending() == 1u);

  // Waiting, it goes in once nothing else is pending, and not before.
  auto again = note("again");
  BOOST_TEST(window.acquire_async(3, again) == verdict::waiting);
  BOOST_TEST(log.size() == 1u);
  window.release(1, admitted);
  run(admitted, true);
  BOOST_TEST(log == (names{"next+", "again+"}));
  BOOST_TEST(window.pending() == 3u);
}

BOOST_FIXTURE_TEST_CASE(close_refuses_the_waiting_requests_and_every_later_one, admission_fixture) {
  pd::admission window(1);
  auto first = note("first");
  BOOST_TEST(window.acquire_async(1, first) == verdict::admitted);
  auto a = note("a");
  auto b = note("b");
  BOOST_TEST(window.acquire_async(1, a) == verdict::waiting);
  BOOST_TEST(window.acquire_async(1, b) == verdict::waiting);
  BOOST_TEST(!window.closed());

  handler_list refused;
  window.close(refused);
  BOOST_TEST(window.closed());
  BOOST_TEST(refused.size() == 2u);
  run(refused, false);
  BOOST_TEST(log == (names{"a-", "b-"}));

  auto late = note("late");
  BOOST_TEST(window.acquire_async(1, late) == verdict::refused);
  BOOST_TEST(static_cast<bool>(late));  // refused at once: the caller still holds it, to run
  BOOST_TEST(log.size() == 2u);

  // Room freed after close admits no one.
  handler_list admitted;
  window.release(1, admitted);
  BOOST_TEST(admitted.empty());
  BOOST_TEST(window.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(blocking_acquire_returns_at_once_while_it_fits_and_false_once_closed) {
  pd::admission window(2);
  std::mutex mutex;
  std::unique_lock lock(mutex);
  BOOST_TEST(window.acquire(lock, 1));
  BOOST_TEST(window.acquire(lock, 1));
  BOOST_TEST(window.pending() == 2u);

  handler_list admitted;
  window.release(2, admitted);
  BOOST_TEST(window.acquire(lock, 5));  // larger than the window, nothing pending: let in alone
  BOOST_TEST(window.pending() == 5u);
  window.release(5, admitted);
  window.wait_idle(lock);  // nothing pending: returns at once
  BOOST_TEST(window.pending() == 0u);

  handler_list refused;
  window.close(refused);
  BOOST_TEST(!window.acquire(lock, 1));  // closed: false, though there is room
  BOOST_TEST(window.pending() == 0u);
}

// In the tests below one thread blocks; Boost.Test is not thread-safe, so it only records what
// it got, and the test thread checks that after join(). Whether the waiter blocks before or
// after the test thread acts, the answer is the same.

// A full window of two, and a thread that acquires one more: `answer` is 1 once it got in, 0
// once it was refused. The test joins `waiter`.
struct blocked_acquire_fixture {
  pd::admission window{2};
  std::mutex mutex;
  std::atomic<int> answer = -1;
  std::thread waiter;

  blocked_acquire_fixture() {
    {
      std::unique_lock lock(mutex);
      BOOST_TEST_REQUIRE(window.acquire(lock, 2));
    }
    waiter = std::thread([this] {
      std::unique_lock waiter_lock(mutex);
      answer = window.acquire(waiter_lock, 1) ? 1 : 0;
    });
  }
};

BOOST_FIXTURE_TEST_CASE(a_blocked_acquire_gets_in_once_room_is_released, blocked_acquire_fixture) {
  {
    std::unique_lock lock(mutex);
    handler_list admitted;
    window.release(1, admitted);
  }
  waiter.join();
  BOOST_TEST(answer.load() == 1);
  BOOST_TEST(window.pending() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_blocked_acquire_returns_false_at_close, blocked_acquire_fixture) {
  {
    std::unique_lock lock(mutex);
    handler_list refused;
    window.close(refused);
    BOOST_TEST(refused.empty());  // a blocking acquire is no queued handler
  }
  waiter.join();
  BOOST_TEST(answer.load() == 0);
  BOOST_TEST(window.pending() == 2u);
}

BOOST_AUTO_TEST_CASE(wait_idle_returns_once_everything_is_released) {
  pd::admission window(4);
  std::mutex mutex;
  {
    std::unique_lock lock(mutex);
    BOOST_TEST_REQUIRE(window.acquire(lock, 3));
  }
  std::atomic<bool> idle_on_return = false;
  std::thread waiter([&] {
    std::unique_lock waiter_lock(mutex);
    window.wait_idle(waiter_lock);
    idle_on_return = window.pending() == 0u;
  });
  handler_list admitted;
  {
    std::unique_lock lock(mutex);
    window.release(1, admitted);  // two still pending: the waiter must not return here
  }
  {
    std::unique_lock lock(mutex);
    window.release(2, admitted);
  }
  waiter.join();
  BOOST_TEST(idle_on_return.load());
  BOOST_TEST(window.pending() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
