// Counting deliveries with atomics on the client's threads; checking them on the test thread.
#include "common/counting_sink.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string_view>

#include "common/client_bulk.hpp"

namespace promptpack::test {

counting_sink::counting_sink(const std::vector<std::string>& prompts)
    : prompts_(prompts), counts_(prompts.size()) {}

void counting_sink::on_results(std::span<const bulk_result> results) {
  if (completed_.load()) late_results_.fetch_add(1);
  for (const auto& r : results) {
    if (r.index >= counts_.size()) {
      bad_index_.fetch_add(1);
      continue;
    }
    counts_[r.index].fetch_add(1);
    if (r.error == nullptr && r.outputs.size() == 1 &&
        r.outputs[0] == std::string_view(prompts_[r.index])) {
      echoed_.fetch_add(1);
    } else if (r.error != nullptr && !error_seen_.exchange(true)) {
      first_error_ = r.error->message;
    }
  }
}

void counting_sink::on_complete() {
  const int before = completes_.fetch_add(1);
  completed_.store(true);
  if (before == 0) done_.set_value();
}

bool counting_sink::wait() {
  return done_future_.wait_for(client_hang_guard) == std::future_status::ready;
}

void counting_sink::check_each_echoed_once() const {
  BOOST_TEST(completes_.load() == 1);
  BOOST_TEST(late_results_.load() == 0);
  BOOST_TEST(bad_index_.load() == 0);
  std::size_t not_once = 0;
  for (const auto& count : counts_) not_once += count.load() != 1;
  BOOST_TEST(not_once == 0u, not_once << " indices not delivered exactly once");
  BOOST_TEST(echoed_.load() == prompts_.size(), "first error: " << first_error_);
}

}  // namespace promptpack::test
