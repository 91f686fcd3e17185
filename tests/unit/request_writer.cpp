// Tests for the request writer: the rules of PROTOCOL.md section 1 about the request body.
#include <promptpack/protocol/request_writer.hpp>

#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using promptpack::sampling_params;

std::string encode(const promptpack::request_writer& writer,
                   const std::vector<std::string_view>& prompts) {
  promptpack::write_buffer out;
  writer.begin(out);
  bool first = true;
  for (auto prompt : prompts) {
    BOOST_TEST_REQUIRE(promptpack::request_writer::add_prompt(out, prompt, first));
    first = false;
  }
  writer.end(out);
  return std::string(out.view());
}

// Parses `body` with the DOM parser, so every test also checks the body is valid JSON.
simdjson::dom::element parse(simdjson::dom::parser& json, const std::string& body) {
  simdjson::dom::element root;
  const auto error = json.parse(body).get(root);
  BOOST_TEST_REQUIRE(!error, "body is not valid JSON: " << body);
  return root;
}

std::string_view get_string(simdjson::dom::element element) {
  std::string_view text;
  BOOST_TEST_REQUIRE(!element.get_string().get(text));
  return text;
}

// The escaping rule spelled out byte by byte, to check the fast escaper against.
std::string reference_escape(std::string_view text) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += hex_digits[byte >> 4];
          out += hex_digits[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string invalid_argument_message(std::string_view model, const sampling_params& params) {
  try {
    promptpack::request_writer writer(model, params);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_writer)

BOOST_AUTO_TEST_CASE(strips_one_leading_custom_prefix) {
  using promptpack::strip_custom_prefix;
  BOOST_TEST(strip_custom_prefix("custom/meta-llama/Llama-2-13b-hf") ==
             "meta-llama/Llama-2-13b-hf");
  BOOST_TEST(strip_custom_prefix("custom/custom/x") == "custom/x");
  BOOST_TEST(strip_custom_prefix("customer/x") == "customer/x");
  BOOST_TEST(strip_custom_prefix("org/custom/x") == "org/custom/x");
  BOOST_TEST(strip_custom_prefix("custom") == "custom");
  BOOST_TEST(strip_custom_prefix("") == "");

  simdjson::dom::parser json;
  const promptpack::request_writer writer("custom/meta-llama/Llama-2-13b-hf", {});
  BOOST_TEST(get_string(parse(json, encode(writer, {"p"}))["model"]) ==
             "meta-llama/Llama-2-13b-hf");
}

BOOST_AUTO_TEST_CASE(body_has_the_protocol_shape_and_defaults) {
  const promptpack::request_writer writer("m", {});
  const std::string body = encode(writer, {"p1", "p2"});
  BOOST_TEST(body ==
             R"({"model":"m","params":{"prompt":["p1","p2"],"max_tokens":32,"temperature":0.7,)"
             R"("top_p":1,"top_k":40}})");
  BOOST_TEST(writer.fixed_bytes() == encode(writer, {}).size());

  simdjson::dom::parser json;
  const auto root = parse(json, encode(writer, {}));
  BOOST_TEST(simdjson::dom::array(root["params"]["prompt"]).size() == 0u);
}

BOOST_AUTO_TEST_CASE(user_params_are_rendered_shortest) {
  sampling_params params;
  params.max_tokens = 10;
  params.temperature = 0.1;
  params.top_p = 0.95;
  params.top_k = 1;
  const promptpack::request_writer writer("m", params);
  BOOST_TEST(encode(writer, {"p"}) ==
             R"({"model":"m","params":{"prompt":["p"],"max_tokens":10,"temperature":0.1,)"
             R"("top_p":0.95,"top_k":1}})");
}

BOOST_AUTO_TEST_CASE(non_finite_doubles_are_rejected) {
  sampling_params params;
  params.temperature = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(invalid_argument_message("m", params).find("temperature") != std::string::npos);
  params = {};
  params.top_p = std::numeric_limits<double>::infinity();
  BOOST_TEST(invalid_argument_message("m", params).find("top_p") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(extra_params_pass_through_verbatim_and_sorted) {
  sampling_params params;
  params.extra = {{"stop", R"(["\n", "END"])"}, {"seed", "7"}, {"repetition_penalty", "1.10"}};
  const promptpack::request_writer writer("m", params);
  BOOST_TEST(encode(writer, {"p"}) ==
             R"({"model":"m","params":{"prompt":["p"],"max_tokens":32,"temperature":0.7,)"
             R"("top_p":1,"top_k":40,"repetition_penalty":1.10,"seed":7,"stop":["\n", "END"]}})");

  // The order the user gave them in does not change the body or the group.
  sampling_params reordered = params;
  std::swap(reordered.extra[0], reordered.extra[2]);
  BOOST_TEST(promptpack::request_writer("m", reordered).group_key() == writer.group_key());
}

BOOST_AUTO_TEST_CASE(invalid_extra_params_are_rejected) {
  for (const char* value : {"", "tru", "[1,", "1 2", "{\"a\":1}x", "'text'", "\"\xff\""}) {
    sampling_params params;
    params.extra = {{"stop", value}};
    const auto message = invalid_argument_message("m", params);
    BOOST_TEST(message.find("\"stop\"") != std::string::npos, "value " << value << ": " << message);
  }
  for (const char* value : {"null", " 7 ", "-1.5e3", "\"a\"", "[]", "{\"k\":[true,false]}"}) {
    sampling_params params;
    params.extra = {{"x", value}};
    BOOST_TEST(invalid_argument_message("m", params).empty(), "value " << value);
  }
}

BOOST_AUTO_TEST_CASE(duplicate_and_reserved_extra_names_are_rejected) {
  sampling_params params;
  params.extra = {{"seed", "1"}, {"stop", "null"}, {"seed", "2"}};
  BOOST_TEST(invalid_argument_message("m", params).find("\"seed\" is given twice") !=
             std::string::npos);
  for (const char* name : {"prompt", "max_tokens", "temperature", "top_p", "top_k"}) {
    params.extra = {{name, "1"}};
    BOOST_TEST(invalid_argument_message("m", params).find(std::string("\"") + name + "\"") !=
                   std::string::npos,
               name);
  }
}

BOOST_AUTO_TEST_CASE(model_must_be_valid_utf8) {
  BOOST_TEST(invalid_argument_message("m\xff", {}).find("UTF-8") != std::string::npos);
  BOOST_TEST(invalid_argument_message("mod\xc3\xa8le", {}).empty());
}

BOOST_AUTO_TEST_CASE(every_control_char_quote_and_backslash_round_trip) {
  std::string prompt;
  for (int c = 0; c < 0x20; ++c) prompt.push_back(static_cast<char>(c));
  prompt += "\"\\/\x7f h\xc3\xa9llo \xf0\x9f\x98\x80";
  const std::vector<std::string_view> prompts = {prompt, "\"", "\\", ""};
  const std::string body = encode(promptpack::request_writer("m\"\\\n", {}), prompts);

  // Nothing below 0x20 is left raw in the body.
  for (char c : body) BOOST_TEST(static_cast<unsigned char>(c) >= 0x20u);
  BOOST_TEST(body.find(R"("\u0000\u0001)") != std::string::npos);
  BOOST_TEST(body.find(R"(\b\t\n\u000b\f\r)") != std::string::npos);

  simdjson::dom::parser json;
  const auto root = parse(json, body);
  BOOST_TEST(get_string(root["model"]) == "m\"\\\n");
  const simdjson::dom::array decoded = root["params"]["prompt"];
  BOOST_TEST_REQUIRE(decoded.size() == prompts.size());
  std::size_t i = 0;
  for (auto element : decoded) BOOST_TEST(get_string(element) == prompts[i++]);
}

BOOST_AUTO_TEST_CASE(escaping_handles_long_runs_and_escapes_at_the_edges) {
  const std::string clean(1000, 'a');
  const std::string text = "\n" + clean + "\"" + clean + "\\";
  std::string out = "prefix";
  promptpack::append_json_string(out, text);
  BOOST_TEST(out == "prefix\"\\n" + clean + "\\\"" + clean + "\\\\\"");
}

BOOST_AUTO_TEST_CASE(every_byte_at_every_block_position_is_escaped_right) {
  // The escaper skips clean blocks of 16 bytes: put each byte value in each lane of two blocks
  // and in the tail after them.
  for (std::size_t position = 0; position < 35; ++position) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string text(35, 'a');
      text[position] = static_cast<char>(byte);
      std::string out;
      promptpack::append_json_string(out, text);
      BOOST_TEST_REQUIRE(out == reference_escape(text), "byte " << byte << " at " << position);
    }
  }
}

BOOST_AUTO_TEST_CASE(utf8_validation_is_strict) {
  using promptpack::is_valid_utf8;
  // Accepted: ASCII (on and off the 8-byte fast path), and the edges of each sequence length.
  for (std::string_view ok :
       {"", "a", "exactly8", "more than eight ascii bytes here", "\x7f", "\xc2\x80", "\xdf\xbf",
        "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
        "12345678\xc3\xa9"
        "12345678"}) {
    BOOST_TEST(is_valid_utf8(ok), "should accept: " << ok);
  }
  const std::string_view with_nul("a\0b", 3);
  BOOST_TEST(is_valid_utf8(with_nul));
  // Rejected: overlongs, surrogates, above U+10FFFF, truncated, stray continuation bytes.
  for (std::string_view bad :
       {"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf",
        "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
        "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\x80", "abcdefgh\xbf", "\xc3\x28",
        "\xe2\x28\xa1", "\xf0\x9f\x28\x80"}) {
    BOOST_TEST(!is_valid_utf8(bad), "should reject: " << bad);
  }
  // A bad byte is found wherever it sits relative to the 8-byte ASCII fast path.
  for (std::size_t position = 0; position < 20; ++position) {
    std::string text(20, 'a');
    text[position] = '\x80';
    BOOST_TEST(!is_valid_utf8(text), "stray continuation byte at " << position);
    text[position] = '\xc3';
    BOOST_TEST(!is_valid_utf8(text), "truncated sequence at " << position);
  }
}

BOOST_AUTO_TEST_CASE(checked_escaping_agrees_with_the_validator_and_the_plain_escaper) {
  // Every byte value in every lane of two 16-byte blocks and the tail after them, alone and as
  // the lead of a two-, three- and four-byte sequence: checked escaping accepts exactly what
  // is_valid_utf8 accepts, writes what append_json_string writes, and leaves `out` untouched
  // when it refuses.
  for (std::string_view after : {"", "\x80", "\xa0\x80", "\x90\x80\x80"}) {
    for (std::size_t position = 0; position < 35; ++position) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text(35, 'a');
        text[position] = static_cast<char>(byte);
        text.replace(position + 1, std::min(after.size(), 34 - position),
                     after.substr(0, 34 - position));
        promptpack::write_buffer checked;
        checked.append("prefix");
        std::string plain = "prefix";
        const bool accepted = promptpack::append_json_string_if_utf8(checked, text);
        BOOST_TEST_REQUIRE(accepted == promptpack::is_valid_utf8(text),
                           "byte " << byte << " at " << position << " before " << after.size());
        if (accepted) {
          promptpack::append_json_string(plain, text);
          BOOST_TEST_REQUIRE(checked.view() == plain);
        } else {
          BOOST_TEST_REQUIRE(checked.view() == "prefix");
        }
      }
    }
  }
}

// Texts of every length up to a few blocks, all of one kind of byte: escapes back to back make
// the output grow by up to six times, past the room first asked for, in both kinds of buffer.
BOOST_AUTO_TEST_CASE(escapes_back_to_back_at_every_length) {
  for (const std::string_view unit : {"a", "\x01", "\"", "\\", "\n", "\xc3\xa9", "\xe2\x82\xac"}) {
    for (std::size_t count = 0; count < 70; ++count) {
      std::string text;
      for (std::size_t i = 0; i < count; ++i) text += unit;
      std::string plain = "[";
      promptpack::append_json_string(plain, text);
      BOOST_TEST_REQUIRE(std::string_view(plain).substr(1) == reference_escape(text),
                         count << " x " << unit);
      promptpack::write_buffer checked;
      // Stale bytes past the end of a reused buffer must never show through.
      checked.append(std::string(8 * count + 64, '#'));
      checked.clear();
      checked.append("[");
      BOOST_TEST_REQUIRE(promptpack::append_json_string_if_utf8(checked, text));
      BOOST_TEST_REQUIRE(checked.view() == plain, count << " x " << unit);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_safe_prompts_are_written_as_the_checked_path_writes_them) {
  const std::vector<std::string_view> prompts = {"", "a", "caf\xc3\xa9 and more than sixteen bytes",
                                                 "b"};
  promptpack::write_buffer checked, copied;
  // Every run of the list, opening the array or not, after text already in the buffer.
  for (const bool first : {true, false}) {
    for (std::size_t from = 0; from <= prompts.size(); ++from) {
      for (std::size_t to = from; to <= prompts.size(); ++to) {
        checked.clear();
        copied.clear();
        checked.append("[x");
        copied.append("[x");
        for (std::size_t i = from; i < to; ++i) {
          BOOST_TEST_REQUIRE(
              promptpack::request_writer::add_prompt(checked, prompts[i], first && i == from));
        }
        promptpack::request_writer::add_json_safe_prompts(
            copied, std::span(prompts).subspan(from, to - from), first);
        BOOST_TEST(copied.view() == checked.view(), from << ".." << to << " first " << first);
      }
    }
  }
}

// Every prompt length up to well past 64 bytes, each prompt in storage of exactly its size (so
// that the sanitizer build sees a read past it), its bytes distinct, beside neighbours.
BOOST_AUTO_TEST_CASE(json_safe_prompts_of_every_length_are_copied_whole) {
  for (std::size_t length = 0; length <= 140; ++length) {
    std::string text(length, ' ');
    for (std::size_t i = 0; i < length; ++i)
      text[i] = static_cast<char>('a' + (i * 7 + length) % 26);
    const auto storage = std::make_unique<char[]>(length);  // nothing readable past the prompt
    std::copy(text.begin(), text.end(), storage.get());
    const std::vector<std::string_view> prompts = {"x", {storage.get(), length}, "y"};
    promptpack::write_buffer out;
    promptpack::request_writer::add_json_safe_prompts(out, prompts, true);
    BOOST_TEST(out.view() == "\"x\",\"" + text + "\",\"y\"", "length " << length);
  }
}

BOOST_AUTO_TEST_CASE(a_prompt_that_is_not_utf8_leaves_the_body_as_it_was) {
  const promptpack::request_writer writer("m", {});
  promptpack::write_buffer out;
  writer.begin(out);
  BOOST_TEST(!promptpack::request_writer::add_prompt(out, "\xff first", true));
  BOOST_TEST(promptpack::request_writer::add_prompt(out, "ok", true));
  BOOST_TEST(!promptpack::request_writer::add_prompt(out, "bad \xc3", false));
  BOOST_TEST(promptpack::request_writer::add_prompt(out, "caf\xc3\xa9", false));
  writer.end(out);
  simdjson::dom::parser json;
  const simdjson::dom::array decoded = parse(json, std::string(out.view()))["params"]["prompt"];
  BOOST_TEST_REQUIRE(decoded.size() == 2u);
  BOOST_TEST(get_string(decoded.at(0)) == "ok");
  BOOST_TEST(get_string(decoded.at(1)) == "caf\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(group_key_separates_models_and_params) {
  sampling_params params;
  params.extra = {{"seed", "7"}};
  const promptpack::request_writer a("custom/m", params);
  BOOST_TEST(a.group_key() == promptpack::request_writer("m", params).group_key());
  BOOST_TEST(a.group_key() != promptpack::request_writer("n", params).group_key());
  BOOST_TEST(a.group_key() != promptpack::request_writer("m", {}).group_key());
  sampling_params hotter = params;
  hotter.temperature = 0.8;
  BOOST_TEST(a.group_key() != promptpack::request_writer("m", hotter).group_key());
}

BOOST_AUTO_TEST_CASE(buffer_is_reused_between_batches) {
  const promptpack::request_writer writer("m", {});
  promptpack::write_buffer out;
  writer.begin(out);
  BOOST_TEST(promptpack::request_writer::add_prompt(out, std::string(4096, 'x'), true));
  writer.end(out);
  const auto* data = out.data();
  writer.begin(out);
  BOOST_TEST(promptpack::request_writer::add_prompt(out, "short", true));
  writer.end(out);
  BOOST_TEST(static_cast<const void*>(out.data()) == static_cast<const void*>(data));
  BOOST_TEST(out.view().find("xxx") == std::string_view::npos);
}

BOOST_AUTO_TEST_SUITE_END()
