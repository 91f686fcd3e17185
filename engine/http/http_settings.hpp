// What every request of one endpoint carries, and the limits on what its answers may be.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace promptpack::detail {

struct http_settings {
  std::string target;       ///< the request target: the api_base's path and query
  std::string host_header;  ///< the Host header
  std::string api_key;      ///< sent as a Bearer token when not empty
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra request headers
  std::chrono::milliseconds request_timeout{300000};  ///< writing the request to the last byte
  std::size_t max_response_bytes = 256u << 20;        ///< a larger body ends the exchange
};

}  // namespace promptpack::detail
