// The error vocabulary of promptpack: the fixed error types of PROTOCOL.md and the prompt_error
// record.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack {

/// The only error types a prompt can end with (PROTOCOL.md section 2).
enum class errc : std::uint8_t {
  invalid_input = 1,  ///< the prompt or its parameters cannot be sent (bad UTF-8, bad JSON)
  http_status,        ///< the endpoint rejected the prompt with a non-retryable HTTP status
  timeout,            ///< no complete response within request_timeout_s, retries exhausted
  connection,         ///< could not connect, or the connection died, retries exhausted
  tls,                ///< TLS handshake or certificate verification failed
  protocol,           ///< the endpoint answered with a body that breaks the protocol
  endpoint,           ///< the endpoint answered with a "message" other than "ok"
  cancelled,          ///< the client shut down before the prompt completed
};

/// The wire name of an error type, as written in error records ("http_status", ...).
std::string_view to_string(errc type) noexcept;

/// The error category of promptpack::errc (named "promptpack"). A process-wide singleton.
const boost::system::error_category& error_category() noexcept;

/// errc as a boost::system::error_code, as Asio completion handlers receive it. It converts to
/// std::error_code, too.
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Why one prompt failed. Messages say what happened and what to do about it.
struct prompt_error {
  errc type = errc::protocol;
  std::string message;  ///< human-readable; never contains the API key, and what it quotes of
                        ///< an endpoint has its control characters escaped
  int http_status = 0;  ///< the last HTTP status seen, 0 when there was none
  int attempts = 0;     ///< how many exchanges carried this prompt
};

}  // namespace promptpack

template <>
struct boost::system::is_error_code_enum<promptpack::errc> : std::true_type {};
