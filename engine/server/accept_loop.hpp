// The accept loop that every promptpack server shares: a cap on open connections, and a pause
// instead of a spin while accept keeps failing.
#pragma once

#include "server/capacity_gate.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace promptpack::server {

/// Where the accept loop counts what it did: relaxed atomics that the server owns.
struct accept_counters {
  std::atomic<std::uint64_t>& accepted;  ///< connections handed to a session
  std::atomic<std::uint64_t>& refused;   ///< connections closed at once: the gate was full
};

/// Starts the session of one accepted connection, which holds `slot` for as long as it lives.
/// The socket has a strand of its own, so that one session's handlers never run concurrently.
using connection_handler =
    std::function<void(boost::asio::ip::tcp::socket socket, capacity_slot slot)>;

/// Accepts on `acceptor` until it is closed. A connection beyond the gate's cap is closed before
/// anything is read from it; every other one gets TCP_NODELAY and goes to `serve`. When accept
/// keeps failing (out of file descriptors, say), the loop pauses between tries and reports it
/// once on stderr, prefixed with `who` ("promptpack serve").
boost::asio::awaitable<void> accept_connections(boost::asio::io_context& ioc,
                                                boost::asio::ip::tcp::acceptor& acceptor,
                                                capacity_gate& gate, accept_counters counters,
                                                std::string who, connection_handler serve);

}  // namespace promptpack::server
