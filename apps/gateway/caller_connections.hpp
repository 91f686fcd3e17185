// The gateway's open caller connections, so that a shutdown can close the idle ones at once, let
// the busy ones finish, and know when the last one is gone.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <utility>

namespace promptpack::gateway {

/// One caller's connection, shared by its session and by a shutdown in progress. Its fields are
/// touched only on the stream's strand.
struct caller_connection {
  explicit caller_connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}

  boost::beast::tcp_stream stream;
  bool idle = false;     ///< waiting for the next request: nothing would be lost by closing it
  bool closing = false;  ///< the gateway is shutting down: answer the request in hand, then close
};

/// Every open connection. Safe from any thread.
class caller_connections {
 public:
  /// Keeps a connection registered for as long as it lives (a session holds one).
  class membership {
   public:
    membership(caller_connections& registry, std::shared_ptr<caller_connection> connection);
    ~membership();
    membership(const membership&) = delete;
    membership& operator=(const membership&) = delete;

   private:
    caller_connections& registry_;
    std::shared_ptr<caller_connection> connection_;
  };

  /// Asks every connection to close once its request in hand is answered, and closes the idle
  /// ones now; a connection that joins from now on is told so at once.
  void close_gracefully();
  /// Closes every connection now (the grace period is over).
  void close_all();
  /// Calls `on_empty` once, from the thread that closes the last connection, or now when none is
  /// open. It replaces any earlier one.
  void notify_when_empty(std::function<void()> on_empty);
  std::size_t size() const;

 private:
  void join(const std::shared_ptr<caller_connection>& connection);
  void leave(const std::shared_ptr<caller_connection>& connection);

  mutable std::mutex mutex_;
  std::unordered_set<std::shared_ptr<caller_connection>> open_;
  bool closing_ = false;
  std::function<void()> on_empty_;
};

}  // namespace promptpack::gateway
