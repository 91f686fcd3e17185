// Tests for the gateway's OpenAI responses: choices numbered across prompts and outputs, usage
// summed, and the chat.completion / text_completion shapes.
#include "gateway/openai_response.hpp"

#include <simdjson.h>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace gw = promptpack::gateway;
using promptpack::prompt_result;

prompt_result outputs(std::vector<std::string> texts) {
  return {.outputs = std::move(texts), .error = std::nullopt};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openai_response)

BOOST_AUTO_TEST_CASE(a_chat_answer_has_one_choice_per_output) {
  const std::vector<std::string> prompts{"say it twice"};
  const std::vector<prompt_result> results{outputs({"it it", "it"})};
  const auto r = gw::completion_response(gw::completion_api::chat, "custom/m", prompts, results, 2);
  BOOST_TEST(r.object == "chat.completion");
  BOOST_TEST(r.id.starts_with("chatcmpl-"));
  BOOST_TEST(r.model == "m");  // as callers name it, without custom/
  BOOST_TEST_REQUIRE(r.choices.size() == 2u);
  BOOST_TEST(r.choices[0].index == 0);
  BOOST_TEST(r.choices[1].index == 1);
  BOOST_TEST(r.choices[0].message.content == "it it");
  BOOST_TEST(r.choices[0].finish_reason == "length");  // max_tokens words
  BOOST_TEST(r.choices[1].finish_reason == "stop");
  BOOST_TEST(r.usage.prompt_tokens == 3);
  BOOST_TEST(r.usage.completion_tokens == 3);
  BOOST_TEST(r.usage.total_tokens == 6);
}

BOOST_AUTO_TEST_CASE(a_prompt_list_numbers_its_choices_prompt_after_prompt) {
  const std::vector<std::string> prompts{"a", "b c"};
  const std::vector<prompt_result> results{outputs({"x", "y"}), outputs({"z w", "v"})};
  const auto r = gw::completion_response(gw::completion_api::text, "m", prompts, results, 16);
  BOOST_TEST(r.object == "text_completion");
  BOOST_TEST(r.id.starts_with("cmpl-"));
  BOOST_TEST_REQUIRE(r.choices.size() == 4u);
  const char* texts[] = {"x", "y", "z w", "v"};
  for (int i = 0; i < 4; ++i) {
    BOOST_TEST(r.choices[i].index == i);
    BOOST_TEST(r.choices[i].message.content == texts[i]);
  }
  BOOST_TEST(r.usage.prompt_tokens == 3);
  BOOST_TEST(r.usage.completion_tokens == 5);
  BOOST_TEST(r.usage.total_tokens == 8);

  simdjson::dom::parser parser;
  const std::string json = r.to_json();
  std::string_view text;
  BOOST_TEST_REQUIRE(
      parser.parse(json).at_pointer("/choices/2/text").get_string().get(text) == simdjson::SUCCESS,
      json);
  BOOST_TEST(text == "z w");
}

BOOST_AUTO_TEST_SUITE_END()
