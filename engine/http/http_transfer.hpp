// What one HTTP exchange on a connection produced: a final response, or why there is none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::detail {

enum class transfer_error : std::uint8_t {
  none,         ///< a final response was read whole; `status` and the body are set
  unreachable,  ///< no connection could be opened: the request never left
  tls,          ///< the TLS handshake or the certificate check failed
  stale,        ///< a reused connection was closed (or spoke out of turn) before any response byte
  timeout,      ///< no complete response within the request timeout
  lost,         ///< the connection died after the request was (partly) sent
  body_limit,   ///< the response body is larger than allowed
  framing,      ///< the bytes do not frame one response for this request (see `detail`)
};

/// The outcome of http_session::async_exchange. Holds no API key.
struct http_transfer {
  transfer_error error = transfer_error::none;
  int status = 0;           ///< the final status, when a status line was read
  std::string reason;       ///< its reason phrase
  std::string retry_after;  ///< the Retry-After header, raw; empty when absent
  std::string location;     ///< the Location header, raw; empty when absent
  std::string detail;       ///< what went wrong, for the error message
  /// The response body, when a response was read: a view of the session's read buffer (the usual
  /// answer, not copied) or of the caller's string. Valid until the next exchange on the same
  /// connection; a session that ends with this exchange leaves its body in the caller's string.
  std::string_view body;
  bool connection_closed = false;  ///< the session is finished: open a new one for the next
};

}  // namespace promptpack::detail
