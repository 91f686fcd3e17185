// Decodes one JSONL input line (any of the three forms) with simdjson On-Demand.
#pragma once

#include "run/job_line.hpp"

#include <promptpack/protocol/plain_json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace promptpack::run {

/// One per reading thread; reuses its simdjson parser. Never throws on bad input.
class line_parser {
 public:
  /// Whether plain lines ({"custom_id", "prompt"} with no escapes, see plain_line.hpp) skip
  /// simdjson. Always on in the job; off only to test that both paths decode alike.
  enum class plain_path : bool { off, on };

  explicit line_parser(plain_path path = plain_path::on);
  ~line_parser();

  /// Decodes `line`, which must be followed in memory by at least `padding()` readable bytes
  /// (the rest of the read buffer serves). `line_number` is 1-based; it becomes the custom_id of
  /// a line without one. On failure returns false with `error` saying what is wrong; `out`'s
  /// custom_id is then still set when the line had a readable one. `text_class`, when given, is
  /// classify_plain_text(line), found already (input_line::text_class).
  bool parse(std::string_view line, std::uint64_t line_number, job_line& out, std::string& error,
             std::optional<plain_text_class> text_class = {});

  static constexpr std::size_t padding() { return 64; }

 private:
  [[gnu::noinline]] bool parse_with_simdjson(std::string_view line, std::uint64_t line_number,
                                             job_line& out, std::string& error);

  struct impl;
  std::unique_ptr<impl> impl_;
  plain_path plain_path_;
};

}  // namespace promptpack::run
