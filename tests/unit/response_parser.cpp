// Tests for the response parser: PROTOCOL.md section 1's rules for answers, and hostile bytes.
#include <promptpack/protocol/response_parser.hpp>

#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack {
// Lets BOOST_TEST print a status that differs from the expected one.
std::ostream& boost_test_print_type(std::ostream& out, response_status status) {
  switch (status) {
    case response_status::ok:
      return out << "ok";
    case response_status::endpoint_error:
      return out << "endpoint_error";
    case response_status::protocol_error:
      return out << "protocol_error";
  }
  return out << "unknown";
}
}  // namespace promptpack

namespace {

using promptpack::parsed_response;
using promptpack::response_status;

using prompt_list = std::vector<std::string_view>;

struct parser_fixture {
  promptpack::response_parser parser;
  std::string body;

  const parsed_response& parse(std::string text, const prompt_list& prompts) {
    body = std::move(text);
    return parser.parse(body, prompts);
  }
};

// {"prompt":ECHO,"output":[OUTPUTS...]}, without the prompt when echo is empty.
std::string entry(std::string_view echo, const std::vector<std::string_view>& outputs) {
  std::string out = "{";
  if (!echo.empty()) out.append("\"prompt\":\"").append(echo).append("\",");
  out += "\"output\":[";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    out.append(i > 0 ? ",\"" : "\"").append(outputs[i]).append("\"");
  }
  return out + "],\"params\":{\"temperature\":0.7,\"top_k\":40,\"top_p\":1}}";
}

std::string ok_body(const std::vector<std::string>& entries) {
  std::string out = "{\"data\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += entries[i];
  }
  return out + "],\"message\":\"ok\"}";
}

std::vector<std::string> outputs_of(const parsed_response& result, std::size_t prompt) {
  BOOST_TEST_REQUIRE(result.answers[prompt].answered);
  const auto outputs = result.outputs_of(prompt);
  return {outputs.begin(), outputs.end()};
}

using strings = std::vector<std::string>;

void check_protocol_error(parser_fixture& f, std::string body, const prompt_list& prompts,
                          std::string_view message_start) {
  const std::string shown = body.size() > 80 ? body.substr(0, 80) + "..." : body;
  const auto& result = f.parse(std::move(body), prompts);
  BOOST_TEST(result.status == response_status::protocol_error, "body: " << shown);
  BOOST_TEST(result.message.starts_with(message_start),
             "body: " << shown << " message: " << result.message);
  for (const auto& answer : result.answers) BOOST_TEST(!answer.answered);
  BOOST_TEST(result.answers.size() == prompts.size());
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(response_parser, parser_fixture)

BOOST_AUTO_TEST_CASE(answers_in_order) {
  const auto& result =
      parse(ok_body({entry("p1", {"a"}), entry("p2", {"b"})}), prompt_list{"p1", "p2"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"a"});
  BOOST_TEST(outputs_of(result, 1) == strings{"b"});
  BOOST_TEST(result.unanswered_reason.empty());
}

BOOST_AUTO_TEST_CASE(answers_without_echo_are_positional) {
  const auto& result = parse(ok_body({entry("", {"a"}), entry("", {"b"})}), prompt_list{"x", "y"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"a"});
  BOOST_TEST(outputs_of(result, 1) == strings{"b"});
}

BOOST_AUTO_TEST_CASE(reordered_echoes_are_matched_by_text) {
  const auto& result = parse(ok_body({entry("c", {"C"}), entry("a", {"A"}), entry("b", {"B"})}),
                             prompt_list{"a", "b", "c"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"A"});
  BOOST_TEST(outputs_of(result, 1) == strings{"B"});
  BOOST_TEST(outputs_of(result, 2) == strings{"C"});
}

BOOST_AUTO_TEST_CASE(identical_prompts_are_matched_in_order) {
  const auto& result = parse(ok_body({entry("y", {"Y"}), entry("x", {"X1"}), entry("x", {"X2"})}),
                             prompt_list{"x", "y", "x"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"X1"});
  BOOST_TEST(outputs_of(result, 1) == strings{"Y"});
  BOOST_TEST(outputs_of(result, 2) == strings{"X2"});
}

BOOST_AUTO_TEST_CASE(multiple_outputs_are_kept) {
  const auto& result =
      parse(ok_body({entry("p", {"a", "b", "c"}), entry("q", {"d"})}), prompt_list{"p", "q"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == (strings{"a", "b", "c"}));
  BOOST_TEST(outputs_of(result, 1) == strings{"d"});
}

BOOST_AUTO_TEST_CASE(a_bare_string_output_is_one_output) {
  const auto& result = parse(R"({"data":[{"output":"only"}],"message":"ok"})", prompt_list{"p"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"only"});
}

BOOST_AUTO_TEST_CASE(fields_in_any_order_and_unknown_fields_are_skipped) {
  const auto& result = parse(
      R"({"id":[1,{"x":null}],"message":"ok","usage":null,"data":[)"
      R"({"params":[true,{"a":"b"}],"output":["a"],"extra":1.5e300,"prompt":"p"}],"z":"last"})",
      prompt_list{"p"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok, result.message);
  BOOST_TEST(outputs_of(result, 0) == strings{"a"});
}

BOOST_AUTO_TEST_CASE(message_other_than_ok_is_an_endpoint_error) {
  const auto& result =
      parse(R"({"data":[{"prompt":"p","output":["a"]}],"message":"overloaded"})", prompt_list{"p"});
  BOOST_TEST(result.status == response_status::endpoint_error);
  BOOST_TEST(result.message == "overloaded");
  BOOST_TEST(!result.answers[0].answered);

  // Whatever "data" holds, and wherever the message is, the endpoint's message wins.
  for (const char* text :
       {R"({"data":null,"message":"model is loading"})",
        R"({"message":"model is loading","data":[5]})", R"({"message":"model is loading"})"}) {
    const auto& other = parse(text, prompt_list{"p"});
    BOOST_TEST(other.status == response_status::endpoint_error, text);
    BOOST_TEST(other.message == "model is loading", text);
  }
  BOOST_TEST(parse(R"({"message":""})", prompt_list{"p"}).message.find("empty") !=
             std::string::npos);

  // A huge message is cut, on a UTF-8 boundary.
  const std::string huge(5000, 'e');
  const auto& cut = parse("{\"message\":\"\xc3\xa9" + huge + "\"}", prompt_list{"p"});
  BOOST_TEST(cut.status == response_status::endpoint_error);
  BOOST_TEST(cut.message.size() < 1100u);
  BOOST_TEST(
      cut.message.starts_with("\xc3\xa9"
                              "eee"));
}

BOOST_AUTO_TEST_CASE(missing_message_is_accepted) {
  const auto& result = parse(R"({"data":[{"output":["a"]}]})", prompt_list{"p"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"a"});
}

BOOST_AUTO_TEST_CASE(missing_data_is_a_protocol_error) {
  check_protocol_error(*this, R"({"message":"ok"})", prompt_list{"p"},
                       R"(response has "message":"ok" but no "data")");
  check_protocol_error(*this, "{}", prompt_list{"p"}, "response has neither");
}

BOOST_AUTO_TEST_CASE(short_data_answers_the_matched_prompts) {
  const prompt_list prompts{"p0", "p1", "p2", "p3", "p4"};
  const auto& result =
      parse(ok_body({entry("", {"a"}), entry("", {"b"}), entry("", {"c"})}), prompts);
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 2) == strings{"c"});
  BOOST_TEST(!result.answers[3].answered);
  BOOST_TEST(!result.answers[4].answered);
  BOOST_TEST(result.outputs_of(4).empty());
  BOOST_TEST(result.unanswered_reason ==
             "endpoint answered 3 of 5 prompts in data; this prompt got no entry");

  // With echoes out of order, the short answer is matched by text.
  const auto& echoed = parse(ok_body({entry("p3", {"d"}), entry("p0", {"a"})}), prompts);
  BOOST_TEST_REQUIRE(echoed.status == response_status::ok);
  BOOST_TEST(outputs_of(echoed, 0) == strings{"a"});
  BOOST_TEST(outputs_of(echoed, 3) == strings{"d"});
  BOOST_TEST(!echoed.answers[1].answered);
  BOOST_TEST(echoed.unanswered_reason.starts_with("endpoint answered 2 of 5"));

  // An empty "data" answers nothing, and says so.
  const auto& empty = parse(R"({"data":[],"message":"ok"})", prompts);
  BOOST_TEST(empty.status == response_status::ok);
  BOOST_TEST(!empty.answers[0].answered);
  BOOST_TEST(empty.unanswered_reason.starts_with("endpoint answered 0 of 5"));
}

BOOST_AUTO_TEST_CASE(an_empty_output_fails_only_its_own_prompt) {
  const prompt_list prompts{"p0", "p1", "p2"};
  const auto& result =
      parse(ok_body({entry("p0", {"a"}), entry("p1", {}), entry("p2", {"c"})}), prompts);
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(outputs_of(result, 0) == strings{"a"});
  BOOST_TEST(!result.answers[1].answered);
  BOOST_TEST(outputs_of(result, 2) == strings{"c"});
  BOOST_TEST(result.unanswered_reason == R"(data[1] has an empty "output" array)");

  // Matched by text, and together with a short "data": both reasons are given.
  const auto& mixed = parse(ok_body({entry("p2", {}), entry("p0", {"a"})}), prompts);
  BOOST_TEST_REQUIRE(mixed.status == response_status::ok);
  BOOST_TEST(outputs_of(mixed, 0) == strings{"a"});
  BOOST_TEST(!mixed.answers[1].answered);
  BOOST_TEST(!mixed.answers[2].answered);
  BOOST_TEST(mixed.unanswered_reason ==
             "endpoint answered 2 of 3 prompts in data; this prompt got no entry, or data[0] has "
             R"(an empty "output" array)");
}

BOOST_AUTO_TEST_CASE(long_data_without_echoes_is_a_protocol_error) {
  check_protocol_error(*this, ok_body({entry("", {"a"}), entry("", {"b"}), entry("", {"c"})}),
                       prompt_list{"p", "q"}, "data has 3 entries for 2 prompts");
  // One entry without an echo is enough to make matching by text impossible.
  check_protocol_error(*this, ok_body({entry("p", {"a"}), entry("", {"b"}), entry("q", {"c"})}),
                       prompt_list{"p", "q"}, "data has 3 entries for 2 prompts");
}

BOOST_AUTO_TEST_CASE(unmatched_echoes_are_a_protocol_error) {
  // Longer than the prompts: one echo cannot find a prompt.
  check_protocol_error(*this, ok_body({entry("p", {"a"}), entry("q", {"b"}), entry("p", {"c"})}),
                       prompt_list{"p", "q"},
                       "endpoint answered a prompt that was not sent (data[2].prompt");
  // Same length, but an echo that was never sent.
  check_protocol_error(*this, ok_body({entry("q", {"a"}), entry("P", {"b"})}),
                       prompt_list{"p", "q"},
                       "endpoint answered a prompt that was not sent (data[1].prompt");
}

BOOST_AUTO_TEST_CASE(escapes_decode_exactly) {
  const auto& result = parse(
      R"({"d\u0061ta":[{"output":["\ud83d\ude00","\u00e9\u20ac","a\/b","\"\\\b\f\n\r\t","\u0000"],)"
      R"("prompt":"caf\u00e9"}]})",
      prompt_list{"caf\xc3\xa9"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok, result.message);
  BOOST_TEST(outputs_of(result, 0) == (strings{"\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac", "a/b",
                                               "\"\\\b\f\n\r\t", std::string(1, '\0')}));
}

BOOST_AUTO_TEST_CASE(wrong_shapes_are_protocol_errors) {
  const prompt_list p{"p"};
  check_protocol_error(*this, R"([{"output":["a"]}])", p,
                       "response is an array, not a JSON object");
  check_protocol_error(*this, R"("ok")", p, "response is a string, not a JSON object");
  check_protocol_error(*this, "42", p, "response is a number");
  check_protocol_error(*this, "null", p, "response is null");
  check_protocol_error(*this, R"({"data":{"output":["a"]}})", p, R"(response "data" is an object)");
  check_protocol_error(*this, R"({"data":"a"})", p, R"(response "data" is a string)");
  check_protocol_error(*this, R"({"data":[5]})", p, "data[0] is a number, not an object");
  check_protocol_error(*this, R"({"data":[{"output":["a"]},{"prompt":"p"}]})", p,
                       R"(data[1] has no "output")");
  check_protocol_error(*this, R"({"data":[{"output":null}]})", p, "data[0].output is null");
  check_protocol_error(*this, R"({"data":[{"output":["a",7]}]})", p,
                       "data[0].output[1] is a number");
  check_protocol_error(*this, R"({"data":[{"output":["a"],"prompt":7}]})", p,
                       "data[0].prompt is a number");
  check_protocol_error(*this, R"({"data":[{"output":["a"],"output":["b"]}]})", p,
                       R"(data[0] has two "output" fields)");
  check_protocol_error(*this, R"({"data":[],"data":[{"output":["a"]}]})", p,
                       R"(response has two "data" fields)");
  check_protocol_error(*this, R"({"data":[{"output":["a"]}],"message":7})", p,
                       R"(response "message" is a number)");
  // The complaint says what a conforming endpoint sends.
  BOOST_TEST(parse(R"({"data":[5]})", p).message.find("the endpoint must answer {\"data\":[") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_a_protocol_error) {
  const std::string full = ok_body({entry("p", {"a\\n\\u00e9"}), entry("q", {"b", "c"})});
  for (std::size_t size = 0; size < full.size(); ++size) {
    const auto& result = parse(full.substr(0, size), prompt_list{"p", "q"});
    BOOST_TEST(result.status == response_status::protocol_error, "prefix " << size);
  }
  BOOST_TEST(parse(full, prompt_list{"p", "q"}).status == response_status::ok);
  check_protocol_error(*this, full.substr(0, full.size() / 2), prompt_list{"p", "q"},
                       "response is not valid JSON (");
  check_protocol_error(*this, "", prompt_list{"p"}, "response body is empty");
  check_protocol_error(*this, " \n ", prompt_list{"p"}, "response is not valid JSON (");
}

BOOST_AUTO_TEST_CASE(trailing_content_is_a_protocol_error) {
  const std::string good = R"({"data":[{"output":["a"]}]})";
  for (const std::string& tail : std::vector<std::string>{
           " x", " {}", "}", "]", " 1", " \"s\"", "{\"data\":[]}", std::string(1, '\0'), "\xff"}) {
    const auto& result = parse(good + tail, prompt_list{"p"});
    BOOST_TEST(result.status == response_status::protocol_error, "tail " << tail);
  }
  check_protocol_error(*this, good + " {\"a\":1}", prompt_list{"p"},
                       "response has trailing content after the JSON object, at byte 28");
  BOOST_TEST(parse(good + " \r\n\t", prompt_list{"p"}).status == response_status::ok);
}

BOOST_AUTO_TEST_CASE(deep_nesting_never_crashes) {
  constexpr std::size_t depth = 100'000;
  const std::string open(depth, '['), close(depth, ']');
  const std::string deep = open + close;
  const prompt_list p{"p"};
  // At the root, inside "data" and inside "output": the wrong shape.
  check_protocol_error(*this, deep, p, "response is an array");
  check_protocol_error(*this, "{\"data\":" + deep + "}", p, "data[0] is an array");
  check_protocol_error(*this, "{\"data\":[{\"output\":" + deep + "}]}", p,
                       "data[0].output[0] is an array");
  // Unbalanced: not JSON.
  check_protocol_error(*this, "{\"data\":" + open + "}", p, "response is not valid JSON (");
  check_protocol_error(*this, "{\"x\":" + open + "}", p, "response is not valid JSON (");
  // Inside fields that are skipped, deep but well-formed nesting is harmless and ignored.
  const auto& skipped =
      parse("{\"x\":" + deep + ",\"data\":[{\"params\":" + deep + ",\"output\":[\"a\"]}]}", p);
  BOOST_TEST_REQUIRE(skipped.status == response_status::ok, skipped.message);
  BOOST_TEST(outputs_of(skipped, 0) == strings{"a"});
}

BOOST_AUTO_TEST_CASE(huge_strings_are_read_whole) {
  const std::string huge(10'000'000, 'x');
  const auto& result = parse(R"({"data":[{"output":[")" + huge + R"("]}]})", prompt_list{"p"});
  BOOST_TEST_REQUIRE(result.status == response_status::ok);
  BOOST_TEST(result.outputs_of(0)[0] == huge);
  check_protocol_error(*this, R"({"data":[{"output":[")" + huge + R"(\q"]}]})", prompt_list{"p"},
                       "response is not valid JSON (");
  check_protocol_error(*this, R"({"data":[{"output":[")" + huge, prompt_list{"p"},
                       "response is not valid JSON (");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_nul_bytes_and_bad_escapes_are_protocol_errors) {
  const prompt_list p{"p"};
  for (std::string bad : {"\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf"}) {
    check_protocol_error(*this, R"({"data":[{"output":[")" + bad + R"("]}]})", p,
                         "response is not valid JSON (");
    check_protocol_error(*this, R"({"data":[{"output":["a"]}],"x":")" + bad + R"("})", p,
                         "response is not valid JSON (");
  }
  const std::string nul(1, '\0');
  check_protocol_error(*this, R"({"data":[{"output":["a)" + nul + R"(b"]}]})", p,
                       "response is not valid JSON (");
  check_protocol_error(*this, nul + R"({"data":[{"output":["a"]}]})", p,
                       "response is not valid JSON (");
  for (const char* escape : {R"(\ud800)", R"(\udc00)", R"(\ud83dx)", R"(\u12)", R"(\x41)"}) {
    check_protocol_error(*this, std::string(R"({"data":[{"output":[")") + escape + R"("]}]})", p,
                         "response is not valid JSON (");
  }
  // A raw control character inside a string is not JSON either.
  check_protocol_error(*this, "{\"data\":[{\"output\":[\"a\nb\"]}]}", p,
                       "response is not valid JSON (");
}

BOOST_AUTO_TEST_CASE(body_is_padded_in_place_and_unchanged) {
  // An escape in a skipped member: simdjson reads this body, not the plain-answer scan, which
  // needs no padding.
  std::string text = R"({"data":[{"output":["a"],"params":{"stop":["\n"]}}]})";
  text.shrink_to_fit();
  const std::string copy = text;
  body = text;
  const auto& result = parser.parse(body, prompt_list{"p"});
  BOOST_TEST(result.status == response_status::ok);
  BOOST_TEST(body == copy);
  BOOST_TEST(body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING);
}

BOOST_AUTO_TEST_CASE(parser_is_reused_across_calls) {
  std::vector<std::string> entries;
  for (int i = 0; i < 100; ++i) entries.push_back(entry("", {"out" + std::to_string(i), "x"}));
  const auto& first = parse(ok_body(entries), prompt_list(100, "p"));
  BOOST_TEST_REQUIRE(first.status == response_status::ok);
  const auto* outputs = first.outputs.data();
  const auto* answers = first.answers.data();

  const auto& second =
      parse(ok_body({entry("b", {"B"}), entry("a", {"A"})}), prompt_list{"a", "b"});
  BOOST_TEST(&second == &first);
  BOOST_TEST_REQUIRE(second.status == response_status::ok);
  BOOST_TEST(second.answers.size() == 2u);
  BOOST_TEST(second.outputs.size() == 2u);
  BOOST_TEST(outputs_of(second, 0) == strings{"A"});
  BOOST_TEST(outputs_of(second, 1) == strings{"B"});
  // The vectors kept their storage: no allocation per call once warmed up.
  BOOST_TEST(second.outputs.data() == outputs);
  BOOST_TEST(second.answers.data() == answers);

  // An error leaves nothing behind for the next call.
  BOOST_TEST(parse("{", prompt_list{"a"}).status == response_status::protocol_error);
  const auto& third = parse(R"({"data":[{"output":["c"]}],"message":"ok"})", prompt_list{"a"});
  BOOST_TEST_REQUIRE(third.status == response_status::ok);
  BOOST_TEST(third.message.empty());
  BOOST_TEST(outputs_of(third, 0) == strings{"c"});
}

BOOST_AUTO_TEST_CASE(moved_parser_keeps_working) {
  promptpack::response_parser moved = std::move(parser);
  std::string text = R"({"data":[{"output":["a"]}]})";
  BOOST_TEST(moved.parse(text, prompt_list{"p"}).status == response_status::ok);
}

BOOST_AUTO_TEST_SUITE_END()
