// Tests for the plain-answer fast path: what it reads, what it leaves to simdjson, and that the
// response parser gives the same result with and without it.
#include "protocol/plain_response.hpp"

#include <promptpack/protocol/json_text.hpp>
#include <promptpack/protocol/response_parser.hpp>

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using promptpack::response_parser;
using promptpack::detail::read_plain_response;
using promptpack::detail::response_entry;

bool plain(std::string_view body) {
  std::vector<response_entry> entries;
  std::vector<std::string_view> outputs;
  std::string unescaped;
  bool json_safe = true;
  const bool read = read_plain_response(body, entries, outputs, unescaped, json_safe);
  if (!read) BOOST_TEST(!json_safe, "a body left to simdjson promised safe outputs: " << body);
  if (!read) BOOST_TEST((entries.empty() && outputs.empty()), "left entries behind: " << body);
  return read;
}

// What a parser makes of a body, as one comparable text.
std::string parsed(response_parser& parser, std::string body,
                   const std::vector<std::string_view>& prompts) {
  const auto& result = parser.parse(body, prompts);
  std::string text =
      std::to_string(int(result.status)) + "|" + result.message + "|" + result.unanswered_reason;
  for (std::size_t i = 0; i < result.answers.size(); ++i) {
    text += "|";
    if (!result.answers[i].answered) continue;
    for (auto output : result.outputs_of(i)) text.append(output).append(";");
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plain_response)

BOOST_AUTO_TEST_CASE(reads_the_protocols_answers) {
  std::vector<response_entry> entries;
  std::vector<std::string_view> outputs;
  std::string unescaped;
  const std::string body =
      R"({"data": [{"prompt": "p1", "output": ["a", "b"], "params": {"temperature": 0.7,)"
      R"( "top_k": 40, "top_p": 1, "stop": ["x"], "seed": null, "n": -1.5e+3, "s": true}},)"
      " {\"output\":[]}, {\"output\":[\"caf\xC3\xA9\"],\"prompt\":\"p3\"}], \"message\": \"ok\"}";
  bool json_safe = false;
  BOOST_TEST_REQUIRE(read_plain_response(body, entries, outputs, unescaped, json_safe));
  BOOST_TEST(json_safe);  // no escape and no control byte anywhere: outputs copy as they are
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(entries[0].has_echo);
  BOOST_TEST(entries[0].echo == "p1");
  BOOST_TEST(entries[0].output_count == 2u);
  BOOST_TEST(!entries[1].has_echo);
  BOOST_TEST(entries[1].output_count == 0u);
  BOOST_TEST(entries[2].first_output == 2u);
  BOOST_TEST(entries[2].echo == "p3");
  BOOST_TEST_REQUIRE(outputs.size() == 3u);
  BOOST_TEST(outputs[0] == "a");
  BOOST_TEST(outputs[1] == "b");
  BOOST_TEST(outputs[2] == "caf\xC3\xA9");

  BOOST_TEST(plain(R"({"message":"ok","data":[]})"));
  BOOST_TEST(plain(R"({"data":[{"output":["x"]}]})"));  // "message" may be left out
  BOOST_TEST(plain(R"({"id":7,"data":[{"output":["x"]}],"usage":{"a":[1,{"b":[]}]}})"));
  BOOST_TEST(plain("{\"data\":[\n\t{\"output\":[\"a\"]}\r\n]}"));  // pretty-printed
}

// Outputs and echoes with escapes are unescaped on the way; anything a parser could read another
// way is left to simdjson.
BOOST_AUTO_TEST_CASE(unescapes_outputs_and_echoes) {
  std::vector<response_entry> entries;
  std::vector<std::string_view> outputs;
  std::string unescaped;
  const std::string body =
      R"({"data":[{"prompt":"p\"1\"","output":["line 1\nline 2\ttab \\ \/ \b\f\r"]},)"
      R"({"prompt":"p2","output":["caf\u00e9 \u20AC \ud83d\ude00 \u0041"]},)"
      R"({"prompt":"p3","output":["plain"]},{"prompt":"p4","output":["plain too"]},)"
      R"({"prompt":"p5","output":["x\ty"]},{"prompt":"p\u0036","output":["z"]}]})";
  bool json_safe = true;
  BOOST_TEST_REQUIRE(read_plain_response(body, entries, outputs, unescaped, json_safe));
  BOOST_TEST(!json_safe);
  BOOST_TEST_REQUIRE(entries.size() == 6u);
  // The last two repeat the shape learned from the third, with escaped values.
  BOOST_TEST(entries[4].echo == "p5");
  BOOST_TEST(entries[5].echo == "p6");
  BOOST_TEST(entries[0].echo == "p\"1\"");
  BOOST_TEST(entries[1].echo == "p2");
  BOOST_TEST(entries[3].echo == "p4");
  BOOST_TEST_REQUIRE(outputs.size() == 6u);
  BOOST_TEST(outputs[4] == "x\ty");
  BOOST_TEST(outputs[5] == "z");
  BOOST_TEST(outputs[0] == "line 1\nline 2\ttab \\ / \b\f\r");
  BOOST_TEST(outputs[1] == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 A");
  BOOST_TEST(outputs[2] == "plain");
  BOOST_TEST(outputs[3] == "plain too");

  BOOST_TEST(!plain(R"({"data":[{"output":["\ud83d"]}]})"));        // a lone high surrogate
  BOOST_TEST(!plain(R"({"data":[{"output":["\ude00"]}]})"));        // a lone low surrogate
  BOOST_TEST(!plain(R"({"data":[{"output":["\ud83d\u0041"]}]})"));  // high, then not low
  BOOST_TEST(!plain(R"({"data":[{"output":["\x41"]}]})"));          // no such escape
  BOOST_TEST(!plain(R"({"data":[{"output":["\u00g1"]}]})"));        // not hex
  BOOST_TEST(!plain(R"({"data":[{"output":["\u00"]}]})"));          // cut short
  BOOST_TEST(!plain(R"({"data":[{"output":["a\"]}]})"));            // escapes its closing quote
  BOOST_TEST(!plain("{\"data\":[{\"output\":[\"a\\n\x01\"]}]}"));   // a raw control byte
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"stop":["\n"]}}]})"));  // skipped
  BOOST_TEST(!plain(R"({"data":[{"out\u0070ut":["a"]}]})"));                      // an escaped name
}

BOOST_AUTO_TEST_CASE(leaves_every_other_body_to_simdjson) {
  BOOST_TEST(!plain("{\"data\":[{\"output\":[\"a\tb\"]}]}"));           // a raw control byte
  BOOST_TEST(!plain("{\"data\":[{\"output\":[\"\xC3\"]}]}"));           // cut UTF-8
  BOOST_TEST(!plain(R"({"data":[{"output":"x"}]})"));                   // a bare string output
  BOOST_TEST(!plain(R"({"data":[{"output":[1]}]})"));                   // not a string
  BOOST_TEST(!plain(R"({"data":[{"prompt":"p"}]})"));                   // no output
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"output":["b"]}]})"));  // repeated
  BOOST_TEST(!plain(R"({"data":[],"data":[]})"));
  BOOST_TEST(!plain(R"({"data":[],"message":"overloaded"})"));  // an endpoint error
  BOOST_TEST(!plain(R"({"message":"ok"})"));                    // no data
  BOOST_TEST(!plain(R"({"data":null,"message":"ok"})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]}]} {})"));                 // trailing content
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]},]})"));                   // a trailing comma
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]}])"));                     // cut short
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"t":01}}]})"));  // not a JSON number
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"t":.5}}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"t":1.}}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"t":tru}}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"params":{"t":nullx}}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"],"x":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}]})"));
  BOOST_TEST(!plain(""));
  BOOST_TEST(!plain("[]"));
}

// Entries after the first that repeat its bytes around the values are read by shape; any entry
// that differs anywhere else is read token by token, and the results are the same.
BOOST_AUTO_TEST_CASE(reads_repeated_entries_by_their_shape) {
  std::vector<response_entry> entries;
  std::vector<std::string_view> outputs;
  std::string unescaped;
  const std::string body =
      R"({"data": [{"prompt": "p1", "output": ["a"]}, {"prompt": "", "output": ["bb"]},)"
      R"( {"prompt": "p3", "output": ["c", "d"]}, {"output": ["e"], "prompt": "p4"},)"
      R"( {"output": ["f"], "prompt": "p5"},{"prompt": "p6", "output": ["g"]} ,)"
      R"( {"prompt": "p7", "output": ["h"], "n": 1}, {"prompt": "p8", "output": ["i"], "n": 2}],)"
      R"( "message": "ok"})";
  bool json_safe = false;
  BOOST_TEST_REQUIRE(read_plain_response(body, entries, outputs, unescaped, json_safe));
  BOOST_TEST(json_safe);
  BOOST_TEST_REQUIRE(entries.size() == 8u);
  const std::vector<std::string_view> echoes = {"p1", "", "p3", "p4", "p5", "p6", "p7", "p8"};
  const std::vector<std::uint32_t> counts = {1, 1, 2, 1, 1, 1, 1, 1};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    BOOST_TEST(entries[i].has_echo);
    BOOST_TEST(entries[i].echo == echoes[i]);
    BOOST_TEST(entries[i].output_count == counts[i]);
  }
  BOOST_TEST_REQUIRE(outputs.size() == 9u);
  const std::vector<std::string_view> texts = {"a", "bb", "c", "d", "e", "f", "g", "h", "i"};
  for (std::size_t i = 0; i < outputs.size(); ++i) BOOST_TEST(outputs[i] == texts[i]);

  // A value that holds the next gap's bytes cannot pass: it ends at its first quote.
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]},{"output":["a"]}"]}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]},{"output":["a","b"],"output":["c"]}]})"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]},{"output":["a"]])"));
  BOOST_TEST(!plain(R"({"data":[{"output":["a"]},{"output":["a)"));
  BOOST_TEST(!plain("{\"data\":[{\"output\":[\"a\"]},{\"output\":[\"\xC3\"]}]}"));
}

// The engine relies on this: an answer means the same whichever path reads it.
BOOST_AUTO_TEST_CASE(parses_as_simdjson_does) {
  response_parser fast(response_parser::plain_path::on);
  response_parser full(response_parser::plain_path::off);
  const std::vector<std::string_view> prompts = {"p1", "p2", "p1"};
  const std::vector<std::string> bodies = {
      R"({"data":[{"prompt":"p1","output":["a"]},{"prompt":"p2","output":["b"]},)"
      R"({"prompt":"p1","output":["c"]}],"message":"ok"})",
      R"({"data":[{"prompt":"p2","output":["b"]},{"prompt":"p1","output":["a"]}]})",
      R"({"data":[{"output":["a"]},{"output":[]},{"output":["c","d"]}],"message":"ok"})",
      R"({"data":[{"output":["a"]},{"output":["b"]},{"output":["c"]},{"output":["d"]}]})",
      R"({"data":[{"prompt":"zz","output":["a"]}],"message":"ok"})",
      R"({"data":[{"output":["a"],"params":{"temperature":0.7,"top_k":40}}],"message":"ok"})",
      R"({"data":[{"output":["a\nb"]}]})",
      R"({"data":[{"output":["a"]}]} x)",
      R"({"data":[{"output":["a"]}],"message":"busy"})",
      R"({"data":[{"prompt":"p1","output":["a"]},{"prompt":"p2","output":["b"]},)"
      R"({"output":["c"],"prompt":"p1"}]})",
      R"({"data":[{"prompt":"p1","output":["a"]},{"prompt":"p1","output":["b"]},)"
      R"({"prompt":"p2","output":["c"]}]})",
      R"({"data":[{"output":["a"]},{"output":["a","b"]},{"output":["c"]}]})",
      R"({"data":[{"prompt":"p1","output":["a\nb"]},{"prompt":"p2","output":["c"]},)"
      R"({"prompt":"p1","output":["\u00e9\"q\""]}]})",
      R"({"data":[{"prompt":"p\u0031","output":["a"]},{"prompt":"p2","output":["b"]}]})",
  };
  for (const auto& body : bodies)
    BOOST_TEST(parsed(fast, body, prompts) == parsed(full, body, prompts), body);
}

// Many entries in a row are read by shape, one loop for the whole run: bodies
// built from random entries, spacings and faults must read exactly as simdjson reads them.
BOOST_AUTO_TEST_CASE(reads_random_runs_of_entries_as_simdjson_does) {
  std::mt19937 random(11);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  response_parser fast(response_parser::plain_path::on);
  response_parser full(response_parser::plain_path::off);
  // JSON texts of values: plain ones (one not ASCII), and ones with JSON escapes.
  const std::vector<std::string> plain_texts = {
      "a", "", "p1", "a much longer output text, " + std::string(40, 'x'), "\xC3\xA9t\xC3\xA9"};
  const std::vector<std::string> escaped_texts = {R"(caf\u00e9)", R"(tab\there)", R"(\"q\")",
                                                  R"(\ud83d\ude00)"};
  // Mostly the body's own spacing, so that runs are long, and now and then another; a newline
  // makes the body not clean (a control byte), which takes the general loop.
  const std::vector<std::string> spacings = {"", " ", "\n  "};
  std::size_t read_plain = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string& usual = spacings[pick(spacings.size())];
    const auto space = [&]() -> const std::string& {
      return pick(20) == 0 ? spacings[pick(2)] : usual;
    };
    const auto colon = [&] { return ":" + space(); };
    const auto comma = [&] { return "," + space(); };
    const bool escapes = pick(3) == 0;
    const auto text = [&] {
      if (escapes && pick(12) == 0) return escaped_texts[pick(escaped_texts.size())];
      return plain_texts[pick(plain_texts.size())] + std::to_string(pick(100));
    };
    const bool echo = pick(2) == 0;
    const std::size_t entries = pick(40);
    std::vector<std::string> prompts;
    std::string body = "{\"data\"" + colon() + "[";
    for (std::size_t i = 0; i < entries; ++i) {
      if (i > 0) body += comma();
      // Appended, not "p" + std::to_string(): g++ 12 warns falsely of an oversized memcpy there.
      std::string prompt = "p";
      prompt += std::to_string(pick(3));
      prompts.push_back(prompt);
      std::string outputs = "[";
      const std::size_t count = pick(8) == 0 ? pick(4) : 1;
      for (std::size_t o = 0; o < count; ++o) outputs += (o ? comma() : "") + "\"" + text() + "\"";
      outputs += "]";
      std::string entry = "{";
      const bool echo_first = pick(10) != 0;
      const std::string echo_member = "\"prompt\"" + colon() + "\"" + prompt + "\"";
      const std::string output_member = "\"output\"" + colon() + outputs;
      if (echo && echo_first) entry += echo_member + comma();
      entry += output_member;
      if (echo && !echo_first) entry += comma() + echo_member;
      if (pick(30) == 0) entry += comma() + "\"n\"" + colon() + "1";
      entry += "}";
      body += entry;
    }
    body += "]" + comma() + "\"message\"" + colon() + "\"ok\"}";
    // Faults: a byte changed, dropped or added anywhere.
    const std::string faults = "\"{}[],:x \\";
    const std::size_t fault = pick(4);
    if (fault == 1) body[pick(body.size())] = faults[pick(faults.size())];
    if (fault == 2) body.erase(pick(body.size()), 1);
    if (fault == 3) body.insert(pick(body.size() + 1), 1, faults[pick(faults.size())]);
    // Untouched, the body is valid and of the usual shape: the fast path must read it itself.
    if (fault == 0) {
      BOOST_TEST_REQUIRE(plain(body), body);
      ++read_plain;
    }
    if (pick(8) == 0 && !prompts.empty()) prompts.pop_back();  // one answer too many
    const std::vector<std::string_view> sent(prompts.begin(), prompts.end());
    BOOST_TEST_REQUIRE(parsed(fast, body, sent) == parsed(full, body, sent), body);
  }
  BOOST_TEST(read_plain > 500u);
}

BOOST_AUTO_TEST_CASE(promises_json_safe_outputs_only_when_they_are) {
  response_parser fast(response_parser::plain_path::on);
  response_parser full(response_parser::plain_path::off);
  const std::vector<std::string_view> prompts = {"p1", "p2"};
  const auto safe = [&](response_parser& parser, std::string body) {
    const auto& result = parser.parse(body, prompts);
    if (result.outputs_json_safe) {
      // The promise itself: every output is its JSON text between quotes.
      for (const auto output : result.outputs) {
        BOOST_TEST(promptpack::json_unescaped_prefix(output) == output.size(), output);
      }
    }
    return result.outputs_json_safe;
  };
  const std::string clean =
      "{\"data\":[{\"output\":[\"a b\"]},{\"output\":[\"caf\xC3\xA9\", \"\"]}]}";
  BOOST_TEST(safe(fast, clean));
  BOOST_TEST(!safe(full, clean));  // simdjson's path promises nothing
  BOOST_TEST(!safe(fast, R"({"data":[{"output":["a\nb"]},{"output":["c"]}]})"));
  BOOST_TEST(!safe(fast, R"({"data":[{"output":["a"]},{"output":["\"q\""]}]})"));
  BOOST_TEST(!safe(fast, "{\"data\":[{\"output\":[\"a\"]},\n{\"output\":[\"b\"]}]}"));
  BOOST_TEST(!safe(fast, R"({"data":[{"output":["a"]}]} x)"));  // refused: no promise either
  // A parser reused after a clean answer does not carry its promise over.
  BOOST_TEST(safe(fast, clean));
  BOOST_TEST(!safe(fast, R"({"data":[{"output":["\u0041"]},{"output":["b"]}]})"));
}

BOOST_AUTO_TEST_SUITE_END()
