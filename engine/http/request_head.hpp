// A request's start line and header fields, as bytes: built once per connection slot, so that
// each exchange adds only its Content-Length before writing head and body in one call.
#pragma once

#include "http/http_settings.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace promptpack::detail {

class request_head {
 public:
  /// POST to the settings' target with Host, User-Agent, Content-Type, Accept, the API key as a
  /// Bearer token, and the extra headers (which replace a default of the same name), as Beast's
  /// fields would order and write them.
  explicit request_head(const http_settings& settings);

  /// The whole head for a body of `body_size` bytes, blank line included. Valid until the next
  /// call.
  std::string_view for_body(std::size_t body_size);

 private:
  std::string head_;
  std::size_t fixed_size_ = 0;  // the bytes before Content-Length, the same for every request
};

}  // namespace promptpack::detail
