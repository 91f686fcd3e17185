// Builds the benchmark's prompt pool, from a vocabulary or through run's own line parser.
#include "bench/prompt_source.hpp"

#include "run/job_line.hpp"
#include "run/line_parser.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <numeric>
#include <stdexcept>

namespace promptpack::bench {

prompt_source prompt_source::generated(std::size_t words, std::size_t distinct) {
  static constexpr std::array<std::string_view, 16> vocabulary = {
      "the",   "capital", "of",    "country", "number", "is",   "what",  "river",
      "large", "model",   "write", "a",       "short",  "poem", "about", "light"};
  prompt_source source;
  source.texts_.reserve(distinct);
  for (std::size_t p = 0; p < distinct; ++p) {
    std::string text;
    for (std::size_t w = 0; w < words; ++w) {
      if (w) text.push_back(' ');
      // A cheap mix of the prompt and word numbers, so the prompts differ from one another.
      text += vocabulary[(p * 7 + w * 13 + (p >> 4) * w) % vocabulary.size()];
    }
    text += " #" + std::to_string(p);
    source.texts_.push_back(std::move(text));
  }
  source.classify();
  return source;
}

prompt_source prompt_source::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read --prompts-file '" + path + "'");
  prompt_source source;
  run::line_parser parser;
  run::job_line line;
  std::string text, error;
  for (std::uint64_t number = 1; std::getline(in, text); ++number) {
    if (text.empty()) continue;
    const std::size_t length = text.size();
    text.append(run::line_parser::padding(), ' ');
    if (!parser.parse(std::string_view(text.data(), length), number, line, error)) {
      throw std::invalid_argument("--prompts-file '" + path + "' line " + std::to_string(number) +
                                  ": " + error);
    }
    source.texts_.emplace_back(line.prompt);
  }
  if (source.texts_.empty()) {
    throw std::invalid_argument("--prompts-file '" + path + "' holds no prompts");
  }
  source.classify();
  return source;
}

void prompt_source::append(std::uint64_t first, std::size_t count,
                           std::vector<std::string_view>& out) const {
  std::size_t i = first % texts_.size();
  for (std::size_t k = 0; k < count; ++k) {
    out.emplace_back(texts_[i]);
    if (++i == texts_.size()) i = 0;
  }
}

void prompt_source::classify() {
  const bool safe = std::all_of(texts_.begin(), texts_.end(), [](const std::string& t) {
    return json_unescaped_prefix(t) == t.size() && is_valid_utf8(t);
  });
  bytes_ = safe ? prompt_bytes::json_safe : prompt_bytes::any;
}

double prompt_source::mean_bytes() const noexcept {
  const auto total =
      std::accumulate(texts_.begin(), texts_.end(), std::size_t{0},
                      [](std::size_t sum, const std::string& t) { return sum + t.size(); });
  return static_cast<double>(total) / static_cast<double>(texts_.size());
}

}  // namespace promptpack::bench
