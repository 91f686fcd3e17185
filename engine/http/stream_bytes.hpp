// How many bytes a stream has received that nobody has read: the "spoke out of turn" check.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <cstddef>

namespace promptpack::detail {

/// Bytes waiting in the kernel for a plain TCP stream.
inline std::size_t unread_bytes(boost::beast::tcp_stream& stream) {
  boost::system::error_code ec;
  const std::size_t n = stream.socket().available(ec);
  return ec ? 1 : n;  // a socket that cannot say is in doubt: report bytes, so it is closed
}

/// Bytes waiting for a TLS stream: decrypted but unread, plus raw bytes in the kernel (an
/// alert or close_notify counts: the peer is closing, and the connection should not be reused).
template <class NextLayer>
std::size_t unread_bytes(boost::beast::ssl_stream<NextLayer>& stream) {
  const int pending = SSL_pending(stream.native_handle());
  return static_cast<std::size_t>(pending > 0 ? pending : 0) + unread_bytes(stream.next_layer());
}

}  // namespace promptpack::detail
