// promptpack::Client: packs prompts into batched requests over pools of keep-alive connections.
#pragma once

#include <promptpack/client_config.hpp>
#include <promptpack/client_stats.hpp>
#include <promptpack/completion.hpp>
#include <promptpack/sampling_params.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

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
/// request. Cheap to copy; keep it for as long as you submit with it.
using GroupHandle = std::shared_ptr<const detail::request_group>;

enum class ShutdownMode {
  drain,   ///< finish every accepted prompt, then stop
  cancel,  ///< complete every unfinished prompt with a `cancelled` error, then stop
};

/// Sends prompts to one or many custom endpoints, many prompts per request.
///
/// Thread safety: every member function may be called from any number of threads at once,
/// except the destructor. Callbacks and sinks run on the client's I/O threads: they must not
/// block for long, and must not call shutdown() or destroy the client.
class Client {
 public:
  /// Starts the I/O threads. Connections are opened lazily. Throws std::invalid_argument on a bad
  /// configuration (no endpoint, a malformed URL, an unreadable ca_file, bad extra params).
  explicit Client(ClientConfig config);
  /// Cancels whatever is unfinished (as shutdown(ShutdownMode::cancel)) and joins the threads.
  ~Client();
  /// Throws std::invalid_argument for what the constructor would refuse, without starting
  /// anything: lets a tool check its settings before it touches its output.
  static void validate(const ClientConfig& config);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// The group of the configured model with `params` (the configured defaults if omitted).
  GroupHandle group() const;
  GroupHandle group(const SamplingParams& params) const;
  /// The group of another model: `model` as the user names it (`custom/` is stripped).
  GroupHandle group(std::string_view model, const SamplingParams& params) const;

  /// One prompt, one future. Allocates per prompt: for many prompts prefer submit_bulk().
  std::future<Completion> submit(std::string prompt);
  std::future<Completion> submit(std::string prompt, const SamplingParams& params);
  std::vector<std::future<Completion>> submit_many(std::span<const std::string> prompts,
                                                   const SamplingParams& params);

  /// The bulk path: no per-prompt future, lock or allocation. The prompts' bytes must stay valid
  /// until sink.on_complete() returns. Blocks while max_pending prompts are pending.
  void submit_bulk(std::span<const std::string_view> prompts, const GroupHandle& group,
                   BulkSink& sink);
  /// The bulk path with one future for the whole span, results in input order.
  std::future<std::vector<Completion>> submit_bulk(std::span<const std::string_view> prompts,
                                                   const GroupHandle& group);

  /// Blocks until the prompt completes.
  Completion complete(std::string prompt, const SamplingParams& params);

  /// Completes `prompt` asynchronously with signature void(Completion). Works with callbacks,
  /// boost::asio::use_awaitable, use_future and deferred. The handler runs on its associated
  /// executor (the client's I/O threads by default). Never blocks: when max_pending prompts are
  /// pending, the prompt waits for room.
  template <class CompletionToken>
  auto async_complete(std::string prompt, const SamplingParams& params, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(Completion)>(
        [this](auto handler, std::string p, const SamplingParams& sp) {
          start_async(std::move(p), sp,
                      boost::asio::any_completion_handler<void(Completion)>(std::move(handler)));
        },
        token, std::move(prompt), params);
  }

  /// Stops accepting prompts (later submissions complete with `cancelled`), then drains or
  /// cancels what is unfinished, and returns when every accepted prompt has completed.
  /// Idempotent.
  void shutdown(ShutdownMode mode = ShutdownMode::drain);

  ClientStats stats() const;
  const ClientConfig& config() const noexcept;

 private:
  void start_async(std::string prompt, const SamplingParams& params,
                   boost::asio::any_completion_handler<void(Completion)> handler);

  std::unique_ptr<detail::client_engine> engine_;
};

}  // namespace promptpack
