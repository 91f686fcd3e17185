// Output records, appended straight into a caller's buffer (no per-record allocation).
#include "run/record_format.hpp"

#include <promptpack/litellm.hpp>
#include <promptpack/protocol/json_text.hpp>

#include <random>

namespace promptpack::run {
namespace {

bool is_openai(line_form form) {
  return form == line_form::openai_chat || form == line_form::openai_completion;
}

void append_random_id(std::string& out, std::string_view prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  out.append(prefix);
  std::uint64_t bits = rng();
  for (int i = 0; i < 16; ++i, bits >>= 4) out.push_back(hex[bits & 15]);
  out.push_back('"');
}

}  // namespace

void append_success(std::string& out, std::string_view custom_id_json, line_form form,
                    std::span<const std::string_view> outputs, const openai_context& openai) {
  if (!is_openai(form)) {
    out.append("{\"custom_id\":").append(custom_id_json).append(",\"output\":[");
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_json_string(out, outputs[i]);
    }
    out.append("]}\n");
    return;
  }
  const std::vector<std::string> owned(outputs.begin(), outputs.end());
  const auto response = model_response::from_outputs(
      openai.model, openai.prompt, owned, openai.max_tokens, form == line_form::openai_chat);
  out.append("{\"id\":");
  append_random_id(out, "batch_req_");
  out.append(",\"custom_id\":").append(custom_id_json);
  out.append(",\"response\":{\"status_code\":200,\"request_id\":");
  append_random_id(out, "req_");
  out.append(",\"body\":").append(response.to_json()).append("},\"error\":null}\n");
}

void append_error(std::string& out, std::string_view custom_id_json, line_form form,
                  const prompt_error& error, std::uint64_t line) {
  if (is_openai(form)) {
    out.append("{\"id\":");
    append_random_id(out, "batch_req_");
    out.append(",\"custom_id\":")
        .append(custom_id_json)
        .append(",\"response\":null,\"error\":{\"code\":");
    append_json_string(out, to_string(error.type));
    out.append(",\"message\":");
    append_json_string(out, error.message);
    if (line != 0) out.append(",\"line\":").append(std::to_string(line));
    out.append("}}\n");
    return;
  }
  out.append("{\"custom_id\":").append(custom_id_json).append(",\"error\":{\"type\":");
  append_json_string(out, to_string(error.type));
  out.append(",\"message\":");
  append_json_string(out, error.message);
  if (line != 0) out.append(",\"line\":").append(std::to_string(line));
  if (error.http_status != 0)
    out.append(",\"http_status\":").append(std::to_string(error.http_status));
  if (error.attempts != 0) out.append(",\"attempts\":").append(std::to_string(error.attempts));
  out.append("}}\n");
}

}  // namespace promptpack::run
