// Tests for the plain-line fast path: what it reads, what it leaves to the full parser, and that
// the job's decoder gives the same result with and without it.
#include "run/plain_line.hpp"
#include "run/line_parser.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace run = promptpack::run;

// read_plain_line() on a line reset first, as the parser hands it one.
bool read(std::string_view line, run::job_line& out, std::string& unescaped) {
  out.reset();
  return run::read_plain_line(line, out, unescaped);
}

bool plain(std::string_view line) {
  run::job_line out;
  std::string unescaped;
  return read(line, out, unescaped);
}

// What one line_parser makes of a line, in one comparable text.
std::string decoded(run::line_parser& parser, std::string_view text) {
  std::string buffer(text);
  buffer.append(run::line_parser::padding(), ' ');
  run::job_line line;
  std::string error;
  const bool ok = parser.parse(std::string_view(buffer.data(), text.size()), 7, line, error);
  return std::string(ok ? "ok" : "error") + "|" + error + "|" + std::to_string(int(line.form)) +
         "|" + std::to_string(line.has_custom_id) + "|" + std::string(line.custom_id) + "|" +
         std::string(line.prompt) + "|" + line.overrides.key();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plain_line)

BOOST_AUTO_TEST_CASE(reads_both_orders_and_any_json_whitespace) {
  run::job_line out;
  std::string unescaped;
  BOOST_TEST_REQUIRE(read(R"({"custom_id":"req-1","prompt":"The capital is"})", out, unescaped));
  BOOST_TEST(out.has_custom_id);
  BOOST_TEST(out.custom_id == "req-1");
  BOOST_TEST(out.prompt == "The capital is");

  BOOST_TEST_REQUIRE(read(" {\t\"prompt\" : \"p\" ,\r\"custom_id\":\"c\" }\r", out, unescaped));
  BOOST_TEST(out.custom_id == "c");
  BOOST_TEST(out.prompt == "p");

  BOOST_TEST_REQUIRE(read(R"({"prompt":""})", out, unescaped));
  BOOST_TEST(!out.has_custom_id);
  BOOST_TEST(out.prompt.empty());

  BOOST_TEST_REQUIRE(read("{\"prompt\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}", out, unescaped));
  BOOST_TEST(out.prompt == "caf\xC3\xA9 \xF0\x9F\x98\x80");

  // A prompt's escapes are unescaped; the id stays a view into the line.
  BOOST_TEST_REQUIRE(
      read(R"({"custom_id":"r","prompt":"Q:\n\"x\"\t\u00e9\ud83d\ude00"})", out, unescaped));
  BOOST_TEST(out.custom_id == "r");
  BOOST_TEST(out.prompt == "Q:\n\"x\"\t\xC3\xA9\xF0\x9F\x98\x80");
}

BOOST_AUTO_TEST_CASE(reads_the_usual_layouts_by_their_bytes) {
  run::job_line out;
  std::string unescaped;
  for (const std::string_view line : {R"({"custom_id":"req-1","prompt":"The capital is"})",
                                      R"({"custom_id": "req-1", "prompt": "The capital is"})"}) {
    BOOST_TEST_REQUIRE(read(line, out, unescaped), line);
    BOOST_TEST(out.has_custom_id);
    BOOST_TEST(out.custom_id == "req-1");
    BOOST_TEST(out.prompt == "The capital is");
    BOOST_TEST(out.prompt_json_safe);
  }
  BOOST_TEST_REQUIRE(read(R"({"custom_id":"a","prompt":"}"})", out, unescaped));
  BOOST_TEST(out.prompt == "}");
  BOOST_TEST(!plain(R"({"custom_id":"a","prompt":"x"}"})"));
  BOOST_TEST(!plain(R"({"custom_id":"a","prompt":"})"));
  BOOST_TEST(!plain("{\"custom_id\":\"a\",\"prompt\":\"\xC3\"}"));  // cut UTF-8
}

BOOST_AUTO_TEST_CASE(only_a_prompt_without_escapes_is_json_safe) {
  run::job_line out;
  std::string unescaped;
  BOOST_TEST_REQUIRE(read("{\"prompt\":\"caf\xC3\xA9\"}", out, unescaped));
  BOOST_TEST(out.prompt_json_safe);
  BOOST_TEST_REQUIRE(read(R"({"prompt":"a \"b\""})", out, unescaped));
  BOOST_TEST(!out.prompt_json_safe);  // unescaped, it holds quotes
  // A tab between members: the prompt could go as it is, but the flag is the whole line's.
  BOOST_TEST_REQUIRE(read("{\"prompt\":\"x\",\t\"custom_id\":\"c\"}", out, unescaped));
  BOOST_TEST(out.prompt == "x");
  BOOST_TEST(!out.prompt_json_safe);
}

BOOST_AUTO_TEST_CASE(leaves_every_other_line_to_the_full_parser) {
  BOOST_TEST(!plain(R"({"custom_id":"a"})"));                     // no prompt
  BOOST_TEST(!plain(R"({"custom_id":"a","prompt":"\ud800"})"));   // a lone surrogate
  BOOST_TEST(!plain(R"({"custom_id":"a\u0041","prompt":"x"})"));  // an escape in the id
  BOOST_TEST(!plain("{\"prompt\":\"a\tb\"}"));                    // a raw control byte
  BOOST_TEST(!plain("{\"prompt\":\"\xC3\"}"));                    // cut UTF-8
  BOOST_TEST(!plain("{\"prompt\":\"\xED\xA0\x80\"}"));            // a surrogate
  BOOST_TEST(!plain(R"({"custom_id":7,"prompt":"x"})"));          // a number id
  BOOST_TEST(!plain(R"({"prompt":"x","max_tokens":3})"));         // an override
  BOOST_TEST(!plain(R"({"prompt":"x","model":"m"})"));            // a string override
  BOOST_TEST(!plain(R"({"prompt":"x","prompt":"y"})"));           // a repeated member
  BOOST_TEST(!plain(R"({"custom_id":"a","custom_id":"b","prompt":"y"})"));
  BOOST_TEST(!plain(R"({"prompt":"x",})"));   // a trailing comma
  BOOST_TEST(!plain(R"({"prompt":"x"} x)"));  // content after the object
  BOOST_TEST(!plain(R"({"prompt":"x"}{})"));
  BOOST_TEST(!plain(R"({"prompt":"x")"));  // cut short
  BOOST_TEST(!plain(R"({"prompt":"x)"));
  BOOST_TEST(!plain(R"({"prompt" "x"})"));  // no colon
  BOOST_TEST(!plain(R"({"messages":[]})"));
  BOOST_TEST(!plain(R"(["prompt","x"])"));
  BOOST_TEST(!plain(""));
  BOOST_TEST(!plain("{}"));
}

// The job relies on this: a line decodes the same whichever path reads it.
BOOST_AUTO_TEST_CASE(decodes_as_the_full_parser_does) {
  run::line_parser fast(run::line_parser::plain_path::on);
  run::line_parser full(run::line_parser::plain_path::off);
  const std::vector<std::string> lines = {
      R"({"custom_id":"req-1","prompt":"The capital is"})",
      R"({"prompt":"no id"})",
      " {\t\"prompt\" : \"p\" ,\r\"custom_id\":\"c\" }\r",
      R"({"custom_id":"","prompt":""})",
      "{\"prompt\":\"caf\xC3\xA9\"}",
      "{\"prompt\":\"\xC3\"}",
      "{\"prompt\":\"\xF4\x90\x80\x80\"}",
      "{\"prompt\":\"a\x01\"}",
      R"({"prompt":"x","prompt":"y"})",
      R"({"custom_id":"a","custom_id":"b","prompt":"y"})",
      R"({"prompt":"x"} x)",
      R"({"prompt":"x",})",
      R"({"prompt":"x")",
      R"({"custom_id":7,"prompt":"x"})",
      R"({"custom_id":"a","prompt":"x\"y"})",
      R"({"custom_id":"a","prompt":"line 1\nline 2 \u00e9 \/ \\"})",
      R"({"prompt":"\ud83d\ude00","custom_id":"b"})",
      R"({"prompt":"\ud83d"})",
      R"({"prompt":"\q"})",
      // The two layouts read by the shortcut, and lines that look like them but are not.
      R"({"custom_id": "req-2", "prompt": "json.dumps writes this"})",
      R"({"custom_id":"","prompt":""})",
      R"({"custom_id":"a","prompt":"}"})",
      R"({"custom_id":"a","prompt":"x"}"})",
      R"({"custom_id":"a","prompt":"x"} )",
      R"({"custom_id":"a" ,"prompt":"x"})",
      R"({"custom_id":"a","prompt":"x","prompt":"y"})",
      R"({"custom_id":"a","prompt":"x","max_tokens":3})",
      R"({"custom_id":"a","prompt":"})",
      R"({"custom_id":"a","prompt":")",
      R"({"custom_id":"a","prompt")",
      R"({"custom_id":"a)",
      R"({"custom_id": "a","prompt":"x"})",
      "{\"custom_id\":\"a\",\"prompt\":\"caf\xC3\xA9\"}",
      "{\"custom_id\":\"a\",\"prompt\":\"\xC3\"}",
      "{\"custom_id\":\"\xC3\xA9\",\"prompt\":\"x\"}",
  };
  for (const auto& line : lines) BOOST_TEST(decoded(fast, line) == decoded(full, line), line);
}

BOOST_AUTO_TEST_SUITE_END()
