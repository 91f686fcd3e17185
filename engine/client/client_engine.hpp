// The engine behind promptpack::client: I/O threads, TLS, scheduler, connections and delivery.
#pragma once

#include "batching/scheduler.hpp"
#include "batching/work.hpp"
#include "client/latency_histogram.hpp"
#include "http/url.hpp"
#include "retry/retry_policy.hpp"
#include "text/secret_redactor.hpp"

#include <promptpack/client.hpp>
#include <promptpack/protocol/response_parser.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace promptpack::detail {

/// Relaxed atomics behind client_stats.
struct engine_counters {
  std::atomic<std::uint64_t> submitted{0}, succeeded{0}, failed{0}, requests{0}, prompts_sent{0},
      retried{0}, splits{0}, connects{0}, bytes_sent{0}, bytes_received{0}, in_flight{0};
  std::array<std::atomic<std::uint64_t>,
             std::tuple_size_v<decltype(client_stats::requests_by_prompts)>>
      requests_by_prompts{};  // see client_stats
};

/// Shared by the client and its connection coroutines, so that in the executor form a client
/// destroyed without async_shutdown leaves nothing dangling: the engine lives until its last
/// connection has ended.
class client_engine : public std::enable_shared_from_this<client_engine> {
 public:
  /// With an executor: runs on it and starts no thread. Without: owns an io_context and
  /// config.threads threads.
  client_engine(client_config config, std::optional<boost::asio::any_io_executor> executor);
  ~client_engine();
  /// Opens the connections. Separate from the constructor: they hold a shared_ptr to the engine.
  void start();
  /// The threaded form's end: cancels what is unfinished, then joins the threads.
  void stop_threads();
  bool owns_threads() const noexcept { return own_ioc_.has_value(); }

  /// Throws std::invalid_argument for what the constructor would refuse; opens no connection.
  static void validate(const client_config& config);

  group_handle group(std::string_view model, const sampling_params& params);
  /// The group behind a handle, and a handle for a group (group_handle is opaque to users).
  static const group_ptr& unwrap(const group_handle& handle) { return handle.group_; }
  static group_handle wrap(group_ptr group) { return group_handle(std::move(group)); }
  /// Validates, admits (blocking) and queues; invalid prompts complete at once.
  void submit_bulk(std::span<const std::string_view> prompts, const group_handle& group,
                   bulk_sink& sink, prompt_bytes bytes = prompt_bytes::any);
  /// One prompt whose sink owns its bytes and its submission (engine_owned false, count 1);
  /// admission never blocks the caller. Setting `owner.abandoned` later drops the prompt from
  /// its batch if that has not been sent yet.
  void submit_owned_async(std::string_view prompt, const group_handle& group, submission& owner);
  /// Blocks until every accepted prompt has completed and every connection has ended.
  void shutdown(shutdown_mode mode);
  /// Starts the same shutdown; `done` runs (on its associated executor) once it is over.
  void async_shutdown(shutdown_mode mode,
                      boost::asio::any_completion_handler<void(boost::system::error_code)> done);
  client_stats stats() const;
  const client_config& config() const noexcept { return config_; }
  boost::asio::any_io_executor executor() const { return executor_; }

  // --- used by connections ---
  const endpoint_url& url(std::size_t endpoint) const { return urls_[endpoint]; }
  boost::asio::ssl::context& tls_context() { return *tls_; }
  scheduler& queue() { return *scheduler_; }
  const retry_policy& policy() const { return policy_; }
  /// Redacts the API key from what endpoints send back (outputs and quoted error text).
  const secret_redactor& key_redactor() const { return key_redactor_; }
  engine_counters& counters() { return counters_; }
  latency_histogram& latency() { return latency_; }
  bool cancelling() const noexcept { return cancelling_.load(std::memory_order_acquire); }

  /// Completes every prompt of `b`: answered ones from `parsed`, the rest with `error`
  /// (`parsed` may be null: then every prompt gets `error`). Recycles the batch.
  void deliver(batch_ptr b, const parsed_response* parsed, const prompt_error* error);
  /// Completes the prompts of `b` whose callers abandoned them (with `cancelled`) and takes them
  /// out; false when none is left to send.
  bool drop_abandoned(batch& b);
  /// Completes the prompts of `b` that are not valid UTF-8 (with `invalid_input`) and takes them
  /// out, keeping the others' order; false when none is left to send. Called when encoding found
  /// one: the check rides on the escaping pass, so valid prompts are never scanned twice.
  bool drop_invalid_utf8(batch& b);
  /// Completes every prompt of `b` with one error built from `outcome`.
  void fail(batch_ptr b, const exchange_outcome& outcome, errc type);

 private:
  /// Closes the scheduler (once); false when it was already closed.
  bool begin_shutdown(shutdown_mode mode);
  void connection_ended();
  /// Hands results to their sinks, one call per run of items from the same submission.
  static void complete_items(std::span<const work_item> items,
                             std::span<const bulk_result> results);
  /// Completes items that were never queued (bad input, or shut down) with `error`.
  void complete_with(std::span<const work_item> items, const prompt_error& error);
  // Takes the `unwanted` prompts out of `b` (the others keep their order), completes them with
  // `error` and frees their room; false when none is left.
  template <class Unwanted>
  bool drop_where(batch& b, Unwanted unwanted, const prompt_error& error);
  void enqueue_chunk(std::span<const std::string_view> prompts, std::size_t first_index,
                     const group_ptr& group, submission* owner);

  client_config config_;
  secret_redactor key_redactor_;
  std::vector<endpoint_url> urls_;
  retry_policy policy_;
  engine_counters counters_;
  latency_histogram latency_;
  std::atomic<bool> cancelling_{false};

  std::optional<boost::asio::io_context> own_ioc_;  // the threaded form only
  boost::asio::any_io_executor executor_;
  // Parked connections hold no I/O: this tracked executor keeps run() from returning until
  // shutdown is over.
  boost::asio::any_io_executor work_;
  std::optional<boost::asio::ssl::context> tls_;
  std::unique_ptr<scheduler> scheduler_;

  struct connection_slot {
    explicit connection_slot(boost::asio::any_io_executor e) : executor(std::move(e)) {}
    /// Where the connection's handlers run, one at a time: a strand, or the io_context itself
    /// when one thread runs it.
    boost::asio::any_io_executor executor;
    boost::asio::cancellation_signal cancel;
  };
  std::vector<std::unique_ptr<connection_slot>> connections_;
  std::mutex exit_mutex_;
  std::condition_variable exit_cv_;
  std::size_t connections_running_ = 0;
  std::vector<std::thread> threads_;

  std::mutex groups_mutex_;
  std::unordered_map<std::string, std::weak_ptr<const request_group>> groups_;  // by group_key
  group_ptr find_group(std::string_view model, const sampling_params& params);
  std::size_t groups_after_sweep_ = 0;  // registry size after the last sweep
  group_ptr default_group_;             // the configured model and params
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  // async_shutdown's handlers, run when the last connection ends (guarded by exit_mutex_).
  std::vector<boost::asio::any_completion_handler<void(boost::system::error_code)>> on_stopped_;
};

/// Runs one keep-alive connection of `endpoint` on `strand` (its handlers run there one at a
/// time: a strand, or a one-thread io_context's executor) until the scheduler closes; the
/// coroutine keeps `engine` alive.
void spawn_connection(std::shared_ptr<client_engine> engine, std::size_t endpoint,
                      boost::asio::any_io_executor strand, boost::asio::cancellation_slot cancel,
                      std::function<void()> on_exit);

}  // namespace promptpack::detail
