// promptpack::Client: the public façade over client_engine, and the sinks behind its futures.
#include <promptpack/client.hpp>

#include "client/client_engine.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

namespace promptpack {

Completion to_completion(const BulkResult& result) {
  Completion out;
  if (result.error) {
    out.error = *result.error;
    return out;
  }
  out.outputs.assign(result.outputs.begin(), result.outputs.end());
  return out;
}

namespace {

// One prompt, one promise. Owns the prompt's bytes; deletes itself when complete.
class promise_sink final : public BulkSink {
 public:
  explicit promise_sink(std::string prompt) : prompt_(std::move(prompt)) {}
  std::string_view prompt() const { return prompt_; }
  std::future<Completion> future() { return promise_.get_future(); }

  void on_results(std::span<const BulkResult> results) override {
    result_ = to_completion(results[0]);
  }
  void on_complete() override {
    promise_.set_value(std::move(result_));
    delete this;
  }

 private:
  std::string prompt_;
  Completion result_;
  std::promise<Completion> promise_;
};

// One prompt, one completion handler, invoked on the handler's own executor.
class handler_sink final : public BulkSink {
 public:
  handler_sink(std::string prompt, boost::asio::any_completion_handler<void(Completion)> handler,
               boost::asio::any_io_executor fallback)
      : prompt_(std::move(prompt)), handler_(std::move(handler)), fallback_(std::move(fallback)) {}
  std::string_view prompt() const { return prompt_; }

  void on_results(std::span<const BulkResult> results) override {
    result_ = to_completion(results[0]);
  }
  void on_complete() override {
    // Runs on the handler's associated executor; the client's threads when it has none.
    boost::asio::post(fallback_, boost::asio::append(std::move(handler_), std::move(result_)));
    delete this;
  }

 private:
  std::string prompt_;
  boost::asio::any_completion_handler<void(Completion)> handler_;
  boost::asio::any_io_executor fallback_;
  Completion result_;
};

// A whole span, one promise of every result in input order.
class vector_sink final : public BulkSink {
 public:
  explicit vector_sink(std::size_t count) : results_(count) {}
  std::future<std::vector<Completion>> future() { return promise_.get_future(); }

  // Distinct indices: concurrent calls write distinct elements, so no lock is needed.
  void on_results(std::span<const BulkResult> results) override {
    for (const auto& r : results) results_[r.index] = to_completion(r);
  }
  void on_complete() override {
    promise_.set_value(std::move(results_));
    delete this;
  }

 private:
  std::vector<Completion> results_;
  std::promise<std::vector<Completion>> promise_;
};

}  // namespace

Client::Client(ClientConfig config)
    : engine_(std::make_unique<detail::client_engine>(std::move(config))) {}

Client::~Client() = default;

void Client::validate(const ClientConfig& config) {
  detail::client_engine::validate(config);
}

GroupHandle Client::group() const {
  return group(engine_->config().params);
}

GroupHandle Client::group(const SamplingParams& params) const {
  return engine_->group(engine_->config().model, params);
}

GroupHandle Client::group(std::string_view model, const SamplingParams& params) const {
  return engine_->group(model, params);
}

std::future<Completion> Client::submit(std::string prompt) {
  return submit(std::move(prompt), engine_->config().params);
}

std::future<Completion> Client::submit(std::string prompt, const SamplingParams& params) {
  auto* sink = new promise_sink(std::move(prompt));
  auto future = sink->future();
  const std::string_view text = sink->prompt();
  engine_->submit_bulk({&text, 1}, group(params), *sink);
  return future;
}

std::vector<std::future<Completion>> Client::submit_many(std::span<const std::string> prompts,
                                                         const SamplingParams& params) {
  std::vector<std::future<Completion>> futures;
  futures.reserve(prompts.size());
  for (const auto& p : prompts) futures.push_back(submit(p, params));
  return futures;
}

void Client::submit_bulk(std::span<const std::string_view> prompts, const GroupHandle& group,
                         BulkSink& sink) {
  engine_->submit_bulk(prompts, group, sink);
}

std::future<std::vector<Completion>> Client::submit_bulk(std::span<const std::string_view> prompts,
                                                         const GroupHandle& group) {
  auto* sink = new vector_sink(prompts.size());
  auto future = sink->future();
  engine_->submit_bulk(prompts, group, *sink);
  return future;
}

Completion Client::complete(std::string prompt, const SamplingParams& params) {
  return submit(std::move(prompt), params).get();
}

void Client::start_async(std::string prompt, const SamplingParams& params,
                         boost::asio::any_completion_handler<void(Completion)> handler) {
  auto* sink = new handler_sink(std::move(prompt), std::move(handler), engine_->executor());
  engine_->submit_owned_async(sink->prompt(), group(params), *sink);
}

void Client::shutdown(ShutdownMode mode) {
  engine_->shutdown(mode);
}

ClientStats Client::stats() const {
  return engine_->stats();
}

const ClientConfig& Client::config() const noexcept {
  return engine_->config();
}

}  // namespace promptpack
