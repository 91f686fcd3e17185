// The batcher and dispatcher: one lock, batch-level work only, hand-offs outside the lock.
#include "batching/scheduler.hpp"

#include "retry/retry_policy.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace promptpack::detail {

namespace asio = boost::asio;

// Rough JSON cost of one prompt in the array: quotes, comma, and some escaping slack.
constexpr std::size_t per_prompt_overhead_bytes = 4;

scheduler::scheduler(asio::any_io_executor timer_executor, scheduler_config config,
                     std::vector<double> endpoint_weights, batch_failure_handler on_failure)
    : config_(config),
      on_failure_(std::move(on_failure)),
      admission_(config.max_pending),
      endpoints_(endpoint_weights,
                 [&] {
                   auto limits = config.endpoints;
                   limits.max_batch_prompts = config.max_batch_prompts;
                   return limits;
                 }()),
      idle_(endpoint_weights.size()),
      timer_(timer_executor) {}

bool scheduler::acquire(std::size_t count) {
  std::unique_lock lock(mutex_);
  return admission_.acquire(lock, count);
}

void scheduler::acquire_async(std::size_t count, admission::admit_handler admit) {
  std::unique_lock lock(mutex_);
  const auto verdict = admission_.acquire_async(count, admit);
  lock.unlock();
  if (verdict != admission::verdict::waiting) admit(verdict == admission::verdict::admitted);
}

void scheduler::release(std::size_t count, clock::time_point now) {
  std::unique_lock lock(mutex_);
  deferred todo;
  admission_.release(count, todo.admitted);
  pump(lock, todo, now);
}

void scheduler::enqueue(const group_ptr& group, std::span<const work_item> items,
                        clock::time_point now) {
  std::unique_lock lock(mutex_);
  batch_ptr& open = open_[group.get()];
  std::size_t next = 0;
  while (next < items.size()) {
    if (!open) {
      open = new_batch_locked();
      open->group = group;
      open->bytes = group->writer.fixed_bytes();
      open->opened = now;
      open->deadline = now + config_.total_timeout;
      open_order_.push_back({group.get(), open.get(), now});
    }
    // The run of items that fits: up to the configured size (with --batch-size auto, the
    // tuners' ceiling), and within max_batch_bytes unless the batch would be empty without it.
    // An endpoint whose limit is lower (a 413, or its tuner's size) is dealt a part when it
    // takes it, so a new size applies to prompts already queued. A run is copied at once.
    const std::size_t held = open->items.size();
    const std::size_t room =
        config_.max_batch_prompts > held ? config_.max_batch_prompts - held : 0;
    const std::size_t last = next + std::min(room, items.size() - next);
    std::size_t bytes = open->bytes;
    std::size_t end = next;
    for (; end < last; ++end) {
      const std::size_t cost = items[end].prompt.size() + per_prompt_overhead_bytes;
      if (bytes + cost > config_.max_batch_bytes && (held > 0 || end > next)) break;
      bytes += cost;
    }
    open->items.insert(open->items.end(), items.begin() + static_cast<std::ptrdiff_t>(next),
                       items.begin() + static_cast<std::ptrdiff_t>(end));
    open->bytes = bytes;
    // Full by count, or the next item does not fit: closed, and the next run opens another.
    if (open->items.size() >= config_.max_batch_prompts || end < items.size())
      ready_.push_back(std::move(open));
    next = end;
  }
  if (!open) open_.erase(group.get());
  oldest_open();  // drops the order entries of batches that just filled up
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::park(std::size_t endpoint, next_batch_handler handler, clock::time_point now) {
  std::unique_lock lock(mutex_);
  idle_[endpoint].push_back(std::move(handler));
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::exchange_skipped(std::size_t endpoint, std::size_t prompts, clock::time_point now) {
  std::unique_lock lock(mutex_);
  endpoints_.exchange_ended(endpoint);
  endpoints_.not_sent(endpoint, prompts);
  // The tokens given back may let a waiting batch go now, not when the rate limit's timer fires.
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::prompts_dropped(std::size_t endpoint, std::size_t prompts, clock::time_point now) {
  std::unique_lock lock(mutex_);
  endpoints_.prompts_not_sent(endpoint, prompts);
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::exchange_done(std::size_t endpoint, const exchange_outcome& outcome,
                              clock::time_point now) {
  std::lock_guard lock(mutex_);
  endpoints_.exchange_ended(endpoint);
  auto& health = endpoints_.health(endpoint);
  switch (outcome.result) {
    case exchange_result::ok:
      health.on_success();
      endpoints_.answered(endpoint);
      endpoints_.measured(endpoint, outcome.prompts, outcome.elapsed, now);
      break;
    case exchange_result::connect_failed:
      health.on_unreachable(now);
      break;
    case exchange_result::timeout:
      endpoints_.timed_out(endpoint, outcome.prompts, outcome.elapsed, now);
      health.on_failure(now);
      break;
    case exchange_result::connection_lost:
    case exchange_result::endpoint_message:
      health.on_failure(now);
      break;
    case exchange_result::http_status:
      if (retry_policy::is_rate_limit(outcome)) endpoints_.rate_limited();
      // A rate limit says the endpoint is alive and busy: it pauses, it does not cool down.
      if (outcome.status >= 500 && outcome.status != 503) health.on_failure(now);
      if (outcome.status == 503 && !outcome.retry_after) health.on_failure(now);
      break;
    case exchange_result::tls_failed:
    case exchange_result::framing:
    case exchange_result::bad_body:
      break;  // says nothing about the endpoint's load or life
  }
}

bool scheduler::another_endpoint_available(std::size_t endpoint, clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return endpoints_.another_available(endpoint, now);
}

void scheduler::resend(batch_ptr b, clock::time_point now) {
  std::unique_lock lock(mutex_);
  ready_.push_front(std::move(b));
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::retry_later(batch_ptr b, clock::time_point when, clock::time_point now) {
  std::unique_lock lock(mutex_);
  b->not_before = when;
  delayed_.emplace(when, std::move(b));
  deferred todo;
  pump(lock, todo, now);
}

void scheduler::pause_endpoint(std::size_t endpoint, clock::time_point until,
                               clock::time_point now) {
  std::lock_guard lock(mutex_);
  endpoints_.pause(endpoint, until, now);
}

void scheduler::endpoint_refused(std::size_t endpoint, int status, const std::string& why) {
  std::lock_guard lock(mutex_);
  endpoints_.refused(endpoint, status, why);
}

void scheduler::too_large(std::size_t endpoint, std::size_t refused_size, clock::time_point now) {
  std::lock_guard lock(mutex_);
  endpoints_.too_large(endpoint, refused_size, now);
}

std::string scheduler::tuning_summary() const {
  std::lock_guard lock(mutex_);
  return endpoints_.tuning_summary();
}

batch_ptr scheduler::make_batch() {
  std::lock_guard lock(mutex_);
  return new_batch_locked();
}

batch_ptr scheduler::new_batch_locked() {
  if (spare_.empty()) return std::make_unique<batch>();
  batch_ptr b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void scheduler::recycle(batch_ptr b) {
  b->reset();
  std::lock_guard lock(mutex_);
  spare_.push_back(std::move(b));
}

void scheduler::close(bool cancel, clock::time_point now) {
  std::unique_lock lock(mutex_);
  deferred todo;
  admission_.close(todo.refused);
  if (cancel) {
    collect_all_queued(
        todo, exchange_outcome{.detail = "the client shut down before the prompt was sent"});
  }
  pump(lock, todo, now);
}

void scheduler::wait_idle() {
  std::unique_lock lock(mutex_);
  admission_.wait_idle(lock);
}

bool scheduler::closed() const {
  std::lock_guard lock(mutex_);
  return admission_.closed();
}

void scheduler::cancel_timer() {
  std::lock_guard lock(mutex_);
  timer_.cancel();
  timer_at_ = clock::time_point::max();
}

std::uint64_t scheduler::pending() const {
  std::lock_guard lock(mutex_);
  return admission_.pending();
}

std::pair<clock::duration, std::uint64_t> scheduler::rate_limits() const {
  std::lock_guard lock(mutex_);
  return {endpoints_.rate_limit_wait(), endpoints_.rate_limited_answers()};
}

void scheduler::collect_all_queued(deferred& todo, const exchange_outcome& why) {
  for (auto& b : ready_) todo.failures.emplace_back(std::move(b), why);
  ready_.clear();
  for (auto& [when, b] : delayed_) todo.failures.emplace_back(std::move(b), why);
  delayed_.clear();
  for (auto& [group, b] : open_) todo.failures.emplace_back(std::move(b), why);
  open_.clear();
  open_order_.clear();
}

bool scheduler::has_work() const {
  return !ready_.empty() || !open_.empty() || !delayed_.empty();
}

int scheduler::pick_endpoint(clock::time_point now) {
  return endpoints_.pick(now, [this](std::size_t e) { return !idle_[e].empty(); });
}

batch_ptr scheduler::take_batch(clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    ready_.push_front(std::move(delayed_.begin()->second));  // retries go ahead of new work
    delayed_.erase(delayed_.begin());
  }
  if (!ready_.empty()) {
    batch_ptr b = std::move(ready_.front());
    ready_.pop_front();
    return b;
  }
  // A partial batch goes when it has waited max_delay for company (at once when that is 0).
  const auto oldest = oldest_open();
  if (oldest == open_.end() || oldest->second->opened + config_.max_delay > now) return nullptr;
  batch_ptr b = std::move(oldest->second);
  open_.erase(oldest);
  open_order_.pop_front();
  return b;
}

std::unordered_map<const request_group*, batch_ptr>::iterator scheduler::oldest_open() {
  // Entries of batches that have since filled up (or were taken) are dropped on the way, so the
  // front is always the oldest batch still filling: O(1) amortised, however many groups.
  while (!open_order_.empty()) {
    const open_entry& front = open_order_.front();
    const auto it = open_.find(front.group);
    if (it != open_.end() && it->second.get() == front.filling &&
        it->second->opened == front.opened) {
      return it;
    }
    open_order_.pop_front();
  }
  return open_.end();
}

void scheduler::pump(std::unique_lock<std::mutex>& lock, deferred& todo, clock::time_point now) {
  // Every endpoint has refused repeatedly (a wrong key or URL): sending more would only repeat
  // the answer, so what is queued fails now, with that answer.
  if (endpoints_.all_refusing() && has_work()) {
    collect_all_queued(
        todo, exchange_outcome{.result = exchange_result::http_status,
                               .status = endpoints_.refusal_status(),
                               .detail = endpoints_.refusal_reason() +
                                         "; every endpoint answered this repeatedly, so nothing "
                                         "more was sent: check the API key and the URL"});
  }
  for (;;) {
    const int e = pick_endpoint(now);
    if (e < 0) break;
    batch_ptr b = take_batch(now);
    if (!b) break;
    if (b->deadline <= now) {
      todo.failures.emplace_back(
          std::move(b),
          exchange_outcome{.result = exchange_result::timeout,
                           .detail = "no endpoint could take the prompt within its total "
                                     "timeout; raise --total-timeout or add endpoints"});
      continue;
    }
    const auto endpoint = static_cast<std::size_t>(e);
    const std::size_t limit = endpoints_.batch_limit(endpoint);
    if (b->items.size() > limit) {
      // Larger than this endpoint takes (it answered 413, or its tuner chose less): its last
      // `limit` prompts go, the rest waits at the front. Cutting from the back moves only what
      // is sent, so a large batch dealt out in small ones costs no more than its prompts.
      batch_ptr sent = new_batch_locked();
      split_off(*b, b->items.size() - limit, *sent);
      ready_.push_front(std::move(b));
      b = std::move(sent);
    }
    endpoints_.dispatched(endpoint, b->items.size(), now);
    todo.handoffs.emplace_back(std::move(idle_[endpoint].back()), std::move(b));
    idle_[endpoint].pop_back();
  }

  // Wake up again for the earliest of: a backoff ending or a partial batch's max_delay, while a
  // connection could take it; a pause, throttle or cool-down ending while work waits. With no
  // usable connection, work that is due must not arm the timer (it would fire at once,
  // forever): the next connection to park pumps again.
  auto wake = clock::time_point::max();
  if (pick_endpoint(now) >= 0) {
    if (!delayed_.empty()) wake = delayed_.begin()->first;
    if (const auto oldest = oldest_open(); oldest != open_.end()) {
      wake = std::min(wake, oldest->second->opened + config_.max_delay);
    }
  }
  if (has_work()) {
    wake = std::min(
        wake, endpoints_.next_change(now, [this](std::size_t i) { return !idle_[i].empty(); }));
  }
  if (wake != clock::time_point::max())
    arm_timer(std::max(wake, now + std::chrono::microseconds(1)));

  // Closed and drained: every parked connection is told to end.
  if (admission_.closed() && admission_.pending() == 0) {
    for (auto& parked : idle_) {
      for (auto& h : parked) todo.handoffs.emplace_back(std::move(h), nullptr);
      parked.clear();
    }
  }
  lock.unlock();
  run(todo);
}

void scheduler::run(deferred& todo) {
  for (auto& admit : todo.admitted) admit(true);
  for (auto& admit : todo.refused) admit(false);
  for (auto& [b, why] : todo.failures) {
    const errc type = why.result == exchange_result::timeout       ? errc::timeout
                      : why.result == exchange_result::http_status ? errc::http_status
                                                                   : errc::cancelled;
    on_failure_(std::move(b), why, type);
  }
  // Each connection resumes on its own executor (its strand), never inside this call.
  for (auto& [handler, b] : todo.handoffs) {
    asio::post(timer_.get_executor(), asio::append(std::move(handler), std::move(b)));
  }
}

void scheduler::arm_timer(clock::time_point when) {
  if (when >= timer_at_) return;
  timer_at_ = when;
  timer_.expires_at(when);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed earlier, or shutting down
    std::unique_lock lock(mutex_);
    timer_at_ = clock::time_point::max();
    deferred todo;
    pump(lock, todo, clock::now());
  });
}

}  // namespace promptpack::detail
