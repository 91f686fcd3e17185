// The batcher and dispatcher: one lock, batch-level work only, hand-offs outside the lock.
#include "batching/scheduler.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace promptpack::detail {

namespace asio = boost::asio;

// Rough JSON cost of one prompt in the array: quotes, comma, and some escaping slack.
constexpr std::size_t per_prompt_overhead_bytes = 4;

scheduler::scheduler(asio::any_io_executor timer_executor, scheduler_config config,
                     std::vector<double> endpoint_weights, batch_failure_handler on_failure)
    : config_(config), on_failure_(std::move(on_failure)), timer_(timer_executor) {
  for (double weight : endpoint_weights) {
    endpoints_.push_back(endpoint_state{.weight = weight > 0 ? weight : 1.0,
                                        .batch_limit = config_.max_batch_prompts,
                                        .health = endpoint_health(config_.health),
                                        .idle = {}});
  }
}

bool scheduler::acquire(std::size_t count) {
  std::unique_lock lock(mutex_);
  // A request larger than the whole window is let in alone, rather than never.
  room_cv_.wait(lock, [&] {
    return closed_ || (waiting_admissions_.empty() &&
                       (pending_ + count <= config_.max_pending || pending_ == 0));
  });
  if (closed_) return false;
  pending_ += count;
  return true;
}

void scheduler::acquire_async(std::size_t count, std::function<void(bool)> admit) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    admit(false);
    return;
  }
  if (waiting_admissions_.empty() && (pending_ + count <= config_.max_pending || pending_ == 0)) {
    pending_ += count;
    lock.unlock();
    admit(true);
    return;
  }
  waiting_admissions_.emplace_back(count, std::move(admit));
}

void scheduler::release(std::size_t count) {
  std::unique_lock lock(mutex_);
  pending_ -= count;
  deferred todo;
  while (!waiting_admissions_.empty() &&
         (pending_ + waiting_admissions_.front().first <= config_.max_pending || pending_ == 0)) {
    pending_ += waiting_admissions_.front().first;
    todo.admissions.push_back(std::move(waiting_admissions_.front().second));
    waiting_admissions_.pop_front();
  }
  room_cv_.notify_all();
  if (pending_ == 0) idle_cv_.notify_all();
  pump(lock, todo);
}

void scheduler::enqueue(const GroupHandle& group, std::span<const work_item> items) {
  std::unique_lock lock(mutex_);
  const auto now = clock::now();
  batch_ptr& open = open_[group.get()];
  for (const auto& item : items) {
    const std::size_t cost = item.prompt.size() + per_prompt_overhead_bytes;
    if (open && !open->items.empty() && open->bytes + cost > config_.max_batch_bytes) {
      ready_.push_back(std::move(open));
    }
    if (!open) {
      open = new_batch_locked();
      open->group = group;
      open->bytes = group->writer.fixed_bytes();
      open->opened = now;
      open->deadline = now + config_.total_timeout;
      open_order_.push_back({group.get(), open.get(), now});
    }
    open->items.push_back(item);
    open->bytes += cost;
    if (open->items.size() >= config_.max_batch_prompts) ready_.push_back(std::move(open));
  }
  if (!open) open_.erase(group.get());
  oldest_open();  // drops the order entries of batches that just filled up
  deferred todo;
  pump(lock, todo);
}

void scheduler::park(std::size_t endpoint, next_batch_handler handler) {
  std::unique_lock lock(mutex_);
  endpoints_[endpoint].idle.push_back(std::move(handler));
  deferred todo;
  pump(lock, todo);
}

void scheduler::exchange_done(std::size_t endpoint, const exchange_outcome& outcome) {
  std::lock_guard lock(mutex_);
  auto& e = endpoints_[endpoint];
  --e.in_flight;
  const auto now = clock::now();
  switch (outcome.result) {
    case exchange_result::ok:
      e.health.on_success();
      break;
    case exchange_result::connect_failed:
      e.health.on_unreachable(now);
      break;
    case exchange_result::timeout:
    case exchange_result::connection_lost:
    case exchange_result::endpoint_message:
      e.health.on_failure(now);
      break;
    case exchange_result::http_status:
      if (outcome.status >= 500) e.health.on_failure(now);
      break;
    case exchange_result::stale_connection:
    case exchange_result::tls_failed:
    case exchange_result::bad_body:
      break;  // says nothing about the endpoint's load or life
  }
}

bool scheduler::another_endpoint_available(std::size_t endpoint) const {
  std::lock_guard lock(mutex_);
  const auto now = clock::now();
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    if (i != endpoint && endpoints_[i].health.available(now)) return true;
  }
  return false;
}

void scheduler::resend(batch_ptr b) {
  std::unique_lock lock(mutex_);
  ready_.push_front(std::move(b));
  deferred todo;
  pump(lock, todo);
}

void scheduler::retry_later(batch_ptr b, std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  b->not_before = clock::now() + delay;
  delayed_.emplace(b->not_before, std::move(b));
  deferred todo;
  pump(lock, todo);
}

void scheduler::lower_batch_limit(std::size_t endpoint, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto& e = endpoints_[endpoint];
  e.batch_limit = std::max<std::size_t>(1, std::min(e.batch_limit, limit));
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

void scheduler::close(bool cancel) {
  std::unique_lock lock(mutex_);
  closed_ = true;
  deferred todo;
  todo.admitted = false;
  for (auto& waiting : waiting_admissions_) todo.admissions.push_back(std::move(waiting.second));
  waiting_admissions_.clear();
  room_cv_.notify_all();
  if (cancel) collect_all_queued(todo, errc::cancelled);
  pump(lock, todo);
}

void scheduler::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [&] { return pending_ == 0; });
}

bool scheduler::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void scheduler::cancel_timer() {
  std::lock_guard lock(mutex_);
  timer_.cancel();
  timer_at_ = clock::time_point::max();
}

std::uint64_t scheduler::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

void scheduler::collect_all_queued(deferred& todo, errc type) {
  for (auto& b : ready_) todo.failures.emplace_back(std::move(b), type);
  ready_.clear();
  for (auto& [when, b] : delayed_) todo.failures.emplace_back(std::move(b), type);
  delayed_.clear();
  for (auto& [group, b] : open_) todo.failures.emplace_back(std::move(b), type);
  open_.clear();
  open_order_.clear();
}

int scheduler::pick_endpoint(clock::time_point now) const {
  // Least loaded by weight among healthy endpoints with an idle connection. Cooling endpoints
  // are used only when no endpoint at all is healthy: a cool-down moves traffic elsewhere, it
  // never strands it.
  bool any_healthy = false;
  for (const auto& e : endpoints_) any_healthy = any_healthy || e.health.available(now);
  int best = -1;
  double best_load = 0;
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    const auto& e = endpoints_[i];
    if (e.idle.empty() || (any_healthy && !e.health.available(now))) continue;
    const double load = static_cast<double>(e.in_flight + 1) / e.weight;
    if (best < 0 || load < best_load) {
      best = static_cast<int>(i);
      best_load = load;
    }
  }
  return best;
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

void scheduler::pump(std::unique_lock<std::mutex>& lock, deferred& todo) {
  const auto now = clock::now();
  for (;;) {
    const int e = pick_endpoint(now);
    if (e < 0) break;
    batch_ptr b = take_batch(now);
    if (!b) break;
    if (b->deadline <= now) {
      todo.failures.emplace_back(std::move(b), errc::timeout);
      continue;
    }
    auto& endpoint = endpoints_[static_cast<std::size_t>(e)];
    if (b->items.size() > endpoint.batch_limit) {  // this endpoint answered 413 to larger ones
      batch_ptr rest = new_batch_locked();
      rest->group = b->group;
      rest->budget = b->budget;
      rest->opened = b->opened;
      rest->deadline = b->deadline;
      rest->items.assign(b->items.begin() + static_cast<std::ptrdiff_t>(endpoint.batch_limit),
                         b->items.end());
      b->items.resize(endpoint.batch_limit);
      rest->bytes = b->bytes;  // an over-estimate is harmless: it only caps future merging
      ready_.push_front(std::move(rest));
    }
    ++endpoint.in_flight;
    todo.handoffs.emplace_back(std::move(endpoint.idle.back()), std::move(b));
    endpoint.idle.pop_back();
  }

  // Wake up again for the earliest of: a backoff ending or a partial batch's max_delay, while a
  // connection could take it; a cool-down ending while work waits. With no usable connection,
  // work that is due must not arm the timer (it would fire at once, forever): the next
  // connection to park pumps again.
  auto wake = clock::time_point::max();
  if (pick_endpoint(now) >= 0) {
    if (!delayed_.empty()) wake = delayed_.begin()->first;
    if (const auto oldest = oldest_open(); oldest != open_.end()) {
      wake = std::min(wake, oldest->second->opened + config_.max_delay);
    }
  }
  if (!ready_.empty() || !open_.empty() || !delayed_.empty()) {
    for (const auto& e : endpoints_) {
      if (!e.idle.empty() && !e.health.available(now))
        wake = std::min(wake, e.health.cooling_until());
    }
  }
  if (wake != clock::time_point::max())
    arm_timer(std::max(wake, now + std::chrono::microseconds(1)));

  // Closed and drained: every parked connection is told to end.
  if (closed_ && pending_ == 0) {
    for (auto& e : endpoints_) {
      for (auto& h : e.idle) todo.handoffs.emplace_back(std::move(h), nullptr);
      e.idle.clear();
    }
  }
  lock.unlock();
  run(todo);
}

void scheduler::run(deferred& todo) {
  for (auto& admit : todo.admissions) admit(todo.admitted);
  for (auto& [b, type] : todo.failures) {
    exchange_outcome why;
    why.result = type == errc::timeout ? exchange_result::timeout : exchange_result::ok;
    why.detail = type == errc::timeout
                     ? "no endpoint could take the prompt within its total timeout"
                     : "the client shut down before the prompt was sent";
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
    pump(lock, todo);
  });
}

}  // namespace promptpack::detail
