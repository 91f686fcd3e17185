// Low-level API: parses one endpoint answer (docs/protocol.md) with simdjson On-Demand, in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack {

/// The verdict on a whole response body.
enum class response_status : std::uint8_t {
  ok,              ///< well-formed; see each prompt's answer (some may be unanswered)
  endpoint_error,  ///< "message" was present and not "ok"; `message` holds its text
  protocol_error,  ///< not JSON, wrong shape, or answers that can't be matched; see `message`
};

/// Where the outputs of one prompt are, in parsed_response::outputs.
struct prompt_answer {
  std::uint32_t first_output = 0;  ///< index into outputs
  std::uint32_t output_count = 0;  ///< >= 1 when answered
  bool answered = false;           ///< false: the endpoint gave no answer for this prompt
};

/// The result of one parse. Views point into the parser's own buffers or into the body parsed:
/// they stay valid until the next call to parse() on the same parser, its destruction, or a change
/// to the body.
struct parsed_response {
  response_status status = response_status::protocol_error;
  /// The endpoint's message (endpoint_error) or what is wrong (protocol_error).
  std::string message;
  /// One per prompt sent, in the order sent (after matching by echoed prompt when needed).
  std::vector<prompt_answer> answers;
  /// Every decoded output string, prompt after prompt.
  std::vector<std::string_view> outputs;
  /// The body had no escape, so every output is its own JSON text (bulk_result's flag).
  bool outputs_json_safe = false;
  /// Why the unanswered prompts (answered == false) got no answer, e.g. a count mismatch.
  std::string unanswered_reason;

  std::span<const std::string_view> outputs_of(std::size_t prompt) const noexcept {
    const auto& a = answers[prompt];
    return {outputs.data() + a.first_output, a.output_count};
  }
};

/// Parses response bodies. One per connection: it reuses its simdjson parser and buffers.
/// Not thread-safe; never throws on hostile bytes (truncation, wrong types, deep nesting, huge
/// strings, trailing garbage all become protocol_error).
class response_parser {
 public:
  /// Whether answers with no escapes are read by a direct scan instead of simdjson (the result is
  /// the same, at a fraction of the CPU). On by default; off to compare the two paths.
  enum class plain_path : bool { off, on };

  explicit response_parser(plain_path path = plain_path::on);
  ~response_parser();
  response_parser(response_parser&&) noexcept;
  response_parser& operator=(response_parser&&) noexcept;

  /// Parses `body`, the answer to `prompts` (in the order they were sent). `body` may grow its
  /// capacity to hold simdjson's padding; its contents are not changed. Results stay valid until
  /// the next parse() call or a change to `body` (they may point into this parser or `body`).
  const parsed_response& parse(std::string& body, std::span<const std::string_view> prompts);
  /// The same for bytes held elsewhere (a connection's read buffer), which must stay as they are
  /// until the results are used. An answer that needs simdjson is copied first, for its padding.
  const parsed_response& parse(std::string_view body, std::span<const std::string_view> prompts);
  /// A temporary would be gone while its results still point into it.
  const parsed_response& parse(std::string&& body, std::span<const std::string_view>) = delete;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace promptpack
