// Server side of the protocol: reads one inference request body for the reference model.
#pragma once

#include "reference/text_generator.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace promptpack::reference {

/// One decoded request. Views point into the reader's buffers until its next read().
struct inference_request {
  std::string_view model;
  std::vector<std::string_view> prompts;
  generation_params params;
};

/// Reads request bodies; one per connection, reused. Not thread-safe. Never throws.
class inference_request_reader {
 public:
  /// Decodes `body` (its capacity may grow for simdjson's padding). On failure returns false and
  /// sets `error` to a reason fit for a 400 answer.
  bool read(std::string& body, inference_request& out, std::string& error);

 private:
  simdjson::ondemand::parser parser_;
};

}  // namespace promptpack::reference
