// Output records, appended straight into a caller's buffer (no per-record allocation).
#include "run/record_format.hpp"

#include <promptpack/litellm.hpp>
#include <promptpack/protocol/json_text.hpp>

#include <cstring>
#include <random>
#include <vector>

namespace promptpack::run {
namespace {

bool is_openai(line_form form) {
  return form == line_form::openai_chat || form == line_form::openai_completion;
}

// A status outside 2xx. A prompt can fail after a 2xx too (a body that breaks the protocol, a
// "message" other than "ok"): that is no HTTP error to report as the response's status.
bool answered_with_http_error(const prompt_error& error) {
  return error.http_status != 0 && (error.http_status < 200 || error.http_status > 299);
}

// The "type" of an OpenAI error body for an HTTP status (docs/job-contract.md lists them).
std::string_view openai_error_type(int http_status) {
  if (http_status == 401) return "authentication_error";
  if (http_status == 403) return "permission_error";
  if (http_status == 429) return "rate_limit_error";
  if (http_status >= 400 && http_status < 500) return "invalid_request_error";
  // 5xx, and what no client should have been sent (a redirect promptpack does not follow).
  return "server_error";
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

// `{"id":"batch_req_…","custom_id":…`, the start of every OpenAI record.
void append_openai_record_start(std::string& out, std::string_view custom_id_json) {
  out.append("{\"id\":");
  append_random_id(out, "batch_req_");
  out.append(",\"custom_id\":").append(custom_id_json);
}

// `,"response":{"status_code":N,"request_id":"req_…","body":`, to be followed by the body.
void append_openai_response_start(std::string& out, int status_code) {
  out.append(",\"response\":{\"status_code\":").append(std::to_string(status_code));
  out.append(",\"request_id\":");
  append_random_id(out, "req_");
  out.append(",\"body\":");
}

// A success record in the plain form whose outputs need no escaping: the usual record, so it is
// sized once and copied in place (one append per piece cost twice as much, each a library call
// that checks the capacity again).
void append_plain_success(std::string& out, std::string_view custom_id_json,
                          std::span<const std::string_view> outputs) {
  constexpr std::string_view head = "{\"custom_id\":";
  constexpr std::string_view middle = ",\"output\":[";
  constexpr std::string_view tail = "]}\n";
  std::size_t size = head.size() + custom_id_json.size() + middle.size() + tail.size();
  for (const auto output : outputs) size += output.size() + 3;  // its quotes and a comma
  if (!outputs.empty()) --size;                                 // none before the first
  const std::size_t start = out.size();
  out.resize(start + size);
  char* p = out.data() + start;
  const auto put = [&p](std::string_view piece) {
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  put(head);
  put(custom_id_json);
  put(middle);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (i > 0) *p++ = ',';
    *p++ = '"';
    put(outputs[i]);
    *p++ = '"';
  }
  put(tail);
}

}  // namespace

void append_success(std::string& out, std::string_view custom_id_json, line_form form,
                    std::span<const std::string_view> outputs, bool outputs_json_safe,
                    const openai_context& openai) {
  if (!is_openai(form)) {
    if (outputs_json_safe) return append_plain_success(out, custom_id_json, outputs);
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
  append_openai_record_start(out, custom_id_json);
  append_openai_response_start(out, 200);
  out.append(response.to_json()).append("},\"error\":null}\n");
}

void append_error(std::string& out, std::string_view custom_id_json, line_form form,
                  const prompt_error& error, std::uint64_t line) {
  if (is_openai(form) && answered_with_http_error(error)) {
    // As OpenAI writes a request its endpoint refused: the answer is the response, not an error.
    append_openai_record_start(out, custom_id_json);
    append_openai_response_start(out, error.http_status);
    out.append("{\"error\":{\"message\":");
    append_json_string(out, error.message);
    out.append(",\"type\":");
    append_json_string(out, openai_error_type(error.http_status));
    out.append(",\"param\":null,\"code\":");
    append_json_string(out, to_string(error.type));
    out.append("}}},\"error\":null}\n");
    return;
  }
  if (is_openai(form)) {
    append_openai_record_start(out, custom_id_json);
    out.append(",\"response\":null,\"error\":{\"code\":");
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
