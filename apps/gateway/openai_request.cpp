// Decodes OpenAI chat and text completion bodies with simdjson On-Demand, checking each field.
#include "gateway/openai_request.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace promptpack::gateway {
namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

// OpenAI's own bound on n; an endpoint may have a lower one.
constexpr std::int64_t max_n = 128;

bool is_null(value v) {
  bool null = false;
  return !v.is_null().get(null) && null;
}

// An integer in [low, int's max], written as one (32, not 32.0).
bool read_int(value v, std::int64_t low, int& out) {
  std::int64_t number = 0;
  if (v.get_int64().get(number) || number < low || number > std::numeric_limits<int>::max()) {
    return false;
  }
  out = static_cast<int>(number);
  return true;
}

bool read_number(value v, double& out) {
  return !v.get_double().get(out) && std::isfinite(out);
}

// The shortest text that reads back as `number`, so that equal values group together however
// the callers wrote them.
std::string number_text(double number) {
  char buffer[32];
  const char* end = std::to_chars(buffer, buffer + sizeof buffer, number).ptr;
  return std::string(static_cast<const char*>(buffer), end);
}

// Sets a pass-through parameter; a field the body repeats keeps its last value, as in JSON.
void set_extra(sampling_params& params, std::string_view name, std::string json) {
  std::erase_if(params.extra, [name](const auto& entry) { return entry.first == name; });
  params.extra.emplace_back(std::string(name), std::move(json));
}

// Appends a message's content: a string, null (no text), or a list of parts whose text parts
// are concatenated, as LiteLLM does; image and other parts carry no text for the endpoint.
bool append_content(value content, std::string& prompt) {
  std::string_view text;
  if (!content.get_string().get(text)) {
    prompt.append(text);
    return true;
  }
  if (is_null(content)) return true;
  array parts;
  if (content.get_array().get(parts)) return false;
  for (auto part : parts) {
    object fields;
    std::string_view type;
    if (part.get_object().get(fields) ||
        fields.find_field_unordered("type").get_string().get(type)) {
      return false;
    }
    if (type != "text") continue;
    if (fields.find_field_unordered("text").get_string().get(text)) return false;
    prompt.append(text);
  }
  return true;
}

// `messages`: their contents joined with one space into one prompt.
bool read_messages(value v, openai_request& out, openai_error& error) {
  array messages;
  if (v.get_array().get(messages)) {
    error =
        invalid_request("messages must be a list of {\"role\", \"content\"} objects", "messages");
    return false;
  }
  std::string& prompt = out.prompts.emplace_back();
  bool first = true;
  for (auto message : messages) {
    object fields;
    value content;
    if (message.get_object().get(fields) || fields.find_field_unordered("content").get(content)) {
      error = invalid_request("every message needs a \"content\"", "messages");
      return false;
    }
    if (!first) prompt.push_back(' ');  // LiteLLM joins contents with one space
    first = false;
    if (!append_content(content, prompt)) {
      error = invalid_request(
          "message content must be a string, or a list of parts like {\"type\": \"text\", "
          "\"text\": \"...\"}",
          "messages");
      return false;
    }
  }
  if (first) {
    error = invalid_request("messages is empty; send at least one message", "messages");
    return false;
  }
  return true;
}

// `prompt`: a string, or a list of strings (one choice each). Token lists have no text to send.
bool read_prompt(value v, openai_request& out, openai_error& error) {
  std::string_view text;
  if (!v.get_string().get(text)) {
    out.prompts.emplace_back(text);
    return true;
  }
  array prompts;
  const char* const expected =
      "prompt must be a string or a non-empty list of strings (token lists are not supported: "
      "the endpoints take text)";
  if (v.get_array().get(prompts)) {
    error = invalid_request(expected, "prompt");
    return false;
  }
  for (auto item : prompts) {
    if (item.get_string().get(text)) {
      error = invalid_request(expected, "prompt");
      return false;
    }
    out.prompts.emplace_back(text);
  }
  if (out.prompts.empty()) {
    error = invalid_request(expected, "prompt");
    return false;
  }
  return true;
}

// `stop`: a string or a list of strings, re-encoded so that equal lists group together.
bool read_stop(value v, std::string& json) {
  std::string_view text;
  if (!v.get_string().get(text)) {
    append_json_string(json, text);
    return true;
  }
  array stops;
  if (v.get_array().get(stops)) return false;
  json.push_back('[');
  for (auto item : stops) {
    if (item.get_string().get(text)) return false;
    if (json.size() > 1) json.push_back(',');
    append_json_string(json, text);
  }
  json.push_back(']');
  return true;
}

// `stream_options`: only include_usage matters to a gateway that sends the text in one chunk.
bool read_stream_options(value v, openai_request& out) {
  object options;
  if (v.get_object().get(options)) return false;
  value include_usage;
  if (options.find_field_unordered("include_usage").get(include_usage)) return true;
  return !include_usage.get_bool().get(out.stream_usage) || is_null(include_usage);
}

// The fields this reader knows, as static strings: an error's `param` must outlive the parser
// that unescaped the key.
constexpr std::string_view known_fields[] = {"model",
                                             "messages",
                                             "prompt",
                                             "max_tokens",
                                             "max_completion_tokens",
                                             "temperature",
                                             "top_p",
                                             "top_k",
                                             "n",
                                             "seed",
                                             "stop",
                                             "presence_penalty",
                                             "stream",
                                             "stream_options",
                                             "frequency_penalty"};

std::string_view static_name(std::string_view key) {
  for (const auto field : known_fields) {
    if (field == key) return field;
  }
  return {};
}

// One field of the body. Fields other than these (user, logprobs, tools, ...) are ignored.
bool read_field(std::string_view key, value v, completion_api api, openai_request& out,
                bool& saw_input, openai_error& error) {
  const auto wrong = [&error, key](std::string_view what) {
    error = invalid_request(std::string(key) + " must be " + std::string(what), static_name(key));
    return false;
  };
  if (key == "model") {
    if (v.get_string().get(out.model)) return wrong("a string naming a model of GET /v1/models");
    return true;
  }
  if (key == (api == completion_api::chat ? "messages" : "prompt")) {
    saw_input = true;
    out.prompts.clear();  // a repeated field: the last one counts
    return api == completion_api::chat ? read_messages(v, out, error) : read_prompt(v, out, error);
  }
  if (is_null(v)) return true;  // null means "not given", as the OpenAI SDKs send it
  auto& p = out.params;
  if (key == "max_tokens" || key == "max_completion_tokens") {
    return read_int(v, 0, p.max_tokens) || wrong("an integer >= 0");
  }
  if (key == "temperature") {
    return (read_number(v, p.temperature) && p.temperature >= 0) || wrong("a number >= 0");
  }
  if (key == "top_p") {
    return (read_number(v, p.top_p) && p.top_p > 0 && p.top_p <= 1) || wrong("a number in (0, 1]");
  }
  if (key == "top_k") return read_int(v, 0, p.top_k) || wrong("an integer >= 0");
  if (key == "n") {
    int n = 1;
    if (!read_int(v, 1, n) || n > max_n) return wrong("an integer from 1 to 128");
    // n = 1 is what the endpoint does anyway: left out, such callers share requests with those
    // that did not send n.
    std::erase_if(p.extra, [](const auto& entry) { return entry.first == "n"; });
    if (n > 1) set_extra(p, "n", std::to_string(n));
    return true;
  }
  if (key == "seed") {
    std::int64_t seed = 0;
    if (v.get_int64().get(seed)) return wrong("an integer");
    set_extra(p, "seed", std::to_string(seed));
    return true;
  }
  if (key == "stop") {
    std::string json;
    if (!read_stop(v, json)) return wrong("a string or a list of strings");
    set_extra(p, "stop", std::move(json));
    return true;
  }
  if (key == "presence_penalty" || key == "frequency_penalty") {
    double penalty = 0;
    if (!read_number(v, penalty)) return wrong("a number");
    set_extra(p, key, number_text(penalty));
    return true;
  }
  if (key == "stream") {
    if (v.get_bool().get(out.stream)) return wrong("true or false");
    return true;
  }
  if (key == "stream_options") {
    if (!read_stream_options(v, out)) return wrong("an object like {\"include_usage\": true}");
    return true;
  }
  return true;
}

}  // namespace

bool openai_request_reader::read(std::string& body, completion_api api,
                                 const sampling_params& defaults, openai_request& out,
                                 openai_error& error) {
  out.model = {};
  out.prompts.clear();
  out.params = defaults;
  out.stream = false;
  out.stream_usage = false;
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  const std::string_view input_field = api == completion_api::chat ? "messages" : "prompt";
  simdjson::ondemand::document doc;
  object root;
  if (parser_.iterate(body.data(), body.size(), body.capacity()).get(doc) ||
      doc.get_object().get(root)) {
    error = invalid_request("the body must be a JSON object with \"model\" and \"" +
                            std::string(input_field) + "\"");
    return false;
  }
  bool saw_input = false;
  for (auto field : root) {
    std::string_view key;
    value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      error = invalid_request("the body is not well-formed JSON");
      return false;
    }
    if (!read_field(key, v, api, out, saw_input, error)) return false;
  }
  // simdjson 3.0 has no document::at_end(); a location still in bounds means bytes follow the
  // object.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    error = invalid_request("the body has content after its JSON object");
    return false;
  }
  if (out.model.empty()) {
    error = invalid_request("\"model\" is missing; GET /v1/models lists the models", "model");
    return false;
  }
  if (!saw_input) {
    error = invalid_request("\"" + std::string(input_field) + "\" is missing", input_field);
    return false;
  }
  // Callers that send the same parameters in another order still share requests.
  std::sort(out.params.extra.begin(), out.params.extra.end());
  return true;
}

}  // namespace promptpack::gateway
