// How one exchange with an endpoint ended, as the retry policy sees it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace promptpack::detail {

enum class exchange_result : std::uint8_t {
  ok,                ///< 2xx and a body that follows the protocol (some prompts may be unanswered)
  connect_failed,    ///< resolve, connect or connect timeout failed: the request never left
  tls_failed,        ///< TLS handshake or certificate verification failed
  timeout,           ///< no complete response within request_timeout_s
  connection_lost,   ///< the connection died after the request was (partly) sent
  framing,           ///< the bytes did not frame one response for this request
  http_status,       ///< a status other than 2xx
  bad_body,          ///< 2xx with a body that breaks the protocol
  endpoint_message,  ///< 2xx with a "message" other than "ok"
};

struct exchange_outcome {
  exchange_result result = exchange_result::ok;
  int status = 0;                                        ///< HTTP status, when one was read
  std::optional<std::chrono::milliseconds> retry_after;  ///< from a Retry-After header
  std::string detail;       ///< what happened, for the error message (never holds the API key)
  std::size_t prompts = 0;  ///< prompts the exchange carried
  std::chrono::steady_clock::duration elapsed{};  ///< from writing the request to the answer
};

}  // namespace promptpack::detail
