// Parses an HTTP Retry-After header: delay-seconds or an HTTP-date.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace promptpack::detail {

/// `120` or `Sun, 06 Nov 1994 08:49:37 GMT` (also the obsolete RFC 850 and asctime forms) into a
/// delay from `now`; a date in the past is a zero delay. nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace promptpack::detail
