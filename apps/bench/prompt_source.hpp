// The prompts a benchmark sends: generated words, or real prompts from a JSONL file.
#pragma once

#include <promptpack/completion.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::bench {

/// A fixed pool of prompts, cycled through. The pool is built before the measurement, so
/// making prompts costs the measured client nothing.
class prompt_source {
 public:
  /// `distinct` different prompts of `words` words each. Throws std::invalid_argument for none.
  static prompt_source generated(std::size_t words, std::size_t distinct = 4096);
  /// Every line of a JSONL file in any of `run`'s input forms (prompt, messages, OpenAI batch).
  /// Throws std::invalid_argument naming the file and line when one can't be read.
  static prompt_source from_file(const std::string& path);

  prompt_source(prompt_source&&) noexcept = default;
  prompt_source& operator=(prompt_source&&) noexcept = default;
  prompt_source(const prompt_source&) = delete;  // the views would point into the original
  prompt_source& operator=(const prompt_source&) = delete;

  std::string_view at(std::uint64_t i) const noexcept { return views_[i % views_.size()]; }
  /// Appends prompts first, first + 1, ... (count of them, cycling as at() does) to `out`, with
  /// one division in all rather than one per prompt, and each run up to the pool's end copied at
  /// once (a closed loop fills a block at a time).
  void append(std::uint64_t first, std::size_t count, std::vector<std::string_view>& out) const;
  std::size_t size() const noexcept { return views_.size(); }
  /// Mean prompt length in bytes, for the report.
  double mean_bytes() const noexcept;
  /// json_safe when every prompt is (checked once, here): the client then copies them into
  /// requests without escaping them again for each send.
  prompt_bytes bytes() const noexcept { return bytes_; }

 private:
  /// Packs `texts` into one arena, viewed one by one, and sets bytes_ from them.
  explicit prompt_source(const std::vector<std::string>& texts);

  std::vector<char> arena_;  // a vector's buffer stays put when the source moves
  std::vector<std::string_view> views_;
  prompt_bytes bytes_ = prompt_bytes::any;
};

}  // namespace promptpack::bench
