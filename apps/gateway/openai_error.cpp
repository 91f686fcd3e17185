// The gateway's errors in OpenAI's shape, each with its status and a message that says what to do.
#include "gateway/openai_error.hpp"

#include "text/terminal_text.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <utility>

namespace promptpack::gateway {
namespace {

void append_string_or_null(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    append_json_string(out, text);
  }
}

}  // namespace

void append_error_json(std::string& out, const openai_error& error) {
  out += R"({"error":{"message":)";
  append_json_string(out, error.message);
  out += R"(,"type":)";
  append_json_string(out, error.type);
  out += R"(,"param":)";
  append_string_or_null(out, error.param);
  out += R"(,"code":)";
  append_string_or_null(out, error.code);
  out += "}}";
}

openai_error invalid_request(std::string message, std::string_view param) {
  return {.status = 400, .message = std::move(message), .param = param};
}

openai_error missing_api_key() {
  return {.status = 401,
          .message =
              "this gateway needs an API key: send the header `Authorization: Bearer "
              "<key>` (the OpenAI SDKs do, from api_key or OPENAI_API_KEY)",
          .code = "missing_api_key"};
}

openai_error wrong_api_key() {
  return {.status = 401,
          .message =
              "incorrect API key: send the key that the gateway was started with "
              "(promptpack gateway --api-key or PROMPTPACK_GATEWAY_API_KEY)",
          .code = "invalid_api_key"};
}

openai_error model_not_found(std::string_view model) {
  return {.status = 404,
          .message = "the model '" + std::string(model) +
                     "' does not exist on this gateway; GET /v1/models lists the models it "
                     "serves (promptpack gateway --model or --route NAME=URL)",
          .param = "model",
          .code = "model_not_found"};
}

openai_error unknown_path(std::string_view method, std::string_view path) {
  return {.status = 404,
          // The path is the caller's bytes: escaped, it is valid UTF-8 whatever they were.
          .message = "no route " + std::string(method) + " " + detail::escape_for_terminal(path) +
                     "; this gateway serves POST /v1/chat/completions, POST /v1/completions, "
                     "GET /v1/models, GET /health and GET /metrics",
          .code = "unknown_url"};
}

openai_error wrong_method(std::string_view path, std::string_view allowed) {
  return {.status = 405,
          .message = std::string(path) + " takes " + std::string(allowed) + " only",
          .code = "method_not_allowed"};
}

openai_error body_too_large(std::uint64_t limit) {
  return {.status = 413,
          .message = "request body is over this gateway's limit of " + std::to_string(limit) +
                     " bytes (promptpack gateway --max-body-bytes); send a shorter prompt",
          .code = "request_too_large"};
}

openai_error headers_too_large(std::uint32_t limit) {
  return {.status = 431,
          .message = "request headers are over this gateway's limit of " + std::to_string(limit) +
                     " bytes (promptpack gateway --max-header-bytes)",
          .code = "headers_too_large"};
}

openai_error queue_full(std::size_t prompts, std::size_t max_queue) {
  return {.status = 429,
          .message = "the gateway is busy: " + std::to_string(prompts) +
                     " more prompts would put it over its queue of " + std::to_string(max_queue) +
                     " (promptpack gateway --max-queue); retry after the Retry-After seconds",
          .type = "rate_limit_error",
          .code = "queue_full"};
}

openai_error upstream_failure(const prompt_error& error) {
  // The engine's message is for the operator: it may name internal hosts, ports and paths.
  // Callers get the type and the status; the gateway's stderr has the rest.
  std::string what = "the upstream endpoint failed (" + std::string(to_string(error.type));
  if (error.http_status != 0) what += ", HTTP " + std::to_string(error.http_status);
  what += "); the gateway's log has the details. Retry later, or ask its operator";
  openai_error out{.status = 502,
                   .message = std::move(what),
                   .type = "upstream_error",
                   .code = to_string(error.type)};
  if (error.type == errc::timeout) out.status = 504;
  if (error.type == errc::cancelled) {
    out.status = 503;
    out.message =
        "the gateway is shutting down and cancelled this request; retry it on another "
        "instance";
  }
  return out;
}

}  // namespace promptpack::gateway
