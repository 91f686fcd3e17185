// Renders OpenAI's streaming chunks (chat.completion.chunk, text_completion) as SSE events.
#include "gateway/sse_stream.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <string_view>

namespace promptpack::gateway {
namespace {

// Opens one event: `data: {"id":..,"object":..,"created":..,"model":..,"choices":[`.
void open_chunk(std::string& out, const model_response& response, std::string_view object) {
  out += R"(data: {"id":)";
  append_json_string(out, response.id);
  out += R"(,"object":)";
  append_json_string(out, object);
  out += R"(,"created":)" + std::to_string(response.created) + R"(,"model":)";
  append_json_string(out, response.model);
  out += R"(,"choices":[)";
}

void close_chunk(std::string& out) {
  out += "]}\n\n";
}

void append_chat_chunks(std::string& out, const model_response& response,
                        const model_response::choice& choice) {
  const std::string index = std::to_string(choice.index);
  open_chunk(out, response, "chat.completion.chunk");
  out += R"({"index":)" + index + R"(,"delta":{"role":)";
  append_json_string(out, choice.message.role);
  out += R"(,"content":""},"finish_reason":null})";
  close_chunk(out);
  open_chunk(out, response, "chat.completion.chunk");
  out += R"({"index":)" + index + R"(,"delta":{"content":)";
  append_json_string(out, choice.message.content);
  out += R"(},"finish_reason":null})";
  close_chunk(out);
  open_chunk(out, response, "chat.completion.chunk");
  out += R"({"index":)" + index + R"(,"delta":{},"finish_reason":)";
  append_json_string(out, choice.finish_reason);
  out += "}";
  close_chunk(out);
}

void append_text_chunk(std::string& out, const model_response& response,
                       const model_response::choice& choice) {
  open_chunk(out, response, "text_completion");
  out += R"({"index":)" + std::to_string(choice.index) + R"(,"text":)";
  append_json_string(out, choice.message.content);
  out += R"(,"logprobs":null,"finish_reason":)";
  append_json_string(out, choice.finish_reason);
  out += "}";
  close_chunk(out);
}

}  // namespace

void append_event_stream(std::string& out, const model_response& response, bool include_usage) {
  const bool chat = response.object == "chat.completion";
  for (const auto& choice : response.choices) {
    if (chat) {
      append_chat_chunks(out, response, choice);
    } else {
      append_text_chunk(out, response, choice);
    }
  }
  if (include_usage) {
    open_chunk(out, response, chat ? "chat.completion.chunk" : "text_completion");
    out += R"(],"usage":{"prompt_tokens":)" + std::to_string(response.usage.prompt_tokens) +
           R"(,"completion_tokens":)" + std::to_string(response.usage.completion_tokens) +
           R"(,"total_tokens":)" + std::to_string(response.usage.total_tokens) + "}}\n\n";
  }
  out += "data: [DONE]\n\n";
}

}  // namespace promptpack::gateway
