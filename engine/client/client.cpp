// promptpack::client: the public façade over client_engine, and the sinks behind its futures.
#include <promptpack/client.hpp>

#include "client/client_engine.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <stdexcept>

namespace promptpack {

prompt_result to_completion(const bulk_result& result) {
  prompt_result out;
  if (result.error) {
    out.error = *result.error;
    return out;
  }
  out.outputs.assign(result.outputs.begin(), result.outputs.end());
  return out;
}

namespace {

namespace asio = boost::asio;

// One prompt, one promise. Owns the prompt's bytes; deletes itself when complete.
class promise_sink final : public bulk_sink {
 public:
  explicit promise_sink(std::string prompt) : prompt_(std::move(prompt)) {}
  std::string_view prompt() const { return prompt_; }
  std::future<prompt_result> future() { return promise_.get_future(); }

  void on_results(std::span<const bulk_result> results) override {
    result_ = to_completion(results[0]);
  }
  void on_complete() override {
    promise_.set_value(std::move(result_));
    delete this;
  }

 private:
  std::string prompt_;
  prompt_result result_;
  std::promise<prompt_result> promise_;
};

// One prompt's asynchronous operation. Owned by two parties, the engine (until on_complete) and
// the handler (until it has run); the last to let go deletes it. Whichever comes first, the
// result or a cancellation, claims the handler; the other is dropped.
class async_operation final : public bulk_sink {
 public:
  using handler_type = asio::any_completion_handler<void(boost::system::error_code, prompt_result)>;

  // `work` is the handler's executor, tracked: it counts as outstanding work until the handler
  // has run, so the caller's io_context does not run out of work while the prompt is in flight.
  async_operation(std::string prompt, handler_type handler, asio::any_io_executor fallback,
                  asio::any_io_executor work)
      : prompt_(std::move(prompt)),
        submission_(*this, 1, /*owned_by_engine=*/false),
        handler_(std::move(handler)),
        fallback_(std::move(fallback)),
        work_(std::move(work)) {
    auto slot = asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) {
      slot.template emplace<cancel_handler>(this);
      // The slot's handler refers to this operation: it holds a share until the slot is cleared.
      refs_.fetch_add(1, std::memory_order_relaxed);
      slot_connected_ = true;
    }
  }
  std::string_view prompt() const { return prompt_; }
  detail::submission& engine_record() { return submission_; }

  void on_results(std::span<const bulk_result> results) override {
    result_ = to_completion(results[0]);
  }
  void on_complete() override {
    boost::system::error_code ec;
    if (result_.error) ec = make_error_code(result_.error->type);
    finish(ec, std::move(result_));
    release();
  }

 private:
  struct cancel_handler {
    explicit cancel_handler(async_operation* operation)
        : op(operation) {}  // clang 14: no (...) aggregate init
    async_operation* op;
    void operator()(asio::cancellation_type type) const {
      if (type == asio::cancellation_type::none) return;
      prompt_result cancelled;
      cancelled.error = prompt_error{.type = errc::cancelled,
                                     .message = "the caller cancelled the operation",
                                     .http_status = 0,
                                     .attempts = 0};
      // Still queued, the prompt is taken out of its batch before that is sent.
      op->submission_.abandoned.store(true, std::memory_order_relaxed);
      op->finish(asio::error::operation_aborted, std::move(cancelled));
    }
  };

  // Claims the handler (once) and runs it on its executor, outside of the caller's stack.
  void finish(boost::system::error_code ec, prompt_result result) {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return;
    auto run_handler = [this, ec, result = std::move(result)]() mutable {
      auto handler = std::move(handler_);
      work_ = {};
      if (slot_connected_) {
        // Cleared on the handler's executor, where the slot is also emitted.
        asio::get_associated_cancellation_slot(handler).clear();
        release();
      }
      release();
      std::move(handler)(ec, std::move(result));
    };
    asio::post(fallback_, asio::bind_executor(work_, std::move(run_handler)));
  }

  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::string prompt_;
  detail::submission submission_;  // the engine's record of this prompt, kept here
  handler_type handler_;
  asio::any_io_executor fallback_;  // the client's executor
  asio::any_io_executor work_;      // the handler's, tracked: keeps its loop running
  prompt_result result_;
  std::atomic<int> refs_{2};  // the engine and the handler
  std::atomic<bool> claimed_{false};
  bool slot_connected_ = false;
};

// A whole span, one promise of every result in input order.
class vector_sink final : public bulk_sink {
 public:
  explicit vector_sink(std::size_t count) : results_(count) {}
  std::future<std::vector<prompt_result>> future() { return promise_.get_future(); }

  // Distinct indices: concurrent calls write distinct elements, so no lock is needed.
  void on_results(std::span<const bulk_result> results) override {
    for (const auto& r : results) results_[r.index] = to_completion(r);
  }
  void on_complete() override {
    promise_.set_value(std::move(results_));
    delete this;
  }

 private:
  std::vector<prompt_result> results_;
  std::promise<std::vector<prompt_result>> promise_;
};

}  // namespace

client::client(client_config config)
    : engine_(std::make_shared<detail::client_engine>(std::move(config), std::nullopt)) {
  engine_->start();
}

client::client(executor_type executor, client_config config)
    : engine_(std::make_shared<detail::client_engine>(std::move(config), std::move(executor))) {
  engine_->start();
}

client::~client() {
  if (engine_->owns_threads()) {
    engine_->stop_threads();
  } else {
    engine_->async_shutdown(shutdown_mode::cancel, [](boost::system::error_code) {});
  }
}

client::executor_type client::get_executor() const noexcept {
  return engine_->executor();
}

void client::validate(const client_config& config) {
  detail::client_engine::validate(config);
}

group_handle client::group() const {
  return group(engine_->config().params);
}

group_handle client::group(const sampling_params& params) const {
  return engine_->group(engine_->config().model, params);
}

group_handle client::group(std::string_view model, const sampling_params& params) const {
  return engine_->group(model, params);
}

std::future<prompt_result> client::submit(std::string prompt) {
  return submit(std::move(prompt), engine_->config().params);
}

std::future<prompt_result> client::submit(std::string prompt, const sampling_params& params) {
  auto* sink = new promise_sink(std::move(prompt));
  auto future = sink->future();
  const std::string_view text = sink->prompt();
  engine_->submit_bulk({&text, 1}, group(params), *sink);
  return future;
}

std::vector<std::future<prompt_result>> client::submit_many(std::span<const std::string> prompts,
                                                            const sampling_params& params) {
  std::vector<std::future<prompt_result>> futures;
  futures.reserve(prompts.size());
  for (const auto& p : prompts) futures.push_back(submit(p, params));
  return futures;
}

void client::submit_bulk(std::span<const std::string_view> prompts, const group_handle& group,
                         bulk_sink& sink, prompt_bytes bytes) {
  engine_->submit_bulk(prompts, group, sink, bytes);
}

std::future<std::vector<prompt_result>> client::submit_bulk(
    std::span<const std::string_view> prompts, const group_handle& group, prompt_bytes bytes) {
  auto* sink = new vector_sink(prompts.size());
  auto future = sink->future();
  engine_->submit_bulk(prompts, group, *sink, bytes);
  return future;
}

prompt_result client::complete(std::string prompt, const sampling_params& params) {
  return submit(std::move(prompt), params).get();
}

void client::start_async(std::string prompt, const sampling_params& params,
                         completion_handler handler, executor_type handler_work) {
  auto* op = new async_operation(std::move(prompt), std::move(handler), engine_->executor(),
                                 std::move(handler_work));
  engine_->submit_owned_async(op->prompt(), group(params), op->engine_record());
}

void client::start_shutdown(shutdown_mode mode, shutdown_handler handler) {
  engine_->async_shutdown(mode, std::move(handler));
}

void client::shutdown(shutdown_mode mode) {
  if (!engine_->owns_threads()) {
    throw std::logic_error(
        "client::shutdown() blocks, so it belongs to the threaded form; a client on your "
        "executor ends with co_await client.async_shutdown(mode, token)");
  }
  engine_->shutdown(mode);
}

client_stats client::stats() const {
  return engine_->stats();
}

const client_config& client::config() const noexcept {
  return engine_->config();
}

}  // namespace promptpack
