// Tests for the gateway's request decoding: messages joined as LiteLLM does, prompt lists,
// the caller's sampling parameters, and a 400 naming the field for every malformed body.
#include "gateway/openai_request.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

namespace {

namespace gw = promptpack::gateway;
using promptpack::sampling_params;

struct decoded {
  bool ok = false;
  gw::openai_request request;
  gw::openai_error error;
  std::string model;  // request.model points into the reader, which decode() destroys
};

decoded decode(std::string body, gw::completion_api api = gw::completion_api::chat,
               const sampling_params& defaults = {}) {
  gw::openai_request_reader reader;
  decoded out;
  out.ok = reader.read(body, api, defaults, out.request, out.error);
  out.model = std::string(out.request.model);
  return out;
}

decoded decode_text(std::string body) {
  return decode(std::move(body), gw::completion_api::text);
}

using extras = std::vector<std::pair<std::string, std::string>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(openai_request)

BOOST_AUTO_TEST_CASE(messages_are_joined_with_one_space_and_text_parts_concatenated) {
  const auto r =
      decode(R"({"model":"m","messages":[{"role":"system","content":"be brief"},)"
             R"({"role":"user","content":[{"type":"text","text":"what is"},)"
             R"({"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":" it?"}]},)"
             R"({"role":"assistant","content":null}]})");
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  BOOST_TEST(r.model == "m");
  BOOST_TEST_REQUIRE(r.request.prompts.size() == 1u);
  BOOST_TEST(r.request.prompts[0] == "be brief what is it? ");
  BOOST_TEST(!r.request.stream);
}

BOOST_AUTO_TEST_CASE(a_prompt_list_gives_one_prompt_each) {
  const auto list = decode_text(R"({"model":"m","prompt":["a","b c",""]})");
  BOOST_TEST_REQUIRE(list.ok, list.error.message);
  BOOST_TEST((list.request.prompts == std::vector<std::string>{"a", "b c", ""}));
  const auto one = decode_text(R"({"prompt":"only","model":"m"})");
  BOOST_TEST_REQUIRE(one.ok, one.error.message);
  BOOST_TEST((one.request.prompts == std::vector<std::string>{"only"}));
}

BOOST_AUTO_TEST_CASE(the_callers_parameters_override_the_defaults) {
  sampling_params defaults;
  defaults.max_tokens = 7;
  const auto r = decode(R"({"model":"m","messages":[{"content":"x"}],"max_tokens":100,)"
                        R"("temperature":0,"top_p":0.5,"top_k":3})",
                        gw::completion_api::chat, defaults);
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  BOOST_TEST(r.request.params.max_tokens == 100);
  BOOST_TEST(r.request.params.temperature == 0.0);
  BOOST_TEST(r.request.params.top_p == 0.5);
  BOOST_TEST(r.request.params.top_k == 3);
  const auto untouched =
      decode(R"({"model":"m","messages":[{"content":"x"}]})", gw::completion_api::chat, defaults);
  BOOST_TEST((untouched.request.params == defaults));
  const auto newer =
      decode(R"({"model":"m","messages":[{"content":"x"}],"max_completion_tokens":9})");
  BOOST_TEST(newer.request.params.max_tokens == 9);
}

BOOST_AUTO_TEST_CASE(stop_seed_n_and_penalties_pass_through_in_one_canonical_form) {
  const auto r = decode(R"({"model":"m","messages":[{"content":"x"}],"stop":[ "\n" , "END" ],)"
                        R"("seed":42,"n":2,"presence_penalty":0.50,"user":"ignored"})");
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  // Sorted by name, re-encoded: callers that write the same values differently share requests.
  BOOST_TEST(
      (r.request.params.extra ==
       extras{
           {"n", "2"}, {"presence_penalty", "0.5"}, {"seed", "42"}, {"stop", R"(["\n","END"])"}}));
  const auto reordered = decode(R"({"presence_penalty":0.5,"seed":42,"stop":["\n","END"],"n":2,)"
                                R"("model":"m","messages":[{"content":"x"}]})");
  BOOST_TEST((reordered.request.params == r.request.params));
  const auto single_stop = decode(R"({"model":"m","messages":[{"content":"x"}],"stop":"\n"})");
  BOOST_TEST((single_stop.request.params.extra == extras{{"stop", R"("\n")"}}));
}

BOOST_AUTO_TEST_CASE(n_of_one_and_nulls_are_the_same_as_leaving_them_out) {
  const auto r = decode(R"({"model":"m","messages":[{"content":"x"}],"n":1,"stop":null,)"
                        R"("seed":null,"temperature":null,"stream":null})");
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  BOOST_TEST((r.request.params == sampling_params{}));
}

BOOST_AUTO_TEST_CASE(a_repeated_field_keeps_its_last_value) {
  const auto r = decode(R"({"model":"m","messages":[{"content":"x"}],"seed":1,"seed":2})");
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  BOOST_TEST((r.request.params.extra == extras{{"seed", "2"}}));
}

BOOST_AUTO_TEST_CASE(stream_and_its_usage_option_are_read) {
  const auto r = decode(R"({"model":"m","messages":[{"content":"x"}],"stream":true,)"
                        R"("stream_options":{"include_usage":true}})");
  BOOST_TEST_REQUIRE(r.ok, r.error.message);
  BOOST_TEST(r.request.stream);
  BOOST_TEST(r.request.stream_usage);
}

BOOST_AUTO_TEST_CASE(every_malformed_body_gets_a_400_naming_its_field) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"not json", ""},
      {"[1]", ""},
      {R"({"messages":[{"content":"x"}]})", "model"},
      {R"({"model":7,"messages":[{"content":"x"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":"m","messages":"hi"})", "messages"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "messages"},
      {R"({"model":"m","messages":[{"content":[{"type":"text"}]}]})", "messages"},
      {R"({"model":"m","messages":[{"content":"x"}],"max_tokens":-1})", "max_tokens"},
      {R"({"model":"m","messages":[{"content":"x"}],"max_tokens":1.5})", "max_tokens"},
      {R"({"model":"m","messages":[{"content":"x"}],"temperature":"hot"})", "temperature"},
      {R"({"model":"m","messages":[{"content":"x"}],"top_p":0})", "top_p"},
      {R"({"model":"m","messages":[{"content":"x"}],"n":0})", "n"},
      {R"({"model":"m","messages":[{"content":"x"}],"n":129})", "n"},
      {R"({"model":"m","messages":[{"content":"x"}],"seed":"s"})", "seed"},
      {R"({"model":"m","messages":[{"content":"x"}],"stop":[1]})", "stop"},
      {R"({"model":"m","messages":[{"content":"x"}],"stream":"yes"})", "stream"},
      {R"({"model":"m","messages":[{"content":"x"}]} trailing)", ""},
  };
  for (const auto& [body, param] : cases) {
    BOOST_TEST_CONTEXT(body) {
      const auto r = decode(body);
      BOOST_TEST(!r.ok);
      BOOST_TEST(r.error.status == 400u);
      BOOST_TEST(r.error.param == param);
      BOOST_TEST(!r.error.message.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_text_prompt_must_be_text) {
  for (const std::string body : {R"({"model":"m","prompt":[1,2]})", R"({"model":"m","prompt":[]})",
                                 R"({"model":"m","prompt":{"a":1}})", R"({"model":"m"})"}) {
    BOOST_TEST_CONTEXT(body) {
      const auto r = decode_text(body);
      BOOST_TEST(!r.ok);
      BOOST_TEST(r.error.param == "prompt");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
