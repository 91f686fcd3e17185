// How a message quotes what an endpoint sent: bounded, the API key redacted, control characters
// escaped.
#pragma once

#include "text/secret_redactor.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace promptpack::detail {

/// What a message may show of `text`, which an endpoint sent: its first `max_bytes` or so ("..."
/// marks a cut, which never splits the key), every occurrence of the key replaced by "[redacted]",
/// then control characters escaped (escape_for_terminal), so that an endpoint can neither read
/// the key back out of our logs nor write into the user's terminal.
std::string quote_endpoint_text(std::string_view text, const secret_redactor& key,
                                std::size_t max_bytes);

}  // namespace promptpack::detail
