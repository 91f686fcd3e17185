// The body of an OpenAI chat or text completion request, decoded into prompts and the sampling
// parameters that decide which callers may share an upstream request.
#pragma once

#include "gateway/openai_error.hpp"

#include <promptpack/sampling_params.hpp>

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::gateway {

/// Which OpenAI API a request came through.
enum class completion_api : std::uint8_t {
  chat,  ///< POST /v1/chat/completions: `messages`, answered as chat.completion
  text,  ///< POST /v1/completions: `prompt`, answered as text_completion
};

/// One decoded request. `model` points into the reader until its next read().
struct openai_request {
  std::string_view model;
  /// Chat: the messages' contents joined with one space, as LiteLLM does. Text: one per prompt.
  std::vector<std::string> prompts;
  /// The gateway's defaults, overridden by the caller's max_tokens, temperature, top_p and top_k;
  /// stop, seed, n and the other pass-through parameters go into `extra` verbatim.
  sampling_params params;
  bool stream = false;
  bool stream_usage = false;  ///< stream_options.include_usage: a last chunk carries the usage
};

/// Decodes request bodies with simdjson On-Demand; one per connection, reused. Not thread-safe.
class openai_request_reader {
 public:
  /// Decodes `body` (its capacity may grow for simdjson's padding) into `out`, starting from the
  /// sampling `defaults`. On failure returns false with a 400 `error` naming the field at fault.
  bool read(std::string& body, completion_api api, const sampling_params& defaults,
            openai_request& out, openai_error& error);

 private:
  simdjson::ondemand::parser parser_;
};

}  // namespace promptpack::gateway
