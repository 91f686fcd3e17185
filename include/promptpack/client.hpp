// promptpack::client: packs prompts into batched requests over pools of keep-alive connections.
#pragma once

#include <promptpack/client_config.hpp>
#include <promptpack/client_stats.hpp>
#include <promptpack/completion.hpp>
#include <promptpack/sampling_params.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>

#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack {

namespace detail {
class client_engine;
struct request_group;
}  // namespace detail

/// A (model, params) pair prepared once: prompts submitted with the same group may share a
/// request. Cheap to copy; keep it for as long as you submit with it. Opaque.
class group_handle {
 public:
  group_handle() = default;
  explicit operator bool() const noexcept { return static_cast<bool>(group_); }
  friend bool operator==(const group_handle&, const group_handle&) = default;
  /// Equal handles hash alike (for maps keyed by group).
  std::size_t hash() const noexcept { return std::hash<const void*>()(group_.get()); }

 private:
  friend class detail::client_engine;
  explicit group_handle(std::shared_ptr<const detail::request_group> group)
      : group_(std::move(group)) {}
  std::shared_ptr<const detail::request_group> group_;
};

enum class shutdown_mode {
  drain,   ///< finish every accepted prompt, then stop
  cancel,  ///< complete every unfinished prompt with a `cancelled` error, then stop
};

/// Sends prompts to one or many custom endpoints, many prompts per request.
///
/// Two forms:
/// - `client(config)` owns an io_context and `config.threads` I/O threads; `shutdown()` blocks.
/// - `client(executor, config)` runs on the caller's executor and starts no thread. Its
///   connections keep the caller's io_context busy until `async_shutdown()` completes.
///
/// Thread safety: every member function may be called from any number of threads at once,
/// except the destructor. Callbacks and sinks run on the client's executor: they must not
/// block for long, and must not call shutdown() or destroy the client.
class client {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Starts the I/O threads. Connections are opened lazily. Throws std::invalid_argument on a bad
  /// configuration (no endpoint, a malformed URL, an unreadable ca_file, bad extra params, a
  /// control character in the API key, a header or a URL, a header name that is not a token).
  explicit client(client_config config);
  /// Runs on `executor` (e.g. `ioc.get_executor()`), with no thread of its own. Throws as above.
  client(executor_type executor, client_config config);
  /// The threaded form cancels whatever is unfinished and joins its threads. The executor form
  /// starts a cancelling shutdown and returns at once; the client's work then ends when the
  /// caller's io_context runs it (await async_shutdown() first to end it in order).
  ~client();
  /// Throws std::invalid_argument for what the constructor would refuse, without starting
  /// anything: lets a tool check its settings before it touches its output.
  static void validate(const client_config& config);

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept;

  /// The group of the configured model with `params` (the configured defaults if omitted).
  group_handle group() const;
  group_handle group(const sampling_params& params) const;
  /// The group of another model: `model` as the user names it (`custom/` is stripped).
  group_handle group(std::string_view model, const sampling_params& params) const;

  /// One prompt, one future. Allocates per prompt: for many prompts prefer submit_bulk().
  std::future<prompt_result> submit(std::string prompt);
  std::future<prompt_result> submit(std::string prompt, const sampling_params& params);
  std::vector<std::future<prompt_result>> submit_many(std::span<const std::string> prompts,
                                                      const sampling_params& params);

  /// The bulk path: no per-prompt future, lock or allocation. The prompts' bytes must stay valid
  /// until sink.on_complete() returns. Blocks while max_pending prompts are pending. `bytes`:
  /// prompt_bytes::json_safe when the caller already knows the prompts need no escaping.
  void submit_bulk(std::span<const std::string_view> prompts, const group_handle& group,
                   bulk_sink& sink, prompt_bytes bytes = prompt_bytes::any);
  /// The bulk path with one future for the whole span, results in input order.
  std::future<std::vector<prompt_result>> submit_bulk(std::span<const std::string_view> prompts,
                                                      const group_handle& group,
                                                      prompt_bytes bytes = prompt_bytes::any);

  /// Blocks until the prompt completes. Not from the client's own executor.
  prompt_result complete(std::string prompt, const sampling_params& params);

  /// Completes `prompt` asynchronously with void(boost::system::error_code, prompt_result). The
  /// error code is a promptpack::errc when the prompt failed (prompt_result::error says more), so
  /// `use_awaitable` throws boost::system::system_error then; `as_tuple(use_awaitable)` does not.
  ///
  /// Cancellation: the token's cancellation slot is honoured. On cancellation the handler runs
  /// at once with boost::asio::error::operation_aborted; a prompt already on the wire has its
  /// result dropped. Emit the cancellation on the handler's associated executor (as for any Asio
  /// operation): the slot is cleared there when the result comes, and a clear racing an emit on
  /// another thread is undefined. In a ranged make_parallel_group, bind the token to the awaiting
  /// coroutine's executor (bind_executor(executor, deferred)): the group gives each operation's
  /// handler the operation's own executor, the system executor for a plain deferred.
  ///
  /// The handler runs on its associated executor (the client's executor by default), which is
  /// kept busy (outstanding work) until it has run. Never blocks: when max_pending prompts are
  /// pending, the prompt waits for room.
  template <class CompletionToken = boost::asio::deferred_t>
  auto async_complete(std::string prompt, const sampling_params& params,
                      CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, prompt_result)>(
        [this](auto handler, std::string p, const sampling_params& sp) {
          // Taken before the handler's type is erased: its own executor, tracked, so that the
          // caller's io_context keeps running until the handler has run.
          executor_type work =
              boost::asio::prefer(boost::asio::get_associated_executor(handler, get_executor()),
                                  boost::asio::execution::outstanding_work.tracked);
          start_async(std::move(p), sp, completion_handler(std::move(handler)), std::move(work));
        },
        token, std::move(prompt), params);
  }

  /// Stops accepting prompts (later submissions complete with `cancelled`), then drains or
  /// cancels what is unfinished, and completes with void(boost::system::error_code) when every
  /// accepted prompt has completed and every connection has closed. Idempotent.
  template <class CompletionToken = boost::asio::deferred_t>
  auto async_shutdown(shutdown_mode mode, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        [this](auto handler, shutdown_mode m) {
          start_shutdown(m, shutdown_handler(std::move(handler)));
        },
        token, mode);
  }

  /// The threaded form's shutdown: as async_shutdown, but blocks until it is over. Throws
  /// std::logic_error in the executor form, where blocking could stall the caller's own loop.
  void shutdown(shutdown_mode mode = shutdown_mode::drain);

  client_stats stats() const;
  const client_config& config() const noexcept;

 private:
  using completion_handler =
      boost::asio::any_completion_handler<void(boost::system::error_code, prompt_result)>;
  using shutdown_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  void start_async(std::string prompt, const sampling_params& params, completion_handler handler,
                   executor_type handler_work);
  void start_shutdown(shutdown_mode mode, shutdown_handler handler);

  std::shared_ptr<detail::client_engine> engine_;
};

}  // namespace promptpack

template <>
struct std::hash<promptpack::group_handle> {
  std::size_t operator()(const promptpack::group_handle& h) const noexcept { return h.hash(); }
};
