// Forms batches from queued prompts and hands them to idle connections, by weight and health.
#pragma once

#include "batching/admission.hpp"
#include "batching/endpoint_table.hpp"
#include "batching/work.hpp"
#include "retry/exchange_outcome.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace promptpack::detail {

struct scheduler_config {
  std::size_t max_batch_prompts = 64;
  std::size_t max_batch_bytes = 8u << 20;
  std::chrono::microseconds max_delay{0};
  std::size_t max_pending = 1u << 16;
  std::chrono::milliseconds total_timeout{3600000};
  endpoint_limits endpoints;
};

/// Batches that the scheduler gives up on (nowhere to send them, or shut down), with the reason.
using batch_failure_handler = std::function<void(batch_ptr, const exchange_outcome&, errc)>;

/// All methods are thread-safe: one mutex guards the queues (held for a few hundred ns per batch
/// or per submit call, never per prompt, and never across I/O or user callbacks). Methods that
/// depend on time take it as `now`, so tests drive the clock; only the wake-up timer reads it.
class scheduler {
 public:
  using next_batch_handler = boost::asio::any_completion_handler<void(batch_ptr)>;

  scheduler(boost::asio::any_io_executor timer_executor, scheduler_config config,
            std::vector<double> endpoint_weights, batch_failure_handler on_failure);

  // --- admission (max_pending) ---
  /// Blocks until `count` more prompts fit (count <= max_pending). False once closed.
  bool acquire(std::size_t count);
  /// Runs `admit` (on the caller's thread, or later on the thread that frees room) once `count`
  /// prompts fit, or with false once closed.
  void acquire_async(std::size_t count, admission::admit_handler admit);
  /// Prompts completed: frees room.
  void release(std::size_t count, clock::time_point now);

  // --- the prompt side ---
  /// Queues prompts of one group. Their room must have been acquired.
  void enqueue(const group_ptr& group, std::span<const work_item> items, clock::time_point now);

  // --- the connection side ---
  /// Completes with the next batch for a connection of `endpoint`, or nullptr when the
  /// scheduler is closed and the connection should end.
  template <class Token>
  auto async_next_batch(std::size_t endpoint, Token&& token) {
    return boost::asio::async_initiate<Token, void(batch_ptr)>(
        [this, endpoint](auto handler) {
          park(endpoint, next_batch_handler(std::move(handler)), clock::now());
        },
        token);
  }
  /// Parks an idle connection of `endpoint` (what async_next_batch does, with the time given).
  void park(std::size_t endpoint, next_batch_handler handler, clock::time_point now);
  /// The exchange of a batch taken by `endpoint` ended; `outcome` updates the endpoint's health.
  void exchange_done(std::size_t endpoint, const exchange_outcome& outcome, clock::time_point now);
  /// A batch of `prompts` taken by `endpoint` was not sent after all (every caller had
  /// cancelled, or none was valid UTF-8): the rate limits get back what its dispatch took.
  void exchange_skipped(std::size_t endpoint, std::size_t prompts, clock::time_point now);
  /// `prompts` left a batch taken by `endpoint` before it was sent (cancelled callers, prompts
  /// that are not UTF-8), and the rest went: the prompt rate limit gets theirs back.
  void prompts_dropped(std::size_t endpoint, std::size_t prompts, clock::time_point now);
  /// True when an endpoint other than `endpoint` is healthy (not cooling, paused or refusing).
  bool another_endpoint_available(std::size_t endpoint, clock::time_point now) const;
  /// Sends `b` again as soon as a connection is free (ahead of new work).
  void resend(batch_ptr b, clock::time_point now);
  /// Sends `b` again at `when`.
  void retry_later(batch_ptr b, clock::time_point when, clock::time_point now);
  /// A rate limit from `endpoint`: it gets no batch before `until`; others take its load.
  void pause_endpoint(std::size_t endpoint, clock::time_point until, clock::time_point now);
  /// A 401/403/404/405/407 from `endpoint` (`why` says what it answered).
  void endpoint_refused(std::size_t endpoint, int status, const std::string& why);
  /// A 413 from `endpoint` to a batch of `refused_size` prompts: its batches stay below it.
  void too_large(std::size_t endpoint, std::size_t refused_size, clock::time_point now);
  /// `--batch-size auto`: each tuned endpoint's size and why; "" otherwise.
  std::string tuning_summary() const;
  /// A cleared batch for reuse (keeps its vector's capacity).
  batch_ptr make_batch();
  void recycle(batch_ptr b);

  // --- shutdown ---
  /// Accepts no more prompts. With `cancel`, hands every queued batch to the failure handler.
  /// Idle connections are released once nothing is pending.
  void close(bool cancel, clock::time_point now);
  /// Blocks until every accepted prompt has been released.
  void wait_idle();
  bool closed() const;
  /// Cancels the wake-up timer, so that the I/O threads can run out of work once closed.
  void cancel_timer();
  std::uint64_t pending() const;
  /// Time endpoints spent paused by rate limits, and how many rate-limit answers came.
  std::pair<clock::duration, std::uint64_t> rate_limits() const;

 private:
  // Work decided under the lock and carried out after it is released (user code and handlers
  // never run under the lock).
  struct deferred {
    std::vector<std::pair<next_batch_handler, batch_ptr>> handoffs;
    std::vector<std::pair<batch_ptr, exchange_outcome>> failures;
    std::vector<admission::admit_handler> admitted;
    std::vector<admission::admit_handler> refused;
  };

  // Matches queued batches with idle connections, then releases the lock and runs `todo`.
  void pump(std::unique_lock<std::mutex>& lock, deferred& todo, clock::time_point now);
  void run(deferred& todo);
  batch_ptr take_batch(clock::time_point now);
  std::unordered_map<const request_group*, batch_ptr>::iterator oldest_open();
  batch_ptr new_batch_locked();
  int pick_endpoint(clock::time_point now);
  void arm_timer(clock::time_point when);
  void collect_all_queued(deferred& todo, const exchange_outcome& why);
  bool has_work() const;

  scheduler_config config_;
  batch_failure_handler on_failure_;
  mutable std::mutex mutex_;
  admission admission_;
  endpoint_table endpoints_;
  std::vector<std::vector<next_batch_handler>> idle_;  // parked connections, per endpoint

  std::unordered_map<const request_group*, batch_ptr> open_;  // filling, one per group
  // Open batches in the order they opened, so the oldest is found without a scan of open_
  // (a job with a seed per line has as many groups as lines).
  struct open_entry {
    const request_group* group;
    const batch* filling;
    clock::time_point opened;
  };
  std::deque<open_entry> open_order_;
  std::deque<batch_ptr> ready_;                          // closed, waiting for a connection
  std::multimap<clock::time_point, batch_ptr> delayed_;  // backing off
  std::vector<batch_ptr> spare_;                         // recycled

  boost::asio::steady_timer timer_;
  clock::time_point timer_at_ = clock::time_point::max();
};

}  // namespace promptpack::detail
