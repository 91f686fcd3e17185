// Refuses settings that go into every request and could forge or break it: control characters in
// the API key, headers and endpoint URLs, and header names that are not HTTP tokens.
#pragma once

#include <promptpack/client_config.hpp>

namespace promptpack::detail {

/// Throws std::invalid_argument when the API key, a header name or value, or an endpoint URL
/// holds a control character (a CR or LF would end the header line and let the rest forge
/// headers or requests; HTAB is allowed inside header values only), or when a header name is not
/// an RFC 9110 token. The message names the setting and the byte, never the text: it may be secret.
void check_request_fields(const client_config& config);

}  // namespace promptpack::detail
