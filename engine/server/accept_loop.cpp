// The shared accept loop: the connection cap, TCP_NODELAY, and the backoff on failing accepts.
#include "server/accept_loop.hpp"

#include "server/accept_backoff.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <utility>

namespace promptpack::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> accept_connections(asio::io_context& ioc, tcp::acceptor& acceptor,
                                         capacity_gate& gate, accept_counters counters,
                                         std::string who, connection_handler serve) {
  constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
  bool failing = false;  // so that a run of failed accepts is reported once, not once per retry
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(socket, as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors, the listener stays readable and accept fails again at once:
      // retrying without a pause would spin a core until some connection closes.
      const auto pause = accept_backoff(ec);
      if (!pause) continue;
      if (!failing) {
        std::fprintf(stderr,
                     "%s: cannot accept connections: %s; retrying every %lld ms (each "
                     "connection holds a file descriptor: raise `ulimit -n` or lower "
                     "--max-connections)\n",
                     who.c_str(), ec.message().c_str(), static_cast<long long>(pause->count()));
        failing = true;
      }
      asio::steady_timer timer(acceptor.get_executor(), *pause);
      co_await timer.async_wait(as_tuple_awaitable);
      continue;
    }
    failing = false;
    auto slot = gate.try_enter();
    if (!slot) {
      // Closed before reading anything: a 503 would first need the request read, holding the
      // very descriptor and memory the cap is there to protect. Clients see a closed connection
      // and retry it as a connection error.
      counters.refused.fetch_add(1, std::memory_order_relaxed);
      socket.close(ec);
      continue;
    }
    counters.accepted.fetch_add(1, std::memory_order_relaxed);
    socket.set_option(tcp::no_delay(true), ec);
    serve(std::move(socket), std::move(*slot));
  }
}

}  // namespace promptpack::server
