// One line of a JSONL batch job, decoded: its form, custom_id, prompt and parameter overrides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace promptpack::run {

/// The input forms of PROTOCOL.md section 3; OpenAI lines are answered in OpenAI's format.
enum class line_form : std::uint8_t {
  prompt,             ///< {"custom_id", "prompt"}
  messages,           ///< {"custom_id", "messages": [...]}
  openai_chat,        ///< {"custom_id", "method", "url": "/v1/chat/completions", "body"}
  openai_completion,  ///< {"custom_id", "method", "url": "/v1/completions", "body"}
};

/// Per-line values that override the command line.
struct line_overrides {
  std::optional<std::string> model;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::vector<std::pair<std::string, std::string>> extra;  ///< stop, seed, n, ...: raw JSON

  bool empty() const noexcept {
    return !model && !max_tokens && !temperature && !top_p && !top_k && extra.empty();
  }
  /// A canonical text of the overrides, to look up the request group they make.
  std::string key() const;
};

/// A decoded line. Reused from line to line: its buffers keep their capacity. custom_id and prompt
/// are views, into the line, the parser, or the buffers below, valid until the next line is
/// decoded into it; not copyable, since a copy's views would still point into the original.
struct job_line {
  job_line() = default;
  job_line(const job_line&) = delete;
  job_line& operator=(const job_line&) = delete;

  line_form form = line_form::prompt;
  bool has_custom_id = false;
  /// The line was plain (see plain_line.hpp): custom_id has no byte that JSON escapes, so its
  /// JSON form is its text in quotes.
  bool plain = false;
  std::string_view custom_id;  ///< decoded; the line number when the line has none
  std::string_view prompt;     ///< decoded; messages joined with one space
  /// The prompt needs no escaping and is valid UTF-8 (a plain line without escapes), so it may be
  /// submitted as prompt_bytes::json_safe.
  bool prompt_json_safe = false;
  line_overrides overrides;

  /// Back to an empty prompt line, keeping the buffers' capacity, before the next line.
  void reset() {
    form = line_form::prompt;
    has_custom_id = false;
    plain = false;
    prompt_json_safe = false;
    custom_id = {};
    prompt = {};
    if (!overrides.empty()) overrides = {};  // nearly always empty: no free and rebuild
  }
  /// Sets custom_id to the line number, when the line has no custom_id of its own.
  void number_as_custom_id(std::uint64_t line_number) {
    custom_id_text = std::to_string(line_number);
    custom_id = custom_id_text;
  }
  std::string custom_id_text;  ///< custom_id's bytes when they are made, not found in the line
  std::string prompt_text;     ///< prompt's bytes when they are made (messages joined)
};

}  // namespace promptpack::run
