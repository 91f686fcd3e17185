// OpenAI's error answer, {"error": {"message", "type", "param", "code"}}, and the HTTP status that
// goes with each error the gateway gives.
#pragma once

#include <promptpack/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::gateway {

/// One error answer. `param` and `code` are JSON null when empty.
struct openai_error {
  unsigned status = 400;
  std::string message;  ///< says what happened and what to do
  std::string_view type = "invalid_request_error";
  std::string_view param;
  std::string_view code;
};

/// Appends the error's JSON body to `out`.
void append_error_json(std::string& out, const openai_error& error);

/// 400: the body is not what the route takes; `param` names the field at fault, if any.
openai_error invalid_request(std::string message, std::string_view param = {});
/// 401: no `Authorization: Bearer` header.
openai_error missing_api_key();
/// 401: a key that is not the gateway's. The key itself is never repeated.
openai_error wrong_api_key();
/// 404: no route serves `model`.
openai_error model_not_found(std::string_view model);
/// 404: no such path.
openai_error unknown_path(std::string_view method, std::string_view path);
/// 405: the path exists, with another method.
openai_error wrong_method(std::string_view path, std::string_view allowed);
/// 413: the body is over --max-body-bytes.
openai_error body_too_large(std::uint64_t limit);
/// 431: the headers are over --max-header-bytes.
openai_error headers_too_large(std::uint32_t limit);
/// 429: taking `prompts` more would put the gateway over --max-queue.
openai_error queue_full(std::size_t prompts, std::size_t max_queue);
/// 502 (504 for a timeout, 503 once the gateway is shutting down): the upstream endpoint failed.
openai_error upstream_failure(const prompt_error& error);

}  // namespace promptpack::gateway
