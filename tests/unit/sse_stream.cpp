// Tests for the gateway's Server-Sent Events: OpenAI's chunk objects, in order, then [DONE].
#include "gateway/sse_stream.hpp"

#include <promptpack/litellm.hpp>

#include <simdjson.h>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

using promptpack::model_response;

std::vector<std::string> events_of(const std::string& stream) {
  std::vector<std::string> events;
  std::size_t at = 0;
  for (auto end = stream.find("\n\n"); end != std::string::npos; end = stream.find("\n\n", at)) {
    events.push_back(stream.substr(at, end - at));
    at = end + 2;
  }
  BOOST_TEST(at == stream.size(), "bytes after the last event: " << stream.substr(at));
  return events;
}

std::string at(const std::string& event, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::string_view value;
  const std::string json = event.substr(6);  // after "data: "
  if (parser.parse(json).at_pointer(pointer).get_string().get(value)) return "<missing>";
  return std::string(value);
}

model_response two_choices(bool chat) {
  return model_response::from_outputs("m", "p q", {"one \"quoted\"", "two"}, 32, chat);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sse_stream)

BOOST_AUTO_TEST_CASE(a_chat_choice_streams_role_content_and_finish_reason) {
  std::string out;
  promptpack::gateway::append_event_stream(out, two_choices(true), false);
  const auto events = events_of(out);
  BOOST_TEST_REQUIRE(events.size() == 7u, out);
  for (std::size_t i = 0; i < 6; ++i) {
    BOOST_TEST(events[i].starts_with("data: {"));
    BOOST_TEST(at(events[i], "/object") == "chat.completion.chunk");
    BOOST_TEST(at(events[i], "/model") == "m");
  }
  BOOST_TEST(at(events[0], "/choices/0/delta/role") == "assistant");
  BOOST_TEST(at(events[1], "/choices/0/delta/content") == "one \"quoted\"");
  BOOST_TEST(at(events[2], "/choices/0/finish_reason") == "stop");
  BOOST_TEST(at(events[4], "/choices/0/delta/content") == "two");
  BOOST_TEST(events.back() == "data: [DONE]");
}

BOOST_AUTO_TEST_CASE(a_text_choice_streams_in_one_chunk_and_usage_comes_last_on_request) {
  std::string out;
  promptpack::gateway::append_event_stream(out, two_choices(false), true);
  const auto events = events_of(out);
  BOOST_TEST_REQUIRE(events.size() == 4u, out);
  BOOST_TEST(at(events[0], "/object") == "text_completion");
  BOOST_TEST(at(events[0], "/choices/0/text") == "one \"quoted\"");
  BOOST_TEST(at(events[1], "/choices/0/finish_reason") == "stop");
  simdjson::dom::parser parser;
  const std::string usage = events[2].substr(6);
  std::int64_t total = 0;
  BOOST_TEST(parser.parse(usage).at_pointer("/usage/total_tokens").get_int64().get(total) ==
             simdjson::SUCCESS);
  BOOST_TEST(total == 5);  // "p q" and "one "quoted"" and "two"
  BOOST_TEST(events.back() == "data: [DONE]");
}

BOOST_AUTO_TEST_SUITE_END()
