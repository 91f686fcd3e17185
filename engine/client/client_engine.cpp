// The engine's life cycle, submission paths and result delivery.
#include "client/client_engine.hpp"

#include "client/config_check.hpp"
#include "client/redacted_outputs.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace promptpack::detail {

namespace asio = boost::asio;

namespace {

// The group registry is swept of expired entries only once it has grown past this.
constexpr std::size_t min_groups_before_sweep = 64;

// Cool-downs double while an endpoint keeps failing, up to this: a dead endpoint is still probed
// once a minute, so it rejoins soon after it comes back.
constexpr std::chrono::milliseconds endpoint_cooldown_cap{60000};

// The result array (grown once, then written in place: every element a delivery hands out is
// assigned first) and the redacted copies, reused per thread so that delivering allocates nothing
// once warm. A sink's on_results may submit more prompts, which can fail a batch and bring this
// thread back into a delivery while the outer one still hands out its arrays: the nested one gets
// arrays of its own. A thread keeps arrays for at most max_kept_results: a caller's thread that
// once failed a huge submission (at shutdown, say) does not hold its size for good.
class delivery_scratch {
 public:
  explicit delivery_scratch(std::size_t count)
      : arrays_(busy ? nested_.emplace() : reused), claimed_(!busy) {
    // Grown before the arrays are claimed: a resize that throws leaves them free.
    if (arrays_.results.size() < count) arrays_.results.resize(count);
    results_ = {arrays_.results.data(), count};
    busy = true;
  }
  delivery_scratch(const delivery_scratch&) = delete;
  delivery_scratch& operator=(const delivery_scratch&) = delete;
  ~delivery_scratch() {
    if (!claimed_) return;
    if (arrays_.results.size() > max_kept_results) std::vector<bulk_result>().swap(arrays_.results);
    busy = false;
  }

  std::span<bulk_result> results() const { return results_; }
  redacted_outputs& redacted() const { return arrays_.redacted; }

 private:
  struct arrays {
    std::vector<bulk_result> results;
    redacted_outputs redacted;
  };
  static constexpr std::size_t max_kept_results = 1 << 16;
  static inline thread_local arrays reused;
  static inline thread_local bool busy = false;

  std::optional<arrays> nested_;  // declared before arrays_, which may refer to it
  arrays& arrays_;
  bool claimed_;
  std::span<bulk_result> results_;
};

std::chrono::milliseconds ms(double value) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(value));
}

std::vector<endpoint_url> parse_urls(const client_config& config) {
  if (config.endpoints.empty()) {
    throw std::invalid_argument("no endpoint configured; pass --api-base URL");
  }
  std::vector<endpoint_url> urls;
  for (const auto& endpoint : config.endpoints) {
    std::string error;
    auto url = parse_endpoint_url(endpoint.api_base, error);
    if (!url) throw std::invalid_argument("bad api_base: " + error);
    if (!(endpoint.weight > 0)) {
      throw std::invalid_argument("endpoint " + endpoint.api_base + " has weight " +
                                  std::to_string(endpoint.weight) + "; weights must be > 0");
    }
    urls.push_back(std::move(*url));
  }
  return urls;
}

// The longest timeout accepted: a year, far inside the steady clock's range from any start.
constexpr double max_timeout_s = 365.0 * 24 * 3600;

void check_config(const client_config& c) {
  auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(c.max_batch_prompts >= 1, "max_batch_prompts must be at least 1");
  require(c.max_batch_bytes >= 1, "max_batch_bytes must be at least 1");
  require(c.connections_per_endpoint >= 1, "connections_per_endpoint must be at least 1");
  require(c.max_pending >= 1, "max_pending must be at least 1");
  // Timers count in milliseconds from now: less than one would round to no time at all, and a
  // deadline past the clock's range would overflow into the past.
  const auto timeout_in_range = [](double seconds) {
    return seconds >= 0.001 && seconds <= max_timeout_s;
  };
  require(timeout_in_range(c.request_timeout_s),
          "request_timeout_s must be between 0.001 and 31536000 seconds (a year)");
  require(timeout_in_range(c.connect_timeout_s),
          "connect_timeout_s must be between 0.001 and 31536000 seconds (a year)");
  require(timeout_in_range(c.total_timeout_s),
          "total_timeout_s must be between 0.001 and 31536000 seconds (a year)");
  // The retry delays and the cool-down become durations too: none is allowed, not a negative or
  // a huge one.
  require(c.backoff_base_ms >= 0 && c.backoff_base_ms <= max_timeout_s * 1000,
          "backoff_base_ms must be between 0 and 31536000000 (a year)");
  require(c.backoff_cap_ms >= 0 && c.backoff_cap_ms <= max_timeout_s * 1000,
          "backoff_cap_ms must be between 0 and 31536000000 (a year)");
  require(c.endpoint_cooldown_s >= 0 && c.endpoint_cooldown_s <= max_timeout_s,
          "endpoint_cooldown_s must be between 0 and 31536000 seconds (a year)");
  require(c.max_retries >= 0, "max_retries must be >= 0");
  check_request_fields(c);
}

// Under load every connection is busy and idle ones take the next batch, so the split of traffic
// follows the split of connections: the heaviest endpoint gets connections_per_endpoint, the
// others their share by weight (at least one).
std::vector<std::size_t> connections_of(const client_config& config) {
  double heaviest = 0;
  for (const auto& e : config.endpoints) heaviest = std::max(heaviest, e.weight);
  std::vector<std::size_t> counts;
  for (const auto& e : config.endpoints) {
    const auto share = static_cast<double>(config.connections_per_endpoint) * e.weight / heaviest;
    counts.push_back(std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(share))));
  }
  return counts;
}

std::vector<double> weights_of(const client_config& config) {
  std::vector<double> weights;
  for (const auto& e : config.endpoints) weights.push_back(e.weight);
  return weights;
}

// A caller cancelled its async_complete before the prompt was sent: it costs the endpoint nothing.
const prompt_error abandoned_error{
    .type = errc::cancelled,
    .message = "the caller cancelled the operation before its prompt was sent",
    .http_status = 0,
    .attempts = 0};
const prompt_error invalid_utf8_error{
    .type = errc::invalid_input,
    .message = "prompt is not valid UTF-8; fix the input's encoding",
    .http_status = 0,
    .attempts = 0};
const prompt_error shut_down_error{
    .type = errc::cancelled,
    .message = "the client was shut down before the prompt was accepted",
    .http_status = 0,
    .attempts = 0};

// The TLS client context, when any endpoint is https: verification against ca_file or the
// system CAs. Throws std::invalid_argument when ca_file can't be loaded.
void make_tls_context(const client_config& config, const std::vector<endpoint_url>& urls,
                      std::optional<asio::ssl::context>& tls) {
  if (std::none_of(urls.begin(), urls.end(), [](const auto& u) { return u.tls; })) return;
  tls.emplace(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  if (config.ca_file.empty()) {
    tls->set_default_verify_paths(ec);
    return;
  }
  tls->load_verify_file(config.ca_file, ec);
  if (ec) {
    throw std::invalid_argument("cannot load CA file '" + config.ca_file + "': " + ec.message() +
                                "; pass a PEM bundle to --ca-file");
  }
}

}  // namespace

void client_engine::validate(const client_config& config) {
  check_config(config);
  std::optional<asio::ssl::context> tls;
  make_tls_context(config, parse_urls(config), tls);
  [[maybe_unused]] const request_group group_check(std::string(config.model), config.params);
}

static unsigned thread_count(const client_config& config) {
  return config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
}

client_engine::client_engine(client_config config, std::optional<asio::any_io_executor> executor)
    : config_((check_config(config), std::move(config))),
      key_redactor_(config_.api_key),
      urls_(parse_urls(config_)),
      policy_(retry_config{.max_retries = config_.max_retries,
                           .backoff_base = ms(config_.backoff_base_ms),
                           .backoff_cap = ms(config_.backoff_cap_ms)}) {
  if (executor) {
    executor_ = *executor;
  } else {
    own_ioc_.emplace(static_cast<int>(thread_count(config_)));
    executor_ = own_ioc_->get_executor();
  }
  work_ = asio::prefer(executor_, asio::execution::outstanding_work.tracked);
  make_tls_context(config_, urls_, tls_);
  scheduler_ = std::make_unique<scheduler>(
      executor_,
      scheduler_config{
          .max_batch_prompts = config_.max_batch_prompts,
          .max_batch_bytes = config_.max_batch_bytes,
          .max_delay = std::chrono::microseconds(config_.max_delay_us),
          .max_pending = config_.max_pending,
          .total_timeout = ms(std::ceil(std::round(config_.total_timeout_s * 1e6) / 1000)),
          .endpoints = {.max_requests_per_s = config_.max_requests_per_s,
                        .max_prompts_per_s = config_.max_prompts_per_s,
                        .health = {.failure_threshold = config_.endpoint_failure_threshold,
                                   .cooldown = ms(config_.endpoint_cooldown_s * 1000),
                                   .max_cooldown = endpoint_cooldown_cap},
                        .adaptive = config_.adaptive_batch,
                        .tuner = {.max_latency = ms(config_.max_latency_ms)},
                        .connections = connections_of(config_)}},
      weights_of(config_), [this](batch_ptr b, const exchange_outcome& why, errc type) {
        fail(std::move(b), why, type);
      });
  default_group_ = find_group(config_.model, config_.params);  // validates them up front, too
}

client_engine::~client_engine() = default;

void client_engine::stop_threads() {
  shutdown(shutdown_mode::cancel);
  // The I/O threads outlive shutdown(), so that the handlers of prompts submitted after it (which
  // complete with `cancelled`) still run. Now let them run what is queued, then return.
  scheduler_->cancel_timer();
  work_ = {};
  for (auto& t : threads_) t.join();
}

void client_engine::start() {
  const auto counts = connections_of(config_);
  // A connection's handlers must never run at once. On an io_context of its own run by one
  // thread they cannot, so a strand would only add a queue and a lock to every completion. On
  // more threads, or on the caller's executor (which any number of threads may run), each
  // connection gets a strand.
  const bool one_thread = own_ioc_ && thread_count(config_) == 1;
  for (std::size_t e = 0; e < urls_.size(); ++e) {
    for (std::size_t i = 0; i < counts[e]; ++i) {
      auto& slot = *connections_.emplace_back(std::make_unique<connection_slot>(
          one_thread ? executor_ : asio::any_io_executor(asio::make_strand(executor_))));
      {
        std::lock_guard lock(exit_mutex_);
        ++connections_running_;
      }
      spawn_connection(shared_from_this(), e, slot.executor, slot.cancel.slot(),
                       [this] { connection_ended(); });
    }
  }
  if (own_ioc_) {
    for (unsigned i = 0; i < thread_count(config_); ++i)
      threads_.emplace_back([this] { own_ioc_->run(); });
  }
}

void client_engine::connection_ended() {
  std::vector<asio::any_completion_handler<void(boost::system::error_code)>> done;
  {
    std::lock_guard lock(exit_mutex_);
    if (--connections_running_ != 0) return;
    exit_cv_.notify_all();
    done.swap(on_stopped_);
  }
  if (done.empty()) return;
  // async_shutdown is over: nothing of the client keeps the caller's io_context busy any more.
  scheduler_->cancel_timer();
  for (auto& handler : done) {
    asio::post(executor_, asio::append(std::move(handler), boost::system::error_code{}));
  }
  if (!own_ioc_) work_ = {};
}

group_handle client_engine::group(std::string_view model, const sampling_params& params) {
  return wrap(find_group(model, params));
}

group_ptr client_engine::find_group(std::string_view model, const sampling_params& params) {
  // The configured model and params are by far the most asked for: no allocation for them.
  if (default_group_ && model == config_.model && params == config_.params) return default_group_;
  auto candidate = std::make_shared<const request_group>(std::string(model), params);
  std::lock_guard lock(groups_mutex_);
  auto& known = groups_[candidate->writer.group_key()];
  if (auto alive = known.lock()) return alive;
  known = candidate;
  // Groups live as long as a caller or a queued batch holds them; the registry only lets equal
  // params share one while they do. Expired entries are swept once the map has doubled, so a job
  // with a seed per line keeps memory flat.
  if (groups_.size() >= 2 * std::max(groups_after_sweep_, min_groups_before_sweep)) {
    std::erase_if(groups_, [](const auto& entry) { return entry.second.expired(); });
    groups_after_sweep_ = groups_.size();
  }
  return candidate;
}

void client_engine::submit_bulk(std::span<const std::string_view> prompts,
                                const group_handle& group, bulk_sink& sink, prompt_bytes bytes) {
  if (prompts.empty()) {
    sink.on_complete();
    return;
  }
  counters_.submitted.fetch_add(prompts.size(), std::memory_order_relaxed);
  auto* owner = new submission(sink, prompts.size());
  owner->json_safe = bytes == prompt_bytes::json_safe;
  // Admission in chunks no larger than the pending window, so a huge span streams through it.
  const std::size_t chunk = std::max<std::size_t>(1, config_.max_pending / 2);
  for (std::size_t first = 0; first < prompts.size(); first += chunk) {
    enqueue_chunk(prompts.subspan(first, std::min(chunk, prompts.size() - first)), first,
                  unwrap(group), owner);
  }
}

void client_engine::enqueue_chunk(std::span<const std::string_view> prompts,
                                  std::size_t first_index, const group_ptr& group,
                                  submission* owner) {
  // Reused per thread: the bulk path allocates nothing per prompt once warm. UTF-8 is checked
  // when the batch is encoded, in the pass that escapes the prompt.
  // Grown once, then written in place. The scheduler copies the items into batches before it
  // runs anything that could come back here on this thread.
  thread_local std::vector<work_item> storage;
  if (storage.size() < prompts.size()) storage.resize(prompts.size());
  const std::span<work_item> items(storage.data(), prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    items[i] = {.prompt = prompts[i], .owner = owner, .index = first_index + i};
  }
  if (!scheduler_->acquire(items.size())) {
    complete_with(std::vector<work_item>(items.begin(), items.end()), shut_down_error);
    return;
  }
  scheduler_->enqueue(group, items, clock::now());
}

void client_engine::submit_owned_async(std::string_view prompt, const group_handle& group,
                                       submission& owner) {
  counters_.submitted.fetch_add(1, std::memory_order_relaxed);
  const work_item item{.prompt = prompt, .owner = &owner, .index = 0};
  scheduler_->acquire_async(1, [this, item, group = unwrap(group)](bool admitted) {
    if (!admitted) {
      complete_with({&item, 1}, shut_down_error);
    } else if (item.owner->abandoned.load(std::memory_order_relaxed)) {
      // Cancelled while it waited for room: it never takes a place in a batch.
      complete_with({&item, 1}, abandoned_error);
      scheduler_->release(1, clock::now());
    } else {
      scheduler_->enqueue(group, {&item, 1}, clock::now());
    }
  });
}

template <class Unwanted>
bool client_engine::drop_where(batch& b, Unwanted unwanted, const prompt_error& error) {
  // The common case, nothing to drop, costs one scan and no allocation.
  const auto first = std::find_if(b.items.begin(), b.items.end(), unwanted);
  if (first == b.items.end()) return !b.items.empty();
  std::vector<work_item> dropped;
  const auto kept = std::remove_if(first, b.items.end(), [&](const work_item& item) {
    if (!unwanted(item)) return false;
    dropped.push_back(item);
    return true;
  });
  b.items.erase(kept, b.items.end());
  complete_with(dropped, error);
  scheduler_->release(dropped.size(), clock::now());
  return !b.items.empty();
}

bool client_engine::drop_abandoned(batch& b) {
  // Neighbouring prompts mostly share a submission: its flag is read once per run of them.
  const submission* owner = nullptr;
  bool abandoned = false;
  return drop_where(
      b,
      [&](const work_item& item) {
        if (item.owner != owner) {
          owner = item.owner;
          abandoned = owner->abandoned.load(std::memory_order_relaxed);
        }
        return abandoned;
      },
      abandoned_error);
}

bool client_engine::drop_invalid_utf8(batch& b) {
  return drop_where(
      b, [](const work_item& item) { return !is_valid_utf8(item.prompt); }, invalid_utf8_error);
}

void client_engine::complete_with(std::span<const work_item> items, const prompt_error& error) {
  const delivery_scratch scratch(items.size());
  const std::span<bulk_result> results = scratch.results();
  for (std::size_t i = 0; i < items.size(); ++i) {
    results[i] = {.index = items[i].index, .outputs = {}, .error = &error};
  }
  counters_.failed.fetch_add(items.size(), std::memory_order_relaxed);
  complete_items(items, results);
}

void client_engine::complete_items(std::span<const work_item> items,
                                   std::span<const bulk_result> results) {
  std::size_t i = 0;
  while (i < items.size()) {
    submission* owner = items[i].owner;
    std::size_t j = i + 1;
    while (j < items.size() && items[j].owner == owner) ++j;
    const std::size_t count = j - i;
    owner->sink->on_results(results.subspan(i, count));
    if (owner->remaining.fetch_sub(count, std::memory_order_acq_rel) == count) {
      // Read first: a sink that owns its submission may be gone once on_complete() returns.
      const bool engine_owned = owner->engine_owned;
      owner->sink->on_complete();
      if (engine_owned) delete owner;
    }
    i = j;
  }
}

void client_engine::deliver(batch_ptr b, const parsed_response* parsed, const prompt_error* error) {
  const std::size_t count = b->items.size();
  if (parsed == nullptr) {
    complete_with(b->items, *error);
  } else {
    const delivery_scratch scratch(count);
    const std::span<bulk_result> results = scratch.results();
    const work_item* items = b->items.data();
    const prompt_answer* answers = parsed->answers.data();
    const std::string_view* outputs = parsed->outputs.data();
    const bool json_safe = parsed->outputs_json_safe;
    std::size_t succeeded = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const prompt_answer& answer = answers[i];
      if (answer.answered) {
        results[i] = {.index = items[i].index,
                      .outputs = {outputs + answer.first_output, answer.output_count},
                      .error = nullptr,
                      .outputs_json_safe = json_safe};
        ++succeeded;
      } else {
        results[i] = {.index = items[i].index, .outputs = {}, .error = error};
      }
    }
    if (succeeded > 0 && key_redactor_.active()) {
      // An endpoint that echoes the key must not hand it to whoever reads the outputs.
      scratch.redacted().redact(results, key_redactor_);
    }
    counters_.succeeded.fetch_add(succeeded, std::memory_order_relaxed);
    counters_.failed.fetch_add(count - succeeded, std::memory_order_relaxed);
    complete_items(b->items, results);
  }
  scheduler_->recycle(std::move(b));
  scheduler_->release(count, clock::now());
}

void client_engine::fail(batch_ptr b, const exchange_outcome& outcome, errc type) {
  const prompt_error error{.type = type,
                           .message = failure_message(outcome, type, b->budget),
                           .http_status = outcome.status,
                           .attempts = b->budget.attempts()};
  deliver(std::move(b), nullptr, &error);
}

bool client_engine::begin_shutdown(shutdown_mode mode) {
  std::lock_guard lock(shutdown_mutex_);
  if (shut_down_) return false;
  shut_down_ = true;
  if (mode == shutdown_mode::cancel) {
    cancelling_.store(true, std::memory_order_release);
    scheduler_->close(true, clock::now());
    for (auto& slot : connections_) {
      asio::post(slot->executor,
                 [s = slot.get()] { s->cancel.emit(asio::cancellation_type::terminal); });
    }
  } else {
    scheduler_->close(false, clock::now());
  }
  return true;
}

void client_engine::shutdown(shutdown_mode mode) {
  begin_shutdown(mode);
  scheduler_->wait_idle();  // every accepted prompt has completed
  std::unique_lock exit_lock(exit_mutex_);
  exit_cv_.wait(exit_lock, [this] { return connections_running_ == 0; });
  // The threads keep running until stop_threads(): stopping the io_context here could drop
  // completion handlers that are posted but not yet run (async_complete's), and would leave
  // nothing to run the handlers of later submissions.
}

void client_engine::async_shutdown(
    shutdown_mode mode, asio::any_completion_handler<void(boost::system::error_code)> done) {
  {
    std::lock_guard lock(exit_mutex_);
    if (connections_running_ != 0) {
      on_stopped_.push_back(std::move(done));
      done = {};
    }
  }
  begin_shutdown(mode);
  if (!done) return;
  // Already over: complete on the handler's executor, never inside the initiating call.
  asio::post(executor_, asio::append(std::move(done), boost::system::error_code{}));
  scheduler_->cancel_timer();
  if (!own_ioc_) work_ = {};
}

client_stats client_engine::stats() const {
  client_stats s;
  s.prompts_submitted = counters_.submitted.load(std::memory_order_relaxed);
  s.prompts_succeeded = counters_.succeeded.load(std::memory_order_relaxed);
  s.prompts_failed = counters_.failed.load(std::memory_order_relaxed);
  s.requests_sent = counters_.requests.load(std::memory_order_relaxed);
  s.prompts_sent = counters_.prompts_sent.load(std::memory_order_relaxed);
  s.requests_retried = counters_.retried.load(std::memory_order_relaxed);
  s.batches_split = counters_.splits.load(std::memory_order_relaxed);
  s.connects = counters_.connects.load(std::memory_order_relaxed);
  s.bytes_sent = counters_.bytes_sent.load(std::memory_order_relaxed);
  s.bytes_received = counters_.bytes_received.load(std::memory_order_relaxed);
  s.prompts_pending = scheduler_->pending();
  s.requests_in_flight = counters_.in_flight.load(std::memory_order_relaxed);
  s.latency_p50_ms = static_cast<double>(latency_.quantile(0.5).count()) / 1000.0;
  s.latency_p99_ms = static_cast<double>(latency_.quantile(0.99).count()) / 1000.0;
  const auto [waited, answers] = scheduler_->rate_limits();
  s.rate_limited_answers = answers;
  s.rate_limit_wait_s = std::chrono::duration<double>(waited).count();
  s.batch_size_tuning = scheduler_->tuning_summary();
  for (std::size_t i = 0; i < s.requests_by_prompts.size(); ++i) {
    s.requests_by_prompts[i] = counters_.requests_by_prompts[i].load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace promptpack::detail
