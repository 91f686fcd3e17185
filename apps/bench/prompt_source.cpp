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
  std::vector<std::string> texts;
  texts.reserve(distinct);
  for (std::size_t p = 0; p < distinct; ++p) {
    std::string text;
    for (std::size_t w = 0; w < words; ++w) {
      if (w) text.push_back(' ');
      // A cheap mix of the prompt and word numbers, so the prompts differ from one another.
      text += vocabulary[(p * 7 + w * 13 + (p >> 4) * w) % vocabulary.size()];
    }
    text += " #" + std::to_string(p);
    texts.push_back(std::move(text));
  }
  return prompt_source(texts);
}

prompt_source prompt_source::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read --prompts-file '" + path + "'");
  std::vector<std::string> texts;
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
    texts.emplace_back(line.prompt);
  }
  if (texts.empty()) {
    throw std::invalid_argument("--prompts-file '" + path + "' holds no prompts");
  }
  return prompt_source(texts);
}

prompt_source::prompt_source(const std::vector<std::string>& texts) {
  // at() and append() cycle through the pool by a remainder: an empty pool has none.
  if (texts.empty()) throw std::invalid_argument("a prompt pool needs at least one prompt");
  const auto total =
      std::accumulate(texts.begin(), texts.end(), std::size_t{0},
                      [](std::size_t sum, const std::string& t) { return sum + t.size(); });
  arena_.resize(total);
  views_.reserve(texts.size());
  char* at = arena_.data();
  for (const auto& t : texts) {
    std::copy(t.begin(), t.end(), at);
    views_.emplace_back(at, t.size());
    at += t.size();
  }
  const bool safe = std::all_of(texts.begin(), texts.end(), [](const std::string& t) {
    return json_unescaped_prefix(t) == t.size() && is_valid_utf8(t);
  });
  bytes_ = safe ? prompt_bytes::json_safe : prompt_bytes::any;
}

void prompt_source::append(std::uint64_t first, std::size_t count,
                           std::vector<std::string_view>& out) const {
  std::size_t i = first % views_.size();
  while (count > 0) {
    const std::size_t run = std::min(count, views_.size() - i);
    out.insert(out.end(), views_.begin() + static_cast<std::ptrdiff_t>(i),
               views_.begin() + static_cast<std::ptrdiff_t>(i + run));
    count -= run;
    i = 0;
  }
}

double prompt_source::mean_bytes() const noexcept {
  return static_cast<double>(arena_.size()) / static_cast<double>(views_.size());
}

}  // namespace promptpack::bench
