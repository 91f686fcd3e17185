// Reading HTTP requests so that a slow, idle or greedy peer cannot hold a server: an idle timeout
// between requests, a read timeout once one has begun, and limits on headers and body.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace promptpack::server {

/// What a server allows one request.
struct request_limits {
  std::uint32_t max_header_bytes = 16 << 10;  ///< request line and headers; larger get 431
  std::uint64_t max_body_bytes = 64 << 20;    ///< larger bodies get 413
  std::chrono::seconds idle_timeout{120};     ///< a keep-alive connection may stay silent this long
  std::chrono::seconds read_timeout{30};  ///< a request, once begun, must arrive whole this fast
};

/// Why a request was refused before it was read to its end.
enum class request_refusal { none, headers_too_large, body_too_large };

/// The refusal that a read error of read_request() stands for; `none` for any other error (the
/// peer closed, was too slow, or sent bytes that are not HTTP), which gets no answer.
inline request_refusal refusal_for(const boost::system::error_code& read_error) noexcept {
  namespace http = boost::beast::http;
  if (read_error == http::error::header_limit) return request_refusal::headers_too_large;
  if (read_error == http::error::body_limit || read_error == http::error::bad_content_length) {
    return request_refusal::body_too_large;
  }
  return request_refusal::none;
}

/// Waits for the first byte of the next request, for at most `idle_timeout`, unless bytes are
/// already buffered (a request pipelined behind the last one). Reads up to `read_size` bytes at
/// once. An error means the peer closed, stayed idle too long, or the wait was cancelled.
template <class Stream>
boost::asio::awaitable<boost::system::error_code> await_request(Stream& stream,
                                                                boost::beast::flat_buffer& buffer,
                                                                std::chrono::seconds idle_timeout,
                                                                std::size_t read_size) {
  if (buffer.size() > 0) co_return boost::system::error_code{};
  boost::beast::get_lowest_layer(stream).expires_after(idle_timeout);
  auto [ec, n] =
      co_await stream.async_read_some(buffer.prepare(boost::beast::read_size(buffer, read_size)),
                                      boost::asio::as_tuple(boost::asio::use_awaitable));
  buffer.commit(n);
  co_return ec;
}

/// Reads one whole request into `parser`, with `limits` on its headers and body; all of it must
/// arrive within limits.read_timeout of this call, so that a client trickling bytes cannot keep
/// its connection for ever. With `answer_continue`, a request that carries
/// `Expect: 100-continue` is told to go on once its headers pass the limits (curl waits a second
/// for that before it sends a body of more than 1 KiB).
template <class Stream, class Body>
boost::asio::awaitable<boost::system::error_code> read_request(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::request_parser<Body>& parser, const request_limits& limits,
    bool answer_continue) {
  namespace http = boost::beast::http;
  constexpr auto as_tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
  boost::beast::get_lowest_layer(stream).expires_after(limits.read_timeout);
  auto [header_ec, header_bytes] =
      co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
  if (header_ec) co_return header_ec;
  if (answer_continue && !parser.is_done() &&
      boost::beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
    auto [continue_ec, continue_bytes] =
        co_await http::async_write(stream, go_on, as_tuple_awaitable);
    if (continue_ec) co_return continue_ec;
  }
  if (parser.is_done()) co_return boost::system::error_code{};
  auto [body_ec, body_bytes] =
      co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  co_return body_ec;
}

}  // namespace promptpack::server
