// Deterministic text for the reference model: a seeded walk over a small vocabulary.
#include "reference/text_generator.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace promptpack::reference {
namespace {

constexpr std::array<std::string_view, 64> vocabulary = {
    "the",    "model",  "answer", "is",     "of",     "a",     "river",  "city",
    "light",  "paris",  "and",    "to",     "in",     "that",  "large",  "small",
    "stone",  "water",  "north",  "south",  "bright", "quiet", "runs",   "holds",
    "knows",  "makes",  "time",   "world",  "number", "token", "prompt", "batch",
    "engine", "signal", "value",  "across", "under",  "above", "near",   "far",
    "green",  "blue",   "old",    "new",    "first",  "last",  "every",  "some",
    "house",  "road",   "field",  "sky",    "song",   "story", "line",   "page",
    "reason", "memory", "path",   "garden", "bridge", "tower", "ocean",  "forest"};

// How sharply the reference model prefers its top-ranked candidate: logit(rank) = -rank * slope.
constexpr double rank_logit_slope = 0.5;

constexpr std::string_view fixed_answer = "\"This is a fixed answer from the reference endpoint.\"";

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_text(std::string_view text) noexcept {  // FNV-1a, then mixed
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return mix(h);
}

double unit_interval(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace

text_generator::text_generator(generator_kind kind, const generation_params& params)
    : kind_(kind), params_(params) {
  // The server has already refused n and max_tokens above its limits (generation_limits.hpp).
  params_.n = std::max(params_.n, 1);
  params_.max_tokens = std::max(params_.max_tokens, 0);
  if (kind_ != generator_kind::text) return;
  // Every step ranks candidates the same way, so the rank distribution is computed once.
  const int k = std::clamp(params_.top_k, 1, static_cast<int>(vocabulary.size()));
  std::vector<double> weights(static_cast<std::size_t>(k));
  if (params_.temperature <= 0) {
    weights.assign(1, 1.0);  // greedy: always the top-ranked candidate
  } else {
    for (int r = 0; r < k; ++r) weights[r] = std::exp(-r * rank_logit_slope / params_.temperature);
  }
  double total = 0;
  for (double w : weights) total += w;
  const double top_p = params_.top_p > 0 && params_.top_p <= 1 ? params_.top_p : 1.0;
  double mass = 0;
  for (double w : weights) {
    mass += w / total;
    cumulative_.push_back(mass);
    if (mass >= top_p) break;  // nucleus: the smallest prefix holding top_p of the mass
  }
  const double kept = cumulative_.back();
  for (double& c : cumulative_) c /= kept;
}

void text_generator::append_outputs(std::string& out, std::string_view prompt) const {
  for (int sample = 0; sample < params_.n; ++sample) {
    if (sample > 0) out.push_back(',');
    switch (kind_) {
      case generator_kind::fixed:
        out.append(fixed_answer);
        break;
      case generator_kind::echo:
        append_json_string(out, prompt);
        break;
      case generator_kind::text:
        append_text(out, prompt, sample);
        break;
    }
  }
}

void text_generator::append_text(std::string& out, std::string_view prompt, int sample) const {
  std::uint64_t state =
      hash_text(prompt) ^ mix(static_cast<std::uint64_t>(params_.seed.value_or(0)));
  state = mix(state + static_cast<std::uint64_t>(sample));
  out.push_back('"');
  for (int step = 0; step < params_.max_tokens; ++step) {
    state = mix(state);
    const double u = unit_interval(state);
    const auto rank = static_cast<std::uint64_t>(
        std::lower_bound(cumulative_.begin(), cumulative_.end() - 1, u) - cumulative_.begin());
    const std::uint64_t word = mix(state ^ (rank * 0x632be59bd9b4e019ULL)) % vocabulary.size();
    std::string_view w = vocabulary[word];
    if (step > 0) out.push_back(' ');
    if (step == 0) {  // sentence case, so the text reads like an answer
      out.push_back(static_cast<char>(w[0] - 'a' + 'A'));
      w.remove_prefix(1);
    }
    out.append(w);
    state ^= word;
  }
  if (params_.max_tokens > 0) out.push_back('.');
  out.push_back('"');
}

}  // namespace promptpack::reference
