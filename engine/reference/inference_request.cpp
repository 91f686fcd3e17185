// Decodes {"model", "params": {"prompt": [...], ...}} with simdjson On-Demand.
#include "reference/inference_request.hpp"

#include <cmath>
#include <limits>

namespace promptpack::reference {
namespace {

using simdjson::ondemand::json_type;

// Reads an integer that may be written as 32 or 32.0; false for any other type or a fraction.
bool read_integer(simdjson::ondemand::value value, std::int64_t& out) {
  double d = 0;
  if (value.get_double().get(d) || !std::isfinite(d) || std::floor(d) != d ||
      std::fabs(d) > static_cast<double>(std::numeric_limits<std::int32_t>::max())) {
    return false;
  }
  out = static_cast<std::int64_t>(d);
  return true;
}

bool read_params(simdjson::ondemand::object params, inference_request& out, std::string& error) {
  bool saw_prompt = false;
  for (auto field : params) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) {
      error = "params is not a well-formed JSON object";
      return false;
    }
    std::int64_t integer = 0;
    if (key == "prompt") {
      saw_prompt = true;
      simdjson::ondemand::array prompts;
      if (value.get_array().get(prompts)) {
        error = "params.prompt must be a list of strings";
        return false;
      }
      for (auto item : prompts) {
        std::string_view prompt;
        if (item.get_string().get(prompt)) {
          error = "params.prompt must be a list of strings";
          return false;
        }
        out.prompts.push_back(prompt);
      }
    } else if (key == "max_tokens" || key == "top_k" || key == "n") {
      if (!read_integer(value, integer) || integer < 0) {
        error = "params." + std::string(key) + " must be a non-negative integer";
        return false;
      }
      (key == "max_tokens" ? out.params.max_tokens
       : key == "top_k"    ? out.params.top_k
                           : out.params.n) = static_cast<int>(integer);
    } else if (key == "temperature" || key == "top_p") {
      double number = 0;
      if (value.get_double().get(number) || !std::isfinite(number)) {
        error = "params." + std::string(key) + " must be a number";
        return false;
      }
      (key == "temperature" ? out.params.temperature : out.params.top_p) = number;
    } else if (key == "seed") {
      if (!read_integer(value, integer)) {
        error = "params.seed must be an integer";
        return false;
      }
      out.params.seed = integer;
    }
    // Other parameters (stop, repetition_penalty, ...) are accepted and ignored by this model.
  }
  if (!saw_prompt) error = "params.prompt is missing; send a list of prompt strings";
  return saw_prompt;
}

}  // namespace

bool inference_request_reader::read(std::string& body, inference_request& out, std::string& error) {
  out = inference_request{};
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser_.iterate(body.data(), body.size(), body.capacity()).get(doc) ||
      doc.get_object().get(root)) {
    error = "body must be a JSON object {\"model\": ..., \"params\": {\"prompt\": [...]}}";
    return false;
  }
  bool saw_params = false;
  for (auto field : root) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) {
      error = "body is not well-formed JSON";
      return false;
    }
    if (key == "model") {
      if (value.get_string().get(out.model)) {
        error = "model must be a string";
        return false;
      }
    } else if (key == "params") {
      simdjson::ondemand::object params;
      if (value.get_object().get(params)) {
        error = "params must be an object";
        return false;
      }
      if (!read_params(params, out, error)) return false;
      saw_params = true;
    }
  }
  if (!saw_params) {
    error = "params is missing; send {\"model\": ..., \"params\": {\"prompt\": [...]}}";
    return false;
  }
  // simdjson 3.0 has no document::at_end(); a location still in bounds means bytes follow the
  // object.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    error = "body has content after the JSON object";
    return false;
  }
  return true;
}

}  // namespace promptpack::reference
