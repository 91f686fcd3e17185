// The handler behind stop_signal: async-signal-safe, one atomic and _exit.
#include "stop_signal.hpp"

#include <atomic>
#include <csignal>

#include <unistd.h>

namespace promptpack::cli {
namespace {

std::atomic<int> first_signal{0};
std::atomic<int> signals_received{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler must not lock");

extern "C" void on_stop_signal(int number) {
  int none = 0;
  first_signal.compare_exchange_strong(none, number);
  if (signals_received.fetch_add(1) >= 1) _exit(128 + number);
}

}  // namespace

void stop_signal::install() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in flight carry on; the flag is polled
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_signal::requested() noexcept {
  return first_signal.load(std::memory_order_relaxed) != 0;
}

int stop_signal::number() noexcept {
  return first_signal.load(std::memory_order_relaxed);
}

}  // namespace promptpack::cli
