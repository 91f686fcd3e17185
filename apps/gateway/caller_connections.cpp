// The registry of caller connections, and the closing of them, each on its own strand.
#include "gateway/caller_connections.hpp"

#include <boost/asio/post.hpp>

#include <utility>
#include <vector>

namespace promptpack::gateway {
namespace {

// Runs `action` on the connection's strand, where its session also runs, so that neither sees
// the other's half-done changes.
template <class Action>
void on_strand(const std::shared_ptr<caller_connection>& connection, Action action) {
  auto executor = connection->stream.get_executor();
  boost::asio::post(executor, [connection, action = std::move(action)] { action(*connection); });
}

}  // namespace

caller_connections::membership::membership(caller_connections& registry,
                                           std::shared_ptr<caller_connection> connection)
    : registry_(registry), connection_(std::move(connection)) {
  registry_.join(connection_);
}

caller_connections::membership::~membership() {
  registry_.leave(connection_);
}

void caller_connections::join(const std::shared_ptr<caller_connection>& connection) {
  std::lock_guard lock(mutex_);
  open_.insert(connection);
  // Called on the connection's strand, before its session reads anything.
  if (closing_) connection->closing = true;
}

void caller_connections::leave(const std::shared_ptr<caller_connection>& connection) {
  std::function<void()> notify;
  {
    std::lock_guard lock(mutex_);
    open_.erase(connection);
    if (open_.empty()) notify = std::exchange(on_empty_, nullptr);
  }
  if (notify) notify();
}

void caller_connections::close_gracefully() {
  std::vector<std::shared_ptr<caller_connection>> open;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    open.assign(open_.begin(), open_.end());
  }
  for (const auto& connection : open) {
    on_strand(connection, [](caller_connection& c) {
      c.closing = true;
      if (c.idle) c.stream.cancel();  // its session ends where it waits for the next request
    });
  }
}

void caller_connections::close_all() {
  std::vector<std::shared_ptr<caller_connection>> open;
  {
    std::lock_guard lock(mutex_);
    open.assign(open_.begin(), open_.end());
  }
  for (const auto& connection : open) {
    on_strand(connection, [](caller_connection& c) { c.stream.close(); });
  }
}

void caller_connections::notify_when_empty(std::function<void()> on_empty) {
  {
    std::lock_guard lock(mutex_);
    if (!open_.empty()) {
      on_empty_ = std::move(on_empty);
      return;
    }
  }
  on_empty();
}

std::size_t caller_connections::size() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

}  // namespace promptpack::gateway
