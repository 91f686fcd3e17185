// Ending a server connection: a hard close, and a lingering one after a refusal, so that the
// refusal reaches a client that is still sending.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <type_traits>

namespace promptpack::server {

/// A peer gets this long to take a response (or finish a TLS handshake or shutdown) before it is
/// cut off.
inline constexpr std::chrono::seconds write_timeout{30};

/// Shuts the connection down both ways and closes it.
template <class Stream>
void close_transport(Stream& stream) {
  boost::system::error_code ignored;
  auto& lowest = boost::beast::get_lowest_layer(stream);
  lowest.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  lowest.close();
}

/// Lingering close after refusing a request whose body is still arriving: closing a socket with
/// unread bytes sends a reset, which makes the client's write fail and can destroy the refusal
/// before the client reads it. So stop sending, then read and discard until the client closes
/// (for at most write_timeout).
template <class Stream>
boost::asio::awaitable<void> linger(Stream& stream) {
  if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>) {
    boost::system::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  }
  boost::beast::get_lowest_layer(stream).expires_after(write_timeout);
  std::array<char, 16384> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(
        boost::asio::buffer(sink), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace promptpack::server
