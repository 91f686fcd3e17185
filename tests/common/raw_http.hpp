// One HTTP exchange written by hand over a raw_socket: any method, header or body, the
// connection closed by the server after its answer.
#pragma once

#include "common/http_probe.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace promptpack::test {

/// Request headers beyond Host, Connection and Content-Length, as (name, value).
using header_list = std::vector<std::pair<std::string, std::string>>;

/// The bytes of one request with `Connection: close` and, when `body` is not empty, its
/// Content-Length.
std::string http_request(std::string_view method, std::string_view target, std::string_view body,
                         const header_list& headers = {});

/// Parses what a server sent before it closed: status, lower-cased headers, and the body (cut at
/// its Content-Length). A status of 0 means no answer came.
probe_response parse_http_response(const std::string& received);

/// Sends `request` to 127.0.0.1:port and reads until the server closes, for at most `within`.
probe_response http_exchange(std::uint16_t port, std::string_view request,
                             std::chrono::milliseconds within = std::chrono::seconds(30));

}  // namespace promptpack::test
