// The JSONL line decoder: custom_id, prompt or messages or an OpenAI batch request, overrides.
#include "run/line_parser.hpp"

#include "run/plain_line.hpp"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace promptpack::run {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

// Parameters that pass through into "params" verbatim when a line carries them.
bool is_pass_through(std::string_view key) {
  return key == "stop" || key == "seed" || key == "n" || key == "repetition_penalty" ||
         key == "presence_penalty" || key == "frequency_penalty" || key == "do_sample" ||
         key == "best_of" || key == "min_tokens";
}

bool read_int(value v, int& out) {
  double d = 0;
  if (v.get_double().get(d) || !std::isfinite(d) || std::floor(d) != d || d < 0 ||
      d > std::numeric_limits<int>::max()) {
    return false;
  }
  out = static_cast<int>(d);
  return true;
}

// A scalar's raw token without the JSON whitespace (space, tab, CR, LF) that may follow it.
std::string_view trim_json_whitespace(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' ||
                            token.back() == '\n')) {
    token.remove_suffix(1);
  }
  return token;
}

// The exact text of any value, for parameters passed through verbatim.
bool raw_json(value v, std::string_view& out) {
  json_type type{};
  if (v.type().get(type)) return false;
  if (type == json_type::array) {
    simdjson::ondemand::array a;
    return !v.get_array().get(a) && !a.raw_json().get(out);
  }
  if (type == json_type::object) {
    object o;
    return !v.get_object().get(o) && !o.raw_json().get(out);
  }
  out = trim_json_whitespace(v.raw_json_token());
  return true;
}

bool read_number(value v, double& out) {
  return !v.get_double().get(out) && std::isfinite(out);
}

// Appends a message's content: a string, or OpenAI's list of {"type": "text", "text"} parts.
bool append_content(value content, std::string& prompt) {
  std::string_view text;
  if (!content.get_string().get(text)) {
    prompt.append(text);
    return true;
  }
  simdjson::ondemand::array parts;
  if (content.get_array().get(parts)) return false;
  for (auto part : parts) {
    object part_object;
    if (part.get_object().get(part_object) ||
        part_object.find_field_unordered("text").get_string().get(text)) {
      return false;
    }
    prompt.append(text);
  }
  return true;
}

}  // namespace

std::string line_overrides::key() const {
  std::string k;
  // Each value is preceded by its length, so no value can pass for a separator or another field.
  auto add = [&k](std::string_view name, std::string_view v) {
    k.append(name).push_back('=');
    k.append(std::to_string(v.size())).push_back(':');
    k.append(v).push_back('\x1f');
  };
  // Doubles in their shortest round-trip form: std::to_string's 6 decimals merge 0.5 and 0.5000001.
  auto add_double = [&add](std::string_view name, double d) {
    char buffer[32];
    const char* end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
    add(name, std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
  };
  if (model) add("model", *model);
  if (max_tokens) add("max_tokens", std::to_string(*max_tokens));
  if (temperature) add_double("temperature", *temperature);
  if (top_p) add_double("top_p", *top_p);
  if (top_k) add("top_k", std::to_string(*top_k));
  for (const auto& [name, raw] : extra) add(name, raw);
  return k;
}

struct line_parser::impl {
  simdjson::ondemand::parser parser;
  std::string unescaped;  // a plain line's prompt, when it has escapes
  bool saw_prompt = false;

  // Reads one field shared by every form: custom_id, prompt, messages and the overrides.
  // Returns false with `error` set when the field is present but wrong.
  bool read_field(std::string_view key, value v, job_line& out, std::string& error) {
    auto& o = out.overrides;
    std::string_view text;
    if (key == "custom_id") {
      json_type type{};
      if (v.type().get(type)) {
        error = "custom_id is not well-formed JSON";
        return false;
      }
      if (type == json_type::string) {
        if (v.get_string().get(text)) {
          error = "custom_id is not a valid JSON string";
          return false;
        }
      } else if (type == json_type::number) {
        text = trim_json_whitespace(v.raw_json_token());
      } else {
        error = "custom_id must be a string";
        return false;
      }
      out.custom_id = text;  // in the line, or in the parser's buffer for this line
      out.has_custom_id = true;
    } else if (key == "prompt") {
      if (auto e = v.get_string().get(text)) {
        error = e == simdjson::INCORRECT_TYPE
                    ? "prompt must be a string"
                    : "prompt is not a valid JSON string (a bad escape, such as a lone "
                      "surrogate \\uDC80, or invalid UTF-8)";
        return false;
      }
      out.prompt = text;
      saw_prompt = true;
    } else if (key == "messages") {
      simdjson::ondemand::array messages;
      if (v.get_array().get(messages)) {
        error = "messages must be a list of {\"role\", \"content\"} objects";
        return false;
      }
      std::string& joined = out.prompt_text;
      joined.clear();
      bool first = true;
      for (auto m : messages) {
        object message;
        value content;
        if (m.get_object().get(message) || message.find_field_unordered("content").get(content)) {
          error = "every message needs a \"content\"";
          return false;
        }
        if (!first) joined.push_back(' ');  // LiteLLM joins contents with one space
        if (!append_content(content, joined)) {
          error = "message content must be a string or a list of text parts";
          return false;
        }
        first = false;
      }
      out.prompt = joined;
      saw_prompt = true;
      if (out.form == line_form::prompt) out.form = line_form::messages;
    } else if (key == "model") {
      if (v.get_string().get(text)) {
        error = "model must be a string";
        return false;
      }
      o.model.emplace(text);
    } else if (key == "max_tokens" || key == "max_completion_tokens" || key == "top_k") {
      int n = 0;
      if (!read_int(v, n)) {
        error = std::string(key) + " must be a non-negative integer";
        return false;
      }
      (key == "top_k" ? o.top_k : o.max_tokens) = n;
    } else if (key == "temperature" || key == "top_p") {
      double d = 0;
      if (!read_number(v, d)) {
        error = std::string(key) + " must be a number";
        return false;
      }
      (key == "temperature" ? o.temperature : o.top_p) = d;
    } else if (is_pass_through(key)) {
      if (!raw_json(v, text)) {
        error = std::string(key) + " is not valid JSON";
        return false;
      }
      o.extra.emplace_back(std::string(key), std::string(text));
    }
    return true;  // other fields (metadata, "method") are ignored
  }

  bool read_openai_body(value v, job_line& out, std::string& error) {
    object body;
    if (v.get_object().get(body)) {
      error = "body must be an object";
      return false;
    }
    for (auto field : body) {
      std::string_view key;
      value fv;
      if (field.unescaped_key().get(key) || field.value().get(fv)) {
        error = "body is not well-formed JSON";
        return false;
      }
      if (key == "custom_id") continue;  // only the outer custom_id names the line
      if (key == "prompt" && out.form == line_form::openai_completion) {
        simdjson::ondemand::array list;
        if (!fv.get_array().get(list)) {  // /v1/completions accepts a list; one prompt a line here
          std::size_t count = 0;
          for (auto item : list) {
            std::string_view text;
            if (++count > 1 || item.get_string().get(text)) {
              error = "body.prompt must be one string (one prompt per line)";
              return false;
            }
            out.prompt = text;
          }
          saw_prompt = count == 1;
          continue;
        }
      }
      if (!read_field(key, fv, out, error)) {
        error = "body." + error;
        return false;
      }
    }
    return true;
  }
};

line_parser::line_parser(plain_path path) : impl_(std::make_unique<impl>()), plain_path_(path) {}
line_parser::~line_parser() = default;

bool line_parser::parse(std::string_view line, std::uint64_t line_number, job_line& out,
                        std::string& error, std::optional<plain_text_class> text_class) {
  out.reset();
  impl_->saw_prompt = false;
  error.clear();

  if (plain_path_ == plain_path::on) {
    if (read_plain_line(line, out, impl_->unescaped, text_class)) {
      if (!out.has_custom_id) out.number_as_custom_id(line_number);
      return true;
    }
    out.reset();  // what the plain path wrote before it gave up
  }
  return parse_with_simdjson(line, line_number, out, error);
}

// Out of line, so that the plain path above keeps a small frame: this one's simdjson state is
// hundreds of bytes of stack, set up on every call.
bool line_parser::parse_with_simdjson(std::string_view line, std::uint64_t line_number,
                                      job_line& out, std::string& error) {
  simdjson::ondemand::document doc;
  object root;
  if (auto e = impl_->parser.iterate(line.data(), line.size(), line.size() + padding()).get(doc);
      e || (e = doc.get_object().get(root))) {
    error = e == simdjson::INCORRECT_TYPE
                ? std::string("line is not a JSON object; each line must be one {...} object")
                : std::string("line is not valid JSON (") + simdjson::error_message(e) + ")";
  }
  std::string_view url;
  bool has_body = false;
  std::string url_error;  // reported once custom_id is read, so the record keeps the line's id
  if (error.empty()) {
    // The OpenAI form is recognised by its "url", which may come after "body": look it up first.
    // A malformed object ends the lookup with an error and leaves `root` unusable (even reset()).
    value url_value;
    if (auto e = root.find_field_unordered("url").get(url_value);
        e && e != simdjson::NO_SUCH_FIELD) {
      error = std::string("line is not valid JSON (") + simdjson::error_message(e) + ")";
    } else if (!e && !url_value.get_string().get(url)) {
      if (url == "/v1/chat/completions") {
        out.form = line_form::openai_chat;
      } else if (url == "/v1/completions") {
        out.form = line_form::openai_completion;
      } else {
        url_error = "url '" + std::string(url) +
                    "' is not supported; use /v1/chat/completions or /v1/completions";
      }
    }
    if (error.empty() && root.reset().error()) error = "line is not well-formed JSON";
  }
  if (error.empty()) {
    for (auto field : root) {
      std::string_view key;
      value v;
      if (field.unescaped_key().get(key) || field.value().get(v)) {
        error = "line is not well-formed JSON";
        break;
      }
      const bool openai =
          out.form == line_form::openai_chat || out.form == line_form::openai_completion;
      if (key == "url" || key == "method") continue;
      if (openai && key == "body") {
        has_body = true;
        if (!impl_->read_openai_body(v, out, error)) break;
      } else if (openai && key != "custom_id") {
        continue;  // an OpenAI line's parameters live in its body
      } else if (!impl_->read_field(key, v, out, error)) {
        break;
      }
    }
  }
  if (!url_error.empty()) error = std::move(url_error);
  if (error.empty()) {
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      error = "line has content after its JSON object; put one object on each line";
    }
  }
  if (!out.has_custom_id) out.number_as_custom_id(line_number);
  if (!error.empty()) return false;
  if ((out.form == line_form::openai_chat || out.form == line_form::openai_completion) &&
      !has_body) {
    error = "an OpenAI batch line needs a \"body\"";
    return false;
  }
  if (!impl_->saw_prompt) {
    error = out.form == line_form::openai_chat         ? "body has no \"messages\""
            : out.form == line_form::openai_completion ? "body has no \"prompt\""
                                                       : "line has no \"prompt\" or \"messages\"";
    return false;
  }
  return true;
}

}  // namespace promptpack::run
