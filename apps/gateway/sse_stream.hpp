// A whole response as OpenAI's Server-Sent Events stream, for callers that asked for stream: true.
#pragma once

#include <promptpack/litellm.hpp>

#include <string>

namespace promptpack::gateway {

/// Appends `response` to `out` as the events OpenAI streams, each `data: {json}` and a blank
/// line, ending with `data: [DONE]`. The endpoints do not stream, so each choice's text comes as
/// one delta, as LiteLLM streams custom endpoints. A chat choice gets three
/// `chat.completion.chunk`s (the role, the content, the finish_reason); a text choice one
/// `text_completion` chunk with its text and finish_reason. With `include_usage`, a last chunk
/// with no choices carries the usage (OpenAI's stream_options.include_usage).
void append_event_stream(std::string& out, const model_response& response, bool include_usage);

}  // namespace promptpack::gateway
