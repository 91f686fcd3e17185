// Tests for the JSONL line decoder: the three input forms, overrides, custom_id rules and errors.
#include "run/line_parser.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace promptpack::run {
// Lets BOOST_TEST print a form that differs from the expected one.
std::ostream& boost_test_print_type(std::ostream& out, line_form form) {
  switch (form) {
    case line_form::prompt:
      return out << "prompt";
    case line_form::messages:
      return out << "messages";
    case line_form::openai_chat:
      return out << "openai_chat";
    case line_form::openai_completion:
      return out << "openai_completion";
  }
  return out << "unknown";
}
}  // namespace promptpack::run

namespace {

namespace run = promptpack::run;
using promptpack::run::job_line;
using promptpack::run::line_form;
using promptpack::run::line_overrides;

// The pass-through parameters as "name=raw;" text, so that BOOST_TEST can compare and print them.
std::string extra_text(const line_overrides& o) {
  std::string text;
  for (const auto& [name, raw] : o.extra) text.append(name).append("=").append(raw).append(";");
  return text;
}

struct parser_fixture {
  run::line_parser parser;
  job_line line;
  std::string error;
  std::string buffer;

  // Parses `text` followed by `after` and then the padding the parser may read.
  bool parse(std::string_view text, std::uint64_t number = 1, std::string_view after = {}) {
    buffer.assign(text).append(after).append(run::line_parser::padding(), ' ');
    return parser.parse(std::string_view(buffer.data(), text.size()), number, line, error);
  }

  // Parses a line that must be valid.
  const job_line& ok(std::string_view text, std::uint64_t number = 1) {
    BOOST_TEST_REQUIRE(parse(text, number), "unexpected error: " << error << " for " << text);
    BOOST_TEST(error.empty());
    return line;
  }

  // Parses a line that must be rejected; returns the error message.
  const std::string& rejected(std::string_view text, std::uint64_t number = 1) {
    BOOST_TEST_REQUIRE(!parse(text, number), "accepted: " << text);
    BOOST_TEST(!error.empty());
    return error;
  }

  // Checks that a line is rejected with an error that mentions `part`.
  void expect_error(std::string_view text, std::string_view part) {
    BOOST_TEST(rejected(text).find(part) != std::string::npos,
               "the error for " << text << " is \"" << error << "\", without \"" << part << "\"");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(line_parser)

BOOST_FIXTURE_TEST_CASE(prompt_form, parser_fixture) {
  ok(R"({"custom_id": "a1", "prompt": "The capital of France is P"})");
  BOOST_TEST(line.form == line_form::prompt);
  BOOST_TEST(line.has_custom_id);
  BOOST_TEST(line.custom_id == "a1");
  BOOST_TEST(line.prompt == "The capital of France is P");
  BOOST_TEST(line.overrides.empty());
}

BOOST_FIXTURE_TEST_CASE(strings_are_decoded, parser_fixture) {
  ok(R"({"custom_id": "q\"\u0041\\", "prompt": "a\nb\t\"c\" \u00e9 \ud83d\ude00 日本"})");
  BOOST_TEST(line.custom_id == "q\"A\\");
  BOOST_TEST(line.prompt == "a\nb\t\"c\" \u00e9 \U0001F600 日本");
  ok(R"({"prompt": ""})");
  BOOST_TEST(line.prompt.empty());
}

BOOST_FIXTURE_TEST_CASE(messages_are_joined_with_one_space, parser_fixture) {
  ok(R"({"custom_id": "a2", "messages": [{"role": "system", "content": "Be brief."},)"
     R"( {"role": "user", "content": "what is custom llama?"}], "max_tokens": 10})");
  BOOST_TEST(line.form == line_form::messages);
  BOOST_TEST(line.custom_id == "a2");
  BOOST_TEST(line.prompt == "Be brief. what is custom llama?");
  BOOST_TEST(line.overrides.max_tokens.value_or(-1) == 10);

  ok(R"({"messages": [{"content": "only", "role": "user"}]})");
  BOOST_TEST(line.prompt == "only");
  ok(R"({"messages": [{"content": ""}, {"content": ""}]})");
  BOOST_TEST(line.prompt == " ");
  ok(R"({"messages": []})");
  BOOST_TEST(line.form == line_form::messages);
  BOOST_TEST(line.prompt.empty());
}

BOOST_FIXTURE_TEST_CASE(message_content_as_text_parts, parser_fixture) {
  ok(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]},)"
     R"( {"role": "user", "content": "world"}]})");
  BOOST_TEST(line.prompt == "hello world");
}

BOOST_FIXTURE_TEST_CASE(openai_chat_form, parser_fixture) {
  ok(R"({"custom_id": "a3", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m",)"
     R"( "messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "there"}],)"
     R"( "max_tokens": 10}})");
  BOOST_TEST(line.form == line_form::openai_chat);
  BOOST_TEST(line.custom_id == "a3");
  BOOST_TEST(line.prompt == "hi there");
  BOOST_TEST(line.overrides.model.value_or("") == "m");
  BOOST_TEST(line.overrides.max_tokens.value_or(-1) == 10);
}

BOOST_FIXTURE_TEST_CASE(openai_url_after_body, parser_fixture) {
  ok(R"({"body": {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5},)"
     R"( "custom_id": "late", "url": "/v1/chat/completions", "method": "POST"})");
  BOOST_TEST(line.form == line_form::openai_chat);
  BOOST_TEST(line.custom_id == "late");
  BOOST_TEST(line.prompt == "hi");
  BOOST_TEST(line.overrides.temperature.value_or(-1.0) == 0.5);
}

BOOST_FIXTURE_TEST_CASE(openai_completion_form, parser_fixture) {
  ok(R"({"custom_id": "c1", "method": "POST", "url": "/v1/completions",)"
     R"( "body": {"model": "m", "prompt": "Once upon", "max_completion_tokens": 7, "top_k": 3}})");
  BOOST_TEST(line.form == line_form::openai_completion);
  BOOST_TEST(line.prompt == "Once upon");
  BOOST_TEST(line.overrides.max_tokens.value_or(-1) == 7);
  BOOST_TEST(line.overrides.top_k.value_or(-1) == 3);

  ok(R"({"custom_id": "c2", "url": "/v1/completions", "body": {"prompt": ["one prompt"]}})");
  BOOST_TEST(line.form == line_form::openai_completion);
  BOOST_TEST(line.prompt == "one prompt");
}

BOOST_FIXTURE_TEST_CASE(openai_line_reads_only_its_body, parser_fixture) {
  // Parameters outside the body are not the request's; custom_id inside the body is not the line's.
  ok(R"({"custom_id": "outer", "url": "/v1/chat/completions", "model": "ignored", "max_tokens": 1,)"
     R"( "body": {"custom_id": "inner", "messages": [{"content": "x"}]}})");
  BOOST_TEST(line.custom_id == "outer");
  BOOST_TEST(line.overrides.empty());
}

BOOST_FIXTURE_TEST_CASE(overrides, parser_fixture) {
  ok(R"({"prompt": "p", "model": "custom/big", "max_tokens": 32, "temperature": 0.25,)"
     R"( "top_p": 0.9, "top_k": 40})");
  const auto& o = line.overrides;
  BOOST_TEST(!o.empty());
  BOOST_TEST(o.model.value_or("") == "custom/big");
  BOOST_TEST(o.max_tokens.value_or(-1) == 32);
  BOOST_TEST(o.temperature.value_or(-1.0) == 0.25);
  BOOST_TEST(o.top_p.value_or(-1.0) == 0.9);
  BOOST_TEST(o.top_k.value_or(-1) == 40);
  BOOST_TEST(o.extra.empty());

  ok(R"({"prompt": "p", "max_completion_tokens": 5})");
  BOOST_TEST(line.overrides.max_tokens.value_or(-1) == 5);
  ok(R"({"prompt": "p", "max_tokens": 1e2, "temperature": 1})");
  BOOST_TEST(line.overrides.max_tokens.value_or(-1) == 100);
  BOOST_TEST(line.overrides.temperature.value_or(-1.0) == 1.0);
}

BOOST_FIXTURE_TEST_CASE(pass_through_parameters_keep_their_json_text, parser_fixture) {
  ok(R"({"prompt": "p", "stop": ["a", "\n"], "seed": 7, "n": 2, "metadata": {"x": 1},)"
     R"( "presence_penalty": -0.5, "do_sample": true, "repetition_penalty": {"k": [1, 2]}})");
  BOOST_TEST(extra_text(line.overrides) ==
             R"(stop=["a", "\n"];seed=7;n=2;presence_penalty=-0.5;do_sample=true;)"
             R"(repetition_penalty={"k": [1, 2]};)");
  // Whitespace around a scalar is not part of its text.
  ok("{\"prompt\": \"p\", \"seed\": 7 , \"n\":\t2\t, \"best_of\": 4\r, \"min_tokens\": 3 }");
  BOOST_TEST(extra_text(line.overrides) == "seed=7;n=2;best_of=4;min_tokens=3;");
  ok(R"({"prompt": "p", "stop": "END"})");
  BOOST_TEST(extra_text(line.overrides) == R"(stop="END";)");
}

BOOST_FIXTURE_TEST_CASE(numeric_custom_id, parser_fixture) {
  ok(R"({"custom_id": 17, "prompt": "p"})");
  BOOST_TEST(line.has_custom_id);
  BOOST_TEST(line.custom_id == "17");
  ok(R"({"custom_id": -4.5e1 , "prompt": "p"})");
  BOOST_TEST(line.custom_id == "-4.5e1");
  ok("{\"prompt\": \"p\", \"custom_id\": 123\t}");
  BOOST_TEST(line.custom_id == "123");
  ok("{\"custom_id\": 9\r , \"prompt\": \"p\"}");
  BOOST_TEST(line.custom_id == "9");
}

BOOST_FIXTURE_TEST_CASE(string_custom_id_is_kept_whole, parser_fixture) {
  ok(R"({"custom_id": " a1 ", "prompt": "p"})");
  BOOST_TEST(line.custom_id == " a1 ");
  ok(R"({"custom_id": "", "prompt": "p"})", 4);
  BOOST_TEST(line.has_custom_id);
  BOOST_TEST(line.custom_id.empty());
}

BOOST_FIXTURE_TEST_CASE(missing_custom_id_becomes_the_line_number, parser_fixture) {
  ok(R"({"prompt": "p"})", 17);
  BOOST_TEST(!line.has_custom_id);
  BOOST_TEST(line.custom_id == "17");
  ok(R"({"messages": [{"content": "m"}]})", 1234567890123ULL);
  BOOST_TEST(line.custom_id == "1234567890123");
  ok(R"({"url": "/v1/completions", "body": {"prompt": "x"}})", 5);
  BOOST_TEST(line.custom_id == "5");
  // A rejected line without an id still gets one, for its error record.
  rejected(R"({"prompt": 1})", 9);
  BOOST_TEST(line.custom_id == "9");
}

BOOST_FIXTURE_TEST_CASE(the_next_line_in_the_buffer_is_not_read, parser_fixture) {
  BOOST_TEST_REQUIRE(parse(R"({"prompt": "a"})", 1, "\n{\"prompt\": \"b\"}\n"), error);
  BOOST_TEST(line.prompt == "a");
  // Whitespace after the object is allowed.
  ok("{\"prompt\": \"a\"}  \t");
}

BOOST_FIXTURE_TEST_CASE(the_parser_is_reusable, parser_fixture) {
  ok(R"({"custom_id": "x", "url": "/v1/completions", "body": {"prompt": "p", "seed": 1, "model": "m"}})");
  rejected(R"({"custom_id": "y", "prompt": 5})");
  ok(R"({"prompt": "plain"})", 3);
  BOOST_TEST(line.form == line_form::prompt);
  BOOST_TEST(!line.has_custom_id);
  BOOST_TEST(line.custom_id == "3");
  BOOST_TEST(line.prompt == "plain");
  BOOST_TEST(line.overrides.empty());
}

BOOST_FIXTURE_TEST_CASE(malformed_lines, parser_fixture) {
  expect_error("", "not valid JSON");
  expect_error("   ", "not valid JSON");
  expect_error(R"({"prompt": "p")", "JSON");
  expect_error(R"({"prompt": "p",})", "JSON");
  expect_error("{\"prompt\": \"\xff\xfe\"}", "JSON");
  expect_error(R"(["prompt", "p"])", "not a JSON object");
  expect_error(R"("prompt")", "not a JSON object");
  expect_error("42", "not a JSON object");
  expect_error(R"({"prompt": "a"} {"prompt": "b"})", "content after");
}

// Structural errors that only show once the decoder walks the object, in its look-up of "url" or
// later: each must be rejected, not crash.
BOOST_FIXTURE_TEST_CASE(malformed_objects, parser_fixture) {
  for (std::string_view text : {
           R"({"prompt": "p",})",
           R"({"prompt" "p"})",
           R"({"custom_id": "a" "prompt": "p"})",
           R"({"prompt": "p", "metadata": {"x": 1} "n": 2})",
           R"({"body": {"prompt": "p",}, "url": "/v1/completions"})",
           R"({"url": "/v1/completions", "body": {"prompt": "p"},})",
           R"({"url": "/v1/completions", "body": {"prompt": "p" "x": 1}})",
           R"({"custom_id": "a", "messages": [{"content": "x"},]})",
       }) {
    rejected(text);
  }
}

BOOST_FIXTURE_TEST_CASE(missing_prompt, parser_fixture) {
  expect_error(R"({"custom_id": "x"})", "no \"prompt\" or \"messages\"");
  BOOST_TEST(line.custom_id == "x");  // kept for the error record
  expect_error(R"({})", "no \"prompt\"");
  expect_error(R"({"custom_id": "y", "url": "/v1/chat/completions", "body": {}})",
               "no \"messages\"");
  BOOST_TEST(line.custom_id == "y");
  expect_error(R"({"url": "/v1/completions", "body": {"model": "m"}})", "no \"prompt\"");
  expect_error(R"({"url": "/v1/completions", "body": {"prompt": []}})", "no \"prompt\"");
}

BOOST_FIXTURE_TEST_CASE(wrong_field_types, parser_fixture) {
  expect_error(R"({"prompt": 5})", "prompt must be a string");
  expect_error(R"({"prompt": ["a"]})", "prompt must be a string");
  expect_error(R"({"prompt": "bad \udc80"})", "prompt is not a valid JSON string");
  expect_error(R"({"messages": "hi"})", "messages must be a list");
  expect_error(R"({"messages": [{"role": "user"}]})", "needs a \"content\"");
  expect_error(R"({"messages": ["hi"]})", "needs a \"content\"");
  expect_error(R"({"messages": [{"content": 3}]})", "content must be");
  expect_error(R"({"messages": [{"content": [{"type": "image"}]}]})", "content must be");
  expect_error(R"({"prompt": "p", "model": 1})", "model must be a string");
  expect_error(R"({"prompt": "p", "max_tokens": -1})", "max_tokens must be");
  expect_error(R"({"prompt": "p", "max_tokens": 1.5})", "max_tokens must be");
  expect_error(R"({"prompt": "p", "max_tokens": "10"})", "max_tokens must be");
  expect_error(R"({"prompt": "p", "max_tokens": 1e20})", "max_tokens must be");
  expect_error(R"({"prompt": "p", "max_completion_tokens": null})",
               "max_completion_tokens must be");
  expect_error(R"({"prompt": "p", "top_k": 2.5})", "top_k must be");
  expect_error(R"({"prompt": "p", "temperature": "hot"})", "temperature must be a number");
  expect_error(R"({"prompt": "p", "top_p": [0.5]})", "top_p must be a number");
}

BOOST_FIXTURE_TEST_CASE(bad_custom_id, parser_fixture) {
  expect_error(R"({"custom_id": true, "prompt": "p"})", "custom_id must be a string");
  expect_error(R"({"custom_id": null, "prompt": "p"})", "custom_id must be a string");
  expect_error(R"({"custom_id": ["a"], "prompt": "p"})", "custom_id must be a string");
  expect_error(R"({"custom_id": "\udc80", "prompt": "p"})", "custom_id");
  rejected(R"({"custom_id": false, "prompt": "p"})", 21);
  BOOST_TEST(line.custom_id == "21");
}

BOOST_FIXTURE_TEST_CASE(bad_openai_lines, parser_fixture) {
  expect_error(R"({"custom_id": "e1", "url": "/v1/embeddings", "body": {"input": "x"}})",
               "url '/v1/embeddings' is not supported");
  BOOST_TEST(line.custom_id == "e1");
  expect_error(R"({"custom_id": "e2", "url": "/v1/chat/completions", "method": "POST"})",
               "needs a \"body\"");
  BOOST_TEST(line.custom_id == "e2");
  expect_error(R"({"url": "/v1/chat/completions", "body": "text"})", "body must be an object");
  expect_error(R"({"url": "/v1/chat/completions", "body": {"messages": 1}})",
               "body.messages must be a list");
  expect_error(
      R"({"url": "/v1/chat/completions", "body": {"messages": [{"content": "x"}], "max_tokens": -2}})",
      "body.max_tokens must be");
  expect_error(R"({"url": "/v1/completions", "body": {"prompt": ["a", "b"]}})",
               "one prompt per line");
  expect_error(R"({"url": "/v1/completions", "body": {"prompt": [1]}})", "one prompt per line");
}

BOOST_AUTO_TEST_CASE(override_keys) {
  line_overrides base;
  base.model = "m";
  base.max_tokens = 10;
  base.temperature = 0.5;
  base.extra = {{"seed", "7"}};
  line_overrides same = base;
  BOOST_TEST(base.key() == same.key());
  BOOST_TEST(line_overrides{}.key() == line_overrides{}.key());

  // Each change of a value gives a key of its own.
  const auto differs = [&base](auto change) {
    line_overrides other = base;
    change(other);
    return other.key() != base.key();
  };
  BOOST_TEST(differs([](line_overrides& o) { o.model = "n"; }));
  BOOST_TEST(differs([](line_overrides& o) { o.model.reset(); }));
  BOOST_TEST(differs([](line_overrides& o) { o.max_tokens = 11; }));
  BOOST_TEST(differs([](line_overrides& o) { o.temperature = 0.25; }));
  BOOST_TEST(differs([](line_overrides& o) { o.temperature = 0.5000001; }));
  BOOST_TEST(differs([](line_overrides& o) { o.temperature = 0.5 + 1e-15; }));
  BOOST_TEST(differs([](line_overrides& o) { o.top_p = 0.5; }));
  BOOST_TEST(differs([](line_overrides& o) { o.top_k = 10; }));
  BOOST_TEST(differs([](line_overrides& o) { o.extra[0].second = "8"; }));
  BOOST_TEST(differs([](line_overrides& o) { o.extra.emplace_back("n", "2"); }));
  BOOST_TEST(differs([](line_overrides& o) { o.extra.clear(); }));
  // The same value under another field is another key.
  line_overrides tokens;
  tokens.max_tokens = 5;
  line_overrides top_k;
  top_k.top_k = 5;
  BOOST_TEST(tokens.key() != top_k.key());
  // A value cannot pass for a field separator.
  line_overrides crafted;
  crafted.model = "m\x1fmax_tokens=10";
  line_overrides plain;
  plain.model = "m";
  plain.max_tokens = 10;
  BOOST_TEST(crafted.key() != plain.key());
}

BOOST_FIXTURE_TEST_CASE(parsed_overrides_give_equal_keys, parser_fixture) {
  ok(R"({"prompt": "a", "temperature": 0.7, "max_tokens": 5, "stop": ["x"]})");
  const std::string first = line.overrides.key();
  ok(R"({"max_tokens": 5.0, "prompt": "b", "temperature": 0.70, "stop": ["x"]})");
  BOOST_TEST(line.overrides.key() == first);
  ok(R"({"prompt": "a", "temperature": 0.7, "max_tokens": 6, "stop": ["x"]})");
  BOOST_TEST(line.overrides.key() != first);
}

BOOST_AUTO_TEST_SUITE_END()
