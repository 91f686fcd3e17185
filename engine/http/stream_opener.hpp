// Opens a connection to an endpoint, TCP or TLS, with one deadline over resolve, connect and
// handshake.
#pragma once

#include "http/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace promptpack::detail {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/// A stream, or why there is none.
template <class Stream>
struct opened_stream {
  std::optional<Stream> stream;
  bool tls_failure = false;  ///< the failure was TLS itself (certificate, protocol), not reach
  std::string detail;        ///< what went wrong, naming host and port
};

/// Resolves and connects within `timeout`.
boost::asio::awaitable<opened_stream<boost::beast::tcp_stream>> open_tcp(
    boost::asio::any_io_executor executor, const endpoint_url& url,
    std::chrono::milliseconds timeout);

/// Resolves, connects and completes the TLS handshake (SNI, chain and host name checked when
/// `verify`), all within `timeout`.
boost::asio::awaitable<opened_stream<tls_stream>> open_tls(boost::asio::any_io_executor executor,
                                                           const endpoint_url& url,
                                                           boost::asio::ssl::context& context,
                                                           bool verify,
                                                           std::chrono::milliseconds timeout);

}  // namespace promptpack::detail
