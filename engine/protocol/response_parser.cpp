// Parses endpoint answers in place with simdjson On-Demand and matches them to the prompts sent.
#include <promptpack/protocol/response_parser.hpp>

#include "protocol/plain_response.hpp"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

namespace promptpack {

namespace {

namespace ondemand = simdjson::ondemand;

// Ends every complaint about the body's shape: what a conforming endpoint sends.
constexpr std::string_view expected_shape =
    "; the endpoint must answer {\"data\":[{\"output\":[\"...\"]},...],\"message\":\"ok\"}";

// An endpoint's message reaches every prompt's error record; a huge one is cut to this many bytes.
constexpr std::size_t max_message_bytes = 1024;

constexpr std::uint32_t no_prompt = std::numeric_limits<std::uint32_t>::max();

std::string_view type_name(ondemand::json_type type) noexcept {
  switch (type) {
    case ondemand::json_type::array:
      return "an array";
    case ondemand::json_type::object:
      return "an object";
    case ondemand::json_type::number:
      return "a number";
    case ondemand::json_type::string:
      return "a string";
    case ondemand::json_type::boolean:
      return "a boolean";
    case ondemand::json_type::null:
      return "null";
  }
  return "an unknown value";
}

std::string entry_name(std::uint32_t index) {
  return "data[" + std::to_string(index) + "]";
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) return text;
  while (limit > 0 && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
  return text.substr(0, limit);
}

using entry = detail::response_entry;

}  // namespace

struct response_parser::impl {
  explicit impl(plain_path path) : plain_path_(path) {}

  plain_path plain_path_;
  ondemand::parser json_;
  parsed_response result_;
  std::vector<entry> entries_;
  std::string unescaped_;    // the plain path's escaped strings, unescaped
  std::string padded_copy_;  // simdjson's padded copy of a body given as a view
  // Matching by echoed text (slow path only): the first unanswered prompt with each text, and for
  // each prompt the next one with the same text, so identical prompts are answered in order.
  std::unordered_map<std::string_view, std::uint32_t> first_by_text_;
  std::vector<std::uint32_t> next_same_text_;
  // Set when "data" has the wrong shape. Parsing goes on, because a later "message" other than
  // "ok" explains the failure better (endpoints often send {"data":null,"message":"..."}).
  bool shape_error_ = false;

  // `owner` holds `body` and may grow for simdjson's padding; without one, a copy of `body` does.
  const parsed_response& parse(std::string_view body, std::string* owner,
                               std::span<const std::string_view> prompts);

  const parsed_response& fail(std::string message);
  const parsed_response& fail_json(simdjson::error_code error, std::string_view body,
                                   ondemand::document* doc);
  void shape(std::string message);

  simdjson::error_code parse_data(ondemand::value& data);
  simdjson::error_code parse_entry(ondemand::value& value, std::uint32_t index);
  simdjson::error_code parse_output(ondemand::value& value, std::uint32_t index, entry& e);
  void match(std::span<const std::string_view> prompts);
  bool match_by_text(std::span<const std::string_view> prompts);
  void answer(std::size_t prompt, const entry& e, std::size_t index) {
    if (e.output_count == 0) {
      if (empty_outputs_++ == 0) first_empty_output_ = index;
      return;
    }
    result_.answers[prompt] = {e.first_output, e.output_count, true};
  }
  // Entries whose "output" was an empty array: how many, and the first, for the message.
  std::size_t empty_outputs_ = 0;
  std::size_t first_empty_output_ = 0;
};

const parsed_response& response_parser::impl::fail(std::string message) {
  result_.status = response_status::protocol_error;
  result_.message = std::move(message);
  return result_;
}

const parsed_response& response_parser::impl::fail_json(simdjson::error_code error,
                                                        std::string_view body,
                                                        ondemand::document* doc) {
  std::string message = "response is not valid JSON (";
  message += simdjson::error_message(error);
  message += ')';
  const char* location = nullptr;
  // Errors found before reading (truncation, unbalanced brackets) point at byte 0: no help.
  if (doc != nullptr && doc->current_location().get(location) == simdjson::SUCCESS &&
      location > body.data() && location <= body.data() + body.size()) {
    message += " near byte " + std::to_string(location - body.data());
  }
  message += expected_shape;
  return fail(std::move(message));
}

void response_parser::impl::shape(std::string message) {
  shape_error_ = true;
  result_.message = std::move(message);
  result_.message += expected_shape;
}

const parsed_response& response_parser::impl::parse(std::string_view body, std::string* owner,
                                                    std::span<const std::string_view> prompts) {
  // Reset, keeping every buffer's capacity for the next exchange on this connection.
  result_.status = response_status::ok;
  result_.message.clear();
  result_.answers.assign(prompts.size(), prompt_answer{});
  result_.outputs.clear();
  result_.outputs_json_safe = false;
  result_.unanswered_reason.clear();
  empty_outputs_ = 0;
  entries_.clear();
  shape_error_ = false;

  if (body.empty()) return fail(std::string("response body is empty").append(expected_shape));
  if (plain_path_ == plain_path::on &&
      detail::read_plain_response(body, entries_, result_.outputs, unescaped_,
                                  result_.outputs_json_safe)) {
    match(prompts);
    return result_;
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: in place in the caller's string,
  // else in a copy (a view's bytes may end where its buffer does). Only unusual answers come here.
  std::string& padded = owner != nullptr ? *owner : padded_copy_.assign(body);
  if (padded.capacity() < padded.size() + simdjson::SIMDJSON_PADDING) {
    padded.reserve(padded.size() + simdjson::SIMDJSON_PADDING);
  }
  body = padded;  // the bytes simdjson reads, which outputs may point into
  ondemand::document doc;
  if (const auto error =
          json_.iterate(simdjson::padded_string_view(body.data(), body.size(), padded.capacity()))
              .get(doc)) {
    return fail_json(error, body, nullptr);
  }
  ondemand::object root;
  if (auto error = doc.get_object().get(root)) {
    ondemand::json_type type;
    // Not an object: say what it is instead, when it is JSON at all (an HTML error page is not).
    if (error == simdjson::INCORRECT_TYPE && !(error = doc.type().get(type))) {
      return fail("response is " + std::string(type_name(type)) + ", not a JSON object" +
                  std::string(expected_shape));
    }
    return fail_json(error, body, &doc);
  }

  bool has_data = false;
  bool has_message = false;
  std::string_view message;
  for (auto field_result : root) {
    ondemand::field field;
    std::string_view key;
    if (auto error = std::move(field_result).get(field);
        error || (error = field.unescaped_key().get(key))) {
      return fail_json(error, body, &doc);
    }
    if (key == "data") {
      if (has_data) return fail("response has two \"data\" fields" + std::string(expected_shape));
      has_data = true;
      if (const auto error = parse_data(field.value())) return fail_json(error, body, &doc);
    } else if (key == "message") {
      if (has_message) {
        return fail("response has two \"message\" fields" + std::string(expected_shape));
      }
      has_message = true;
      ondemand::json_type type;
      if (const auto error = field.value().type().get(type)) return fail_json(error, body, &doc);
      if (type != ondemand::json_type::string) {
        return fail("response \"message\" is " + std::string(type_name(type)) + ", not a string" +
                    std::string(expected_shape));
      }
      if (const auto error = field.value().get_string().get(message)) {
        return fail_json(error, body, &doc);
      }
    }
    // Any other field is skipped, whatever its type.
  }
  // The root object is consumed: anything left is trailing content (another value or garbage).
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return fail("response has trailing content after the JSON object, at byte " +
                std::to_string(trailing - body.data()) + std::string(expected_shape));
  }

  if (has_message && message != "ok") {
    result_.status = response_status::endpoint_error;
    if (message.empty()) {
      result_.message = "endpoint answered with an empty \"message\" instead of \"ok\"";
    } else {
      const auto cut = truncate_utf8(message, max_message_bytes);
      result_.message.assign(cut);
      if (cut.size() < message.size()) {
        result_.message += "... (" + std::to_string(message.size()) + " bytes)";
      }
    }
    return result_;
  }
  if (shape_error_) return fail(std::move(result_.message));
  if (!has_data) {
    return fail(std::string(has_message ? "response has \"message\":\"ok\" but no \"data\""
                                        : "response has neither \"data\" nor \"message\"") +
                std::string(expected_shape));
  }
  match(prompts);
  return result_;
}

simdjson::error_code response_parser::impl::parse_data(ondemand::value& data) {
  ondemand::json_type type;
  if (const auto error = data.type().get(type)) return error;
  if (type != ondemand::json_type::array) {
    shape("response \"data\" is " + std::string(type_name(type)) + ", not an array of objects");
    return simdjson::SUCCESS;
  }
  ondemand::array array;
  if (const auto error = data.get_array().get(array)) return error;
  std::uint32_t index = 0;
  for (auto item : array) {
    ondemand::value value;
    if (const auto error = std::move(item).get(value)) return error;
    if (const auto error = parse_entry(value, index)) return error;
    // The rest of "data" is skipped by the root object's iteration.
    if (shape_error_) return simdjson::SUCCESS;
    ++index;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code response_parser::impl::parse_entry(ondemand::value& value,
                                                        std::uint32_t index) {
  ondemand::json_type type;
  if (const auto error = value.type().get(type)) return error;
  if (type != ondemand::json_type::object) {
    shape(entry_name(index) + " is " + std::string(type_name(type)) + ", not an object");
    return simdjson::SUCCESS;
  }
  ondemand::object object;
  if (const auto error = value.get_object().get(object)) return error;
  entry e;
  e.first_output = static_cast<std::uint32_t>(result_.outputs.size());
  bool has_output = false;
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    if (auto error = std::move(field_result).get(field);
        error || (error = field.unescaped_key().get(key))) {
      return error;
    }
    if (key == "output") {
      if (has_output) {
        shape(entry_name(index) + " has two \"output\" fields");
        return simdjson::SUCCESS;
      }
      has_output = true;
      if (const auto error = parse_output(field.value(), index, e)) return error;
      if (shape_error_) return simdjson::SUCCESS;
    } else if (key == "prompt") {
      if (e.has_echo) {
        shape(entry_name(index) + " has two \"prompt\" fields");
        return simdjson::SUCCESS;
      }
      if (const auto error = field.value().type().get(type)) return error;
      if (type != ondemand::json_type::string) {
        shape(entry_name(index) + ".prompt is " + std::string(type_name(type)) +
              ", not the prompt's text");
        return simdjson::SUCCESS;
      }
      if (const auto error = field.value().get_string().get(e.echo)) return error;
      e.has_echo = true;
    }
    // "params" and any other field are skipped, whatever their type.
  }
  if (!has_output) {
    shape(entry_name(index) + " has no \"output\"");
    return simdjson::SUCCESS;
  }
  entries_.push_back(e);
  return simdjson::SUCCESS;
}

simdjson::error_code response_parser::impl::parse_output(ondemand::value& value,
                                                         std::uint32_t index, entry& e) {
  ondemand::json_type type;
  if (const auto error = value.type().get(type)) return error;
  std::string_view text;
  // Leniency: a bare string is accepted as a single output ("output":"..."), as some endpoints
  // send; the protocol's form is an array of strings.
  if (type == ondemand::json_type::string) {
    if (const auto error = value.get_string().get(text)) return error;
    result_.outputs.push_back(text);
    e.output_count = 1;
    return simdjson::SUCCESS;
  }
  if (type != ondemand::json_type::array) {
    shape(entry_name(index) + ".output is " + std::string(type_name(type)) +
          ", not an array of strings");
    return simdjson::SUCCESS;
  }
  ondemand::array array;
  if (const auto error = value.get_array().get(array)) return error;
  for (auto item : array) {
    ondemand::value output;
    if (auto error = std::move(item).get(output); error || (error = output.type().get(type)))
      return error;
    if (type != ondemand::json_type::string) {
      shape(entry_name(index) + ".output[" + std::to_string(e.output_count) + "] is " +
            std::string(type_name(type)) + ", not a string");
      return simdjson::SUCCESS;
    }
    if (const auto error = output.get_string().get(text)) return error;
    result_.outputs.push_back(text);
    ++e.output_count;
  }
  // An empty "output" answers nothing: its prompt alone fails (see answer()), not the exchange.
  return simdjson::SUCCESS;
}

void response_parser::impl::match(std::span<const std::string_view> prompts) {
  const std::size_t sent = prompts.size();
  const std::size_t received = entries_.size();
  const bool all_echo =
      std::all_of(entries_.begin(), entries_.end(), [](const entry& e) { return e.has_echo; });
  bool positional = received <= sent;
  if (all_echo && positional) {
    for (std::size_t i = 0; i < received && positional; ++i) {
      positional = entries_[i].echo == prompts[i];
    }
  }
  if (positional) {
    for (std::size_t i = 0; i < received; ++i) answer(i, entries_[i], i);
  } else if (!all_echo) {
    fail("data has " + std::to_string(received) + " entries for " + std::to_string(sent) +
         " prompts and no prompt echoes to match them; the endpoint must answer each prompt once, "
         "in order");
    return;
  } else if (!match_by_text(prompts)) {
    return;
  }
  if (received < sent) {
    result_.unanswered_reason = "endpoint answered " + std::to_string(received) + " of " +
                                std::to_string(sent) + " prompts in data; this prompt got no entry";
  }
  if (empty_outputs_ > 0) {
    if (!result_.unanswered_reason.empty()) result_.unanswered_reason += ", or ";
    result_.unanswered_reason += entry_name(static_cast<std::uint32_t>(first_empty_output_)) +
                                 " has an empty \"output\" array";
    if (empty_outputs_ > 1) {
      result_.unanswered_reason += " (and " + std::to_string(empty_outputs_ - 1) + " more entries)";
    }
  }
}

bool response_parser::impl::match_by_text(std::span<const std::string_view> prompts) {
  first_by_text_.clear();
  next_same_text_.assign(prompts.size(), no_prompt);
  // Built backwards, so each text's chain lists its prompts in the order sent.
  for (std::size_t i = prompts.size(); i-- > 0;) {
    const auto [it, inserted] =
        first_by_text_.try_emplace(prompts[i], static_cast<std::uint32_t>(i));
    if (!inserted) {
      next_same_text_[i] = it->second;
      it->second = static_cast<std::uint32_t>(i);
    }
  }
  for (std::size_t j = 0; j < entries_.size(); ++j) {
    const auto it = first_by_text_.find(entries_[j].echo);
    if (it == first_by_text_.end() || it->second == no_prompt) {
      result_.answers.assign(prompts.size(), prompt_answer{});
      fail("endpoint answered a prompt that was not sent (" +
           entry_name(static_cast<std::uint32_t>(j)) +
           ".prompt matches no unanswered prompt); check the endpoint's prompt echo");
      return false;
    }
    const std::uint32_t prompt = it->second;
    it->second = next_same_text_[prompt];
    answer(prompt, entries_[j], j);
  }
  return true;
}

response_parser::response_parser(plain_path path) : impl_(std::make_unique<impl>(path)) {}
response_parser::~response_parser() = default;
response_parser::response_parser(response_parser&&) noexcept = default;
response_parser& response_parser::operator=(response_parser&&) noexcept = default;

const parsed_response& response_parser::parse(std::string& body,
                                              std::span<const std::string_view> prompts) {
  return impl_->parse(body, &body, prompts);
}

const parsed_response& response_parser::parse(std::string_view body,
                                              std::span<const std::string_view> prompts) {
  return impl_->parse(body, nullptr, prompts);
}

}  // namespace promptpack
