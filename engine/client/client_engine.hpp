// The engine behind promptpack::Client: I/O threads, TLS, scheduler, connections and delivery.
#pragma once

#include "batching/scheduler.hpp"
#include "batching/work.hpp"
#include "client/latency_histogram.hpp"
#include "http/url.hpp"
#include "retry/retry_policy.hpp"

#include <promptpack/client.hpp>
#include <promptpack/response_parser.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace promptpack::detail {

/// Relaxed atomics behind ClientStats.
struct engine_counters {
  std::atomic<std::uint64_t> submitted{0}, succeeded{0}, failed{0}, requests{0}, prompts_sent{0},
      retried{0}, splits{0}, connects{0}, bytes_sent{0}, bytes_received{0}, in_flight{0};
};

class client_engine {
 public:
  explicit client_engine(ClientConfig config);
  ~client_engine();

  /// Throws std::invalid_argument for what the constructor would refuse; opens no connection.
  static void validate(const ClientConfig& config);

  GroupHandle group(std::string_view model, const SamplingParams& params);
  /// Validates, admits (blocking) and queues; invalid prompts complete at once.
  void submit_bulk(std::span<const std::string_view> prompts, const GroupHandle& group,
                   BulkSink& sink);
  /// One prompt whose sink owns its bytes; admission never blocks the caller.
  void submit_owned_async(std::string_view prompt, const GroupHandle& group, BulkSink& sink);
  void shutdown(ShutdownMode mode);
  ClientStats stats() const;
  const ClientConfig& config() const noexcept { return config_; }
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }

  // --- used by connections ---
  const endpoint_url& url(std::size_t endpoint) const { return urls_[endpoint]; }
  boost::asio::ssl::context& tls_context() { return *tls_; }
  scheduler& queue() { return *scheduler_; }
  const retry_policy& policy() const { return policy_; }
  engine_counters& counters() { return counters_; }
  latency_histogram& latency() { return latency_; }
  bool cancelling() const noexcept { return cancelling_.load(std::memory_order_acquire); }

  /// Completes every prompt of `b`: answered ones from `parsed`, the rest with `error`
  /// (`parsed` may be null: then every prompt gets `error`). Recycles the batch.
  void deliver(batch_ptr b, const parsed_response* parsed, const Error* error);
  /// Completes every prompt of `b` with one error built from `outcome`.
  void fail(batch_ptr b, const exchange_outcome& outcome, errc type);

 private:
  void start_connections();
  /// Hands results to their sinks, one call per run of items from the same submission.
  static void complete_items(std::span<const work_item> items, std::span<const BulkResult> results);
  /// Completes items that were never queued (bad input, or shut down) with `error`.
  void complete_with(std::span<const work_item> items, const Error& error);
  void enqueue_chunk(std::span<const std::string_view> prompts, std::size_t first_index,
                     const GroupHandle& group, submission* owner);

  ClientConfig config_;
  std::vector<endpoint_url> urls_;
  retry_policy policy_;
  engine_counters counters_;
  latency_histogram latency_;
  std::atomic<bool> cancelling_{false};

  boost::asio::io_context ioc_;
  // Parked connections hold no I/O, so the threads need this to stay in run() while idle.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::optional<boost::asio::ssl::context> tls_;
  std::unique_ptr<scheduler> scheduler_;

  struct connection_slot {
    explicit connection_slot(boost::asio::strand<boost::asio::io_context::executor_type> s)
        : strand(std::move(s)) {}
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    boost::asio::cancellation_signal cancel;
  };
  std::vector<std::unique_ptr<connection_slot>> connections_;
  std::mutex exit_mutex_;
  std::condition_variable exit_cv_;
  std::size_t connections_running_ = 0;
  std::vector<std::thread> threads_;

  std::mutex groups_mutex_;
  std::unordered_map<std::string, std::weak_ptr<const request_group>> groups_;  // by group_key
  std::size_t groups_after_sweep_ = 0;  // registry size after the last sweep
  GroupHandle default_group_;           // the configured model and params
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
};

/// Runs one keep-alive connection of `endpoint` until the scheduler closes.
void spawn_connection(client_engine& engine, std::size_t endpoint,
                      boost::asio::strand<boost::asio::io_context::executor_type> strand,
                      boost::asio::cancellation_slot cancel, std::function<void()> on_exit);

}  // namespace promptpack::detail
