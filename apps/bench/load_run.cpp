// The benchmark's driver, its reusable submission blocks, and the measurement around them.
#include "bench/load_run.hpp"

#include "bench/arrival_schedule.hpp"
#include "bench/latency_distribution.hpp"
#include "bench/measurement_windows.hpp"

#include <boost/asio/defer.hpp>

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace promptpack::bench {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

class block_pool;

// One submission: its prompts and when they were submitted (closed loop) or were due to arrive
// (open loop, so that a late client does not hide its lateness: no coordinated omission).
class block final : public bulk_sink {
 public:
  explicit block(block_pool& pool) : pool_(pool) {}
  void on_results(std::span<const bulk_result> results) override;
  void on_complete() override;

  std::vector<std::string_view> prompts;
  std::vector<clock_type::time_point> arrivals;  // open loop: one per prompt
  clock_type::time_point submitted;
  bool measured = false;

 private:
  block_pool& pool_;
};

// The blocks, the free list the driver takes from, and the counters results land in.
class block_pool {
 public:
  block_pool(std::size_t blocks, std::size_t capacity) {
    for (std::size_t i = 0; i < blocks; ++i) {
      all_.push_back(std::make_unique<block>(*this));
      all_.back()->prompts.reserve(capacity);
      free_.push_back(all_.back().get());
    }
  }

  /// A free block, or null when none came free within `wait`.
  block* take(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_for(lock, wait, [&] { return !free_.empty(); })) return nullptr;
    block* b = free_.back();
    free_.pop_back();
    return b;
  }
  /// Closed loop: a finished block that `refill` fills again is resubmitted at once, on the I/O
  /// thread that finished it, so the load never waits for the driver thread to wake up (which
  /// cost a futex wake-up and two context switches per block).
  void refill_with(std::function<bool(block&)> refill, std::function<void(block&)> submit,
                   client::executor_type executor) {
    refill_ = std::move(refill);
    submit_ = std::move(submit);
    executor_ = std::move(executor);
  }
  void finished(block* b) {
    if (refill_ && refill_(*b)) {
      // Deferred rather than called: the engine releases the block's room after on_complete.
      boost::asio::defer(executor_, [this, b] { submit_(*b); });
      return;
    }
    give_back(b);
  }
  void give_back(block* b) {
    // Notified under the lock: once the last block is back, the driver may return and destroy
    // the pool, condition variable included, the moment the lock is free.
    std::lock_guard lock(mutex_);
    free_.push_back(b);
    freed_.notify_all();
  }
  /// True once every block is back, false when `wait` passed first.
  bool wait_all_free(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    return freed_.wait_for(lock, wait, [&] { return free_.size() == all_.size(); });
  }
  std::size_t size() const { return all_.size(); }

  /// Counts `results` in; returns how many of them were answered (not failed).
  std::uint64_t count(std::span<const bulk_result> results) {
    std::uint64_t failed = 0;
    for (const auto& r : results) {
      if (r.error) {
        ++failed;
        failed_by_type[static_cast<std::size_t>(r.error->type) % failed_by_type.size()].fetch_add(
            1, std::memory_order_relaxed);
      }
    }
    // Answered and failed apart: the sampler and the throughput read the answered count alone.
    failed_.fetch_add(failed, std::memory_order_relaxed);
    answered_.fetch_add(results.size() - failed, std::memory_order_relaxed);
    const auto now = clock_type::now().time_since_epoch().count();
    auto last = last_done_.load(std::memory_order_relaxed);
    while (now > last && !last_done_.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
    }
    return results.size() - failed;
  }

  latency_distribution latencies;
  std::array<std::atomic<std::uint64_t>, std::tuple_size_v<failures_by_type>> failed_by_type{};
  /// Measured prompts answered, and measured prompts that failed.
  std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  clock_type::time_point last_done() const {
    return clock_type::time_point(clock_type::duration(last_done_.load(std::memory_order_relaxed)));
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<block>> all_;
  std::vector<block*> free_;
  std::function<bool(block&)> refill_;
  std::function<void(block&)> submit_;
  client::executor_type executor_;
  std::atomic<std::uint64_t> answered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<clock_type::rep> last_done_{0};
};

void block::on_results(std::span<const bulk_result> results) {
  if (!measured) return;
  const auto now = clock_type::now();
  // Latencies are of answered prompts: the time a prompt took to fail is no response time.
  if (arrivals.empty()) {
    const std::uint64_t answered = pool_.count(results);
    if (answered > 0)
      pool_.latencies.record(static_cast<std::uint64_t>((now - submitted).count()), answered);
    return;
  }
  for (const auto& r : results) {
    if (!r.error)
      pool_.latencies.record(static_cast<std::uint64_t>((now - arrivals[r.index]).count()));
  }
  pool_.count(results);
}

void block::on_complete() {
  prompts.clear();
  arrivals.clear();
  pool_.finished(this);
}

// Samples the completed count every 10 ms while the load runs, for the stability windows.
class count_sampler {
 public:
  explicit count_sampler(const block_pool& pool) : pool_(pool), thread_([this] { run(); }) {}
  ~count_sampler() { stop(); }
  void start_measuring(clock_type::time_point t0) {
    std::lock_guard lock(mutex_);
    t0_ = t0;
    measuring_ = true;
  }
  std::vector<count_sample> stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return samples_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, 10ms, [&] { return stopping_; })) {
      if (measuring_)
        samples_.push_back({seconds_between(t0_, clock_type::now()), pool_.answered()});
    }
  }
  const block_pool& pool_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool measuring_ = false;
  clock_type::time_point t0_;
  std::vector<count_sample> samples_;
  std::thread thread_;
};

// What the driver tracks: the next prompt and arrival, and when the measured phase starts and
// ends. The closed loop's I/O threads fill blocks too, so it is shared under one lock, taken
// once per block.
struct load_state {
  load_state(client& c, const prompt_source& p, const load_settings& s, block_pool& blocks,
             count_sampler& counts, clock_type::time_point start)
      : driven(c),
        prompts(p),
        settings(s),
        pool(blocks),
        sampler(counts),
        group(c.group()),
        warmup_end(start + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(s.warmup_s))),
        next_arrival(start) {}

  client& driven;
  const prompt_source& prompts;
  const load_settings& settings;
  block_pool& pool;
  count_sampler& sampler;
  const group_handle group;
  const clock_type::time_point warmup_end;

  std::mutex mutex;
  bool stopping = false;        // Ctrl-C: fill no more blocks
  clock_type::time_point t0{};  // the first measured submission
  bool measuring = false;
  std::uint64_t measured_submitted = 0;
  clock_type::time_point last_submission{};
  double cpu_at_t0 = 0;
  client_stats stats_at_t0;
  std::uint64_t next_prompt = 0;
  clock_type::time_point next_arrival;  // open loop
  double max_lag_s = 0;                 // open loop

  bool measured_all() const {
    return settings.prompts ? measured_submitted >= settings.prompts
                            : measuring && last_submission - t0 >=
                                               std::chrono::duration<double>(settings.duration_s);
  }
  std::size_t room(std::size_t capacity) const {
    if (!measuring || settings.prompts == 0) return capacity;
    return static_cast<std::size_t>(
        std::min<std::uint64_t>(capacity, settings.prompts - measured_submitted));
  }
  // The measured phase starts with the first submission due at or after the warm-up's end.
  void start_measuring_at(clock_type::time_point due) {
    if (measuring || due < warmup_end) return;
    measuring = true;
    t0 = due;
    cpu_at_t0 = process_cpu_s();
    stats_at_t0 = driven.stats();
    sampler.start_measuring(t0);
  }
  void submitted(block& b, clock_type::time_point now) {
    if (b.measured) {
      measured_submitted += b.prompts.size();
      last_submission = now;
    }
    b.submitted = now;
  }

  // Closed loop: fills `b` with the next prompts, or says the load is over.
  bool fill_closed(block& b) {
    std::lock_guard lock(mutex);
    if (stopping || measured_all()) return false;
    const auto now = clock_type::now();
    start_measuring_at(now);
    b.measured = measuring;
    const std::size_t n = room(settings.block_prompts);
    prompts.append(next_prompt, n, b.prompts);
    next_prompt += n;
    submitted(b, now);
    return true;
  }

  // Open loop: every prompt already due, up to the block's room, and never across the warm-up's
  // end. False when none is.
  bool fill_open(block& b, arrival_schedule& schedule) {
    std::lock_guard lock(mutex);
    const auto now = clock_type::now();
    start_measuring_at(next_arrival);
    b.measured = measuring;
    const std::size_t n = room(settings.block_prompts);
    while (b.prompts.size() < n && next_arrival <= now &&
           (next_arrival >= warmup_end) == b.measured) {
      b.prompts.push_back(prompts.at(next_prompt++));
      b.arrivals.push_back(next_arrival);
      next_arrival += std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(schedule.next_gap_s()));
    }
    if (b.prompts.empty()) return false;
    if (b.measured) max_lag_s = std::max(max_lag_s, seconds_between(b.arrivals.front(), now));
    submitted(b, now);
    return true;
  }

  void submit(block& b) { driven.submit_bulk(b.prompts, group, b, prompts.bytes()); }
};

// As fast as the endpoint answers: every block is submitted once by this thread, then refilled
// by the I/O thread that completes it. This thread only watches for Ctrl-C and the end.
bool drive_closed_loop(load_state& state, const std::function<bool()>& stop_requested) {
  state.pool.refill_with([&state](block& b) { return state.fill_closed(b); },
                         [&state](block& b) { state.submit(b); }, state.driven.get_executor());
  for (std::size_t i = 0; i < state.pool.size(); ++i) {
    block* b = state.pool.take(0ms);
    if (!b) break;
    if (!state.fill_closed(*b)) {
      state.pool.give_back(b);
      break;
    }
    state.submit(*b);
  }
  bool interrupted = false;
  while (!state.pool.wait_all_free(50ms)) {
    if (interrupted || !stop_requested()) continue;
    std::lock_guard lock(state.mutex);
    interrupted = !state.measured_all();
    state.stopping = true;
  }
  return interrupted;
}

// On an arrival schedule: this thread sleeps to each arrival and submits what is due, so a slow
// endpoint shows as latency, never as a stalled schedule.
bool drive_open_loop(load_state& state, const std::function<bool()>& stop_requested) {
  arrival_schedule schedule(state.settings.rate, state.settings.burstiness);
  for (;;) {
    {
      std::lock_guard lock(state.mutex);
      if (state.measured_all()) break;
    }
    if (stop_requested()) return true;
    const auto now = clock_type::now();
    const auto next_arrival = state.next_arrival;  // only this thread changes it
    if (next_arrival > now) {
      // Sleep to the next arrival rather than spin: the client's CPU is part of what is measured.
      // A sleep overshoots by ~60 us; the lateness counts in the prompts' latency, as it should.
      std::this_thread::sleep_for(std::min<clock_type::duration>(next_arrival - now, 1ms));
      continue;
    }
    block* b = state.pool.take(50ms);
    if (!b) continue;
    if (!state.fill_open(*b, schedule)) {  // nothing due after all (the warm-up boundary)
      b->on_complete();
      continue;
    }
    state.submit(*b);
  }
  return false;
}

}  // namespace

bench_result run_load(client& client, const prompt_source& prompts, const load_settings& settings,
                      const std::function<bool()>& stop_requested) {
  const bool open_loop = settings.rate > 0;
  // Open loop: enough blocks that a slow endpoint shows as latency, not as a stalled schedule.
  const std::size_t blocks = open_loop ? 256 : settings.blocks_in_flight;
  block_pool pool(blocks, settings.block_prompts);
  count_sampler sampler(pool);
  load_state state(client, prompts, settings, pool, sampler, clock_type::now());

  bench_result result;
  result.cores =
      settings.busy_threads ? std::min(usable_cores(), settings.busy_threads) : usable_cores();
  result.cpu_includes_endpoint = settings.cpu_includes_endpoint;
  result.rate_requested = settings.rate;
  result.interrupted =
      open_loop ? drive_open_loop(state, stop_requested) : drive_closed_loop(state, stop_requested);
  while (!pool.wait_all_free(50ms)) {
  }
  const double cpu_at_end = process_cpu_s();
  const client_stats stats_at_end = client.stats();
  const std::vector<count_sample> samples = sampler.stop();
  if (!state.measuring) return result;  // stopped during the warm-up: nothing measured

  result.prompts_failed = pool.failed();
  result.prompts_ok = pool.answered();
  for (std::size_t t = 0; t < result.failed_by_type.size(); ++t) {
    result.failed_by_type[t] = pool.failed_by_type[t].load();
  }
  result.elapsed_s =
      std::max(1e-9, seconds_between(state.t0, std::max(pool.last_done(), state.t0)));
  // Throughput is of answered prompts: an endpoint that fails fast must not look fast.
  result.prompts_per_s = static_cast<double>(result.prompts_ok) / result.elapsed_s;
  result.requests = stats_at_end.requests_sent - state.stats_at_t0.requests_sent;
  result.requests_per_s = static_cast<double>(result.requests) / result.elapsed_s;
  if (result.requests > 0) {
    result.mean_prompts_per_request =
        static_cast<double>(stats_at_end.prompts_sent - state.stats_at_t0.prompts_sent) /
        static_cast<double>(result.requests);
  }
  const auto& l = pool.latencies;
  result.latency = {l.quantile_ns(0.50) / 1e6, l.quantile_ns(0.90) / 1e6,
                    l.quantile_ns(0.99) / 1e6, l.quantile_ns(0.999) / 1e6,
                    l.max_ns() / 1e6,          l.mean_ns() / 1e6};
  if (open_loop) {
    const double submit_span =
        seconds_between(state.t0, std::max(state.last_submission, state.next_arrival));
    result.rate_achieved =
        static_cast<double>(state.measured_submitted) / std::max(1e-9, submit_span);
    result.max_lag_ms = state.max_lag_s * 1e3;
    result.fell_behind = result.rate_achieved < 0.99 * settings.rate;
  }
  result.client_cpu_s = cpu_at_end - state.cpu_at_t0;
  if (const std::uint64_t completed = result.prompts_ok + result.prompts_failed; completed > 0) {
    result.client_us_per_prompt = result.client_cpu_s * 1e6 / static_cast<double>(completed);
  }
  result.client_limited = result.client_cpu_s >= 0.85 * result.elapsed_s * result.cores;
  result.window_prompts_per_s = window_rates(samples, result.elapsed_s, settings.windows);
  result.unstable = windows_disagree(result.window_prompts_per_s);
  return result;
}

}  // namespace promptpack::bench
