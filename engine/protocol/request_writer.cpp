// Encodes request bodies: JSON string escaping, UTF-8 validation and the pre-rendered head/tail.
#include <promptpack/protocol/request_writer.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace promptpack {

namespace {

constexpr std::string_view custom_prefix = "custom/";

// The parameter names that have their own fields in "params"; an extra parameter may not reuse
// them.
constexpr std::array<std::string_view, 5> reserved_names = {"prompt", "max_tokens", "temperature",
                                                            "top_p", "top_k"};
// Shortest round-trip form: 0.7 -> "0.7", 1.0 -> "1". Both are valid JSON numbers.
void append_double(std::string& out, double value, std::string_view name) {
  if (!std::isfinite(value)) {
    throw std::invalid_argument(std::string(name) +
                                " must be a finite number; JSON has no NaN or infinity");
  }
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

void append_int(std::string& out, int value) {
  char buf[16];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// Rejects names the request already uses and values that are not exactly one JSON value, so a
// bad parameter is a configuration error rather than a body every endpoint rejects.
void check_extra(const std::pair<std::string, std::string>& param, simdjson::dom::parser& json) {
  const auto& [name, value] = param;
  if (!is_valid_utf8(name)) {
    throw std::invalid_argument("a parameter name is not valid UTF-8; use UTF-8 names");
  }
  if (std::find(reserved_names.begin(), reserved_names.end(), name) != reserved_names.end()) {
    if (name == "prompt") {
      throw std::invalid_argument(
          "parameter \"prompt\" is reserved for the prompts themselves; remove it from the extra "
          "parameters");
    }
    throw std::invalid_argument("parameter \"" + name + "\" has its own setting; set " + name +
                                " there instead of passing it as an extra parameter");
  }
  // The DOM parser validates the whole text (UTF-8 included) and rejects trailing content.
  const simdjson::padded_string padded(value);
  if (const auto error = json.parse(padded).error()) {
    throw std::invalid_argument("parameter \"" + name + "\" is not exactly one valid JSON value (" +
                                simdjson::error_message(error) +
                                "); pass its JSON text, for example 7, \"text\" or [\"\\n\"]");
  }
}

}  // namespace

std::string_view strip_custom_prefix(std::string_view model) noexcept {
  if (model.starts_with(custom_prefix)) model.remove_prefix(custom_prefix.size());
  return model;
}

request_writer::request_writer(std::string_view model, const sampling_params& params) {
  if (!is_valid_utf8(model)) {
    throw std::invalid_argument("the model name is not valid UTF-8; use a UTF-8 model name");
  }
  head_ = "{\"model\":";
  append_json_string(head_, strip_custom_prefix(model));
  head_ += ",\"params\":{\"prompt\":[";

  tail_ = "],\"max_tokens\":";
  append_int(tail_, params.max_tokens);
  tail_ += ",\"temperature\":";
  append_double(tail_, params.temperature, "temperature");
  tail_ += ",\"top_p\":";
  append_double(tail_, params.top_p, "top_p");
  tail_ += ",\"top_k\":";
  append_int(tail_, params.top_k);

  // Sorted by name, so the same parameters given in another order render (and group) the same.
  std::vector<const std::pair<std::string, std::string>*> extra;
  extra.reserve(params.extra.size());
  for (const auto& param : params.extra) extra.push_back(&param);
  std::sort(extra.begin(), extra.end(), [](auto* a, auto* b) { return a->first < b->first; });
  simdjson::dom::parser json;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    if (i > 0 && extra[i]->first == extra[i - 1]->first) {
      throw std::invalid_argument("parameter \"" + extra[i]->first +
                                  "\" is given twice; give each parameter once");
    }
    check_extra(*extra[i], json);
    tail_ += ',';
    append_json_string(tail_, extra[i]->first);
    tail_ += ':';
    tail_ += extra[i]->second;
  }
  tail_ += "}}";
  tail_with_model_ = head_ + tail_;
}

void request_writer::begin(write_buffer& out) const {
  out.clear();
  out.append(head_);
}

bool request_writer::add_prompt(write_buffer& out, std::string_view prompt, bool first) {
  return append_json_string_if_utf8(out, prompt, first ? 0 : ',');
}

void request_writer::add_json_safe_prompts(write_buffer& out,
                                           std::span<const std::string_view> prompts, bool first) {
  std::size_t bytes = 0;
  for (const auto prompt : prompts) bytes += prompt.size() + 3;  // separator and quotes
  char* at = out.room(bytes);
  for (const auto prompt : prompts) {
    if (!first) *at++ = ',';
    first = false;
    *at++ = '"';
    std::memcpy(at, prompt.data(), prompt.size());
    at += prompt.size();
    *at++ = '"';
  }
  out.commit(at);
}

void request_writer::end(write_buffer& out) const {
  out.append(tail_);
}

}  // namespace promptpack
