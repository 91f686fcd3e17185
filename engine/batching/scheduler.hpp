// Forms batches from queued prompts and hands them to idle connections, by weight and health.
#pragma once

#include "batching/work.hpp"
#include "retry/endpoint_health.hpp"
#include "retry/exchange_outcome.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>

#include <condition_variable>
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
  health_config health;
};

/// Batches that the scheduler gives up on (nowhere to send them, or shut down), with the reason.
using batch_failure_handler = std::function<void(batch_ptr, const exchange_outcome&, errc)>;

/// All methods are thread-safe: one mutex guards the queues (held for a few hundred ns per batch
/// or per submit call, never per prompt, and never across I/O or user callbacks).
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
  void acquire_async(std::size_t count, std::function<void(bool admitted)> admit);
  /// Prompts completed: frees room.
  void release(std::size_t count);

  // --- the prompt side ---
  /// Queues prompts of one group. Their room must have been acquired.
  void enqueue(const GroupHandle& group, std::span<const work_item> items);

  // --- the connection side ---
  /// Completes with the next batch for a connection of `endpoint`, or nullptr when the
  /// scheduler is closed and the connection should end.
  template <class Token>
  auto async_next_batch(std::size_t endpoint, Token&& token) {
    return boost::asio::async_initiate<Token, void(batch_ptr)>(
        [this, endpoint](auto handler) { park(endpoint, next_batch_handler(std::move(handler))); },
        token);
  }
  /// The exchange of a batch taken by `endpoint` ended; `outcome` updates the endpoint's health.
  void exchange_done(std::size_t endpoint, const exchange_outcome& outcome);
  /// True when an endpoint other than `endpoint` is healthy (not cooling down).
  bool another_endpoint_available(std::size_t endpoint) const;
  /// Sends `b` again as soon as a connection is free (ahead of new work).
  void resend(batch_ptr b);
  /// Sends `b` again after `delay`.
  void retry_later(batch_ptr b, std::chrono::milliseconds delay);
  /// A 413 from `endpoint`: its batches are capped at `limit` prompts from now on.
  void lower_batch_limit(std::size_t endpoint, std::size_t limit);
  /// A cleared batch for reuse (keeps its vector's capacity).
  batch_ptr make_batch();
  void recycle(batch_ptr b);

  // --- shutdown ---
  /// Accepts no more prompts. With `cancel`, hands every queued batch to the failure handler.
  /// Idle connections are released once nothing is pending.
  void close(bool cancel);
  /// Blocks until every accepted prompt has been released.
  void wait_idle();
  bool closed() const;
  /// Cancels the wake-up timer, so that the I/O threads can run out of work once closed.
  void cancel_timer();
  std::uint64_t pending() const;

 private:
  struct endpoint_state {
    double weight = 1;
    std::size_t in_flight = 0;
    std::size_t batch_limit = 0;
    endpoint_health health;
    std::vector<next_batch_handler> idle;
  };

  // Work decided under the lock and carried out after it is released (user code and handlers
  // never run under the lock).
  struct deferred {
    std::vector<std::pair<next_batch_handler, batch_ptr>> handoffs;
    std::vector<std::pair<batch_ptr, errc>> failures;
    std::vector<std::function<void(bool)>> admissions;
    bool admitted = true;
  };

  void park(std::size_t endpoint, next_batch_handler handler);
  // Matches queued batches with idle connections, then releases the lock and runs `todo`.
  void pump(std::unique_lock<std::mutex>& lock, deferred& todo);
  void run(deferred& todo);
  batch_ptr take_batch(clock::time_point now);
  std::unordered_map<const request_group*, batch_ptr>::iterator oldest_open();
  batch_ptr new_batch_locked();
  int pick_endpoint(clock::time_point now) const;
  void arm_timer(clock::time_point when);
  void collect_all_queued(deferred& todo, errc type);

  scheduler_config config_;
  batch_failure_handler on_failure_;
  mutable std::mutex mutex_;
  std::condition_variable room_cv_;
  std::condition_variable idle_cv_;
  std::size_t pending_ = 0;
  bool closed_ = false;
  std::deque<std::pair<std::size_t, std::function<void(bool)>>> waiting_admissions_;

  std::vector<endpoint_state> endpoints_;
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
