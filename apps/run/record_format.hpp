// Formats output records: the plain {"custom_id", "output"|"error"} form and OpenAI's batch form.
#pragma once

#include "run/job_line.hpp"

#include <promptpack/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace promptpack::run {

/// What an OpenAI-form record needs beyond the outputs.
struct openai_context {
  std::string_view model;
  std::string_view prompt;
  std::optional<int> max_tokens;
};

/// Appends one success record and its newline. `custom_id_json` is already a JSON string.
/// `outputs_json_safe` (bulk_result's promise) lets outputs be copied between quotes unchecked.
void append_success(std::string& out, std::string_view custom_id_json, line_form form,
                    std::span<const std::string_view> outputs, bool outputs_json_safe,
                    const openai_context& openai);

/// Appends one error record and its newline. In OpenAI form, an error with an HTTP status outside
/// 2xx is written as OpenAI writes a refused request: the status and an OpenAI error body in
/// "response", and "error": null. A nonzero `line` (the 1-based input line of an invalid_input
/// record, which has no HTTP status) is written as the error's "line".
void append_error(std::string& out, std::string_view custom_id_json, line_form form,
                  const prompt_error& error, std::uint64_t line = 0);

}  // namespace promptpack::run
