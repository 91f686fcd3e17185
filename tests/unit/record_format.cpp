// Tests for output records: the plain and OpenAI batch forms, success and error, read back as JSON.
#include "run/record_format.hpp"

#include <boost/test/unit_test.hpp>

#include <promptpack/error.hpp>
#include <promptpack/protocol/json_text.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace run = promptpack::run;
using promptpack::errc;
using promptpack::prompt_error;
using run::line_form;

// Strings that need escaping: quotes, backslashes, control characters and multi-byte UTF-8.
const std::vector<std::string_view> awkward_texts = {
    "plain",
    "",
    "a \"quoted\" word and a back\\slash",
    "new\nline, tab\t, cr\r, bell\x07, unit separator\x1f, del\x7f",
    "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
    "</script> and \u2028 line separator",
};

std::string json_string(std::string_view text) {
  std::string out;
  promptpack::append_json_string(out, text);
  return out;
}

struct record_fixture {
  simdjson::dom::parser parser;
  std::string out;
  simdjson::dom::element record;

  // Checks that `out` is exactly one line ending in '\n' and parses it into `record`.
  void read_back() {
    BOOST_TEST_REQUIRE(!out.empty());
    BOOST_TEST(out.back() == '\n');
    BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1);
    const auto error = parser.parse(out).get(record);
    BOOST_TEST_REQUIRE(!error, "not JSON (" << simdjson::error_message(error) << "): " << out);
    BOOST_TEST_REQUIRE(record.is_object());
  }

  void success(std::string_view custom_id, line_form form,
               const std::vector<std::string_view>& outputs, std::string_view model = "m",
               std::string_view prompt = "the prompt") {
    out.clear();
    run::append_success(out, json_string(custom_id), form, outputs, false,
                        run::openai_context{model, prompt, 16});
    read_back();
  }

  void failure(std::string_view custom_id, line_form form, const prompt_error& error) {
    out.clear();
    run::append_error(out, json_string(custom_id), form, error);
    read_back();
  }

  // The member names of the object at `pointer`, comma-separated in order.
  std::string keys(std::string_view pointer = "") const {
    simdjson::dom::object object;
    if (record.at_pointer(pointer).get(object)) return "<not an object>";
    std::string names;
    for (auto field : object) names.append(names.empty() ? "" : ",").append(field.key);
    return names;
  }

  std::string text(std::string_view pointer) const {
    std::string_view value;
    return record.at_pointer(pointer).get(value) ? "<no string at " + std::string(pointer) + ">"
                                                 : std::string(value);
  }

  std::int64_t number(std::string_view pointer) const {
    std::int64_t value = 0;
    return record.at_pointer(pointer).get(value) ? -1 : value;
  }

  bool is_null(std::string_view pointer) const {
    simdjson::dom::element value;
    return !record.at_pointer(pointer).get(value) && value.is_null();
  }

  std::size_t array_size(std::string_view pointer) const {
    simdjson::dom::array array;
    return record.at_pointer(pointer).get(array) ? SIZE_MAX : array.size();
  }
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.starts_with(prefix);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_format)

BOOST_FIXTURE_TEST_CASE(plain_success, record_fixture) {
  success("a1", line_form::prompt, {"PARIS. It is", "second"});
  BOOST_TEST(keys() == "custom_id,output");
  BOOST_TEST(text("/custom_id") == "a1");
  BOOST_TEST(array_size("/output") == 2u);
  BOOST_TEST(text("/output/0") == "PARIS. It is");
  BOOST_TEST(text("/output/1") == "second");

  success("17", line_form::messages, {});
  BOOST_TEST(text("/custom_id") == "17");
  BOOST_TEST(array_size("/output") == 0u);
}

BOOST_FIXTURE_TEST_CASE(records_are_appended, record_fixture) {
  out = "{\"custom_id\":\"before\",\"output\":[]}\n";
  const std::vector<std::string_view> outputs = {"x"};
  run::append_success(out, json_string("next"), line_form::prompt, outputs, false, {});
  run::append_error(out, json_string("last"), line_form::prompt,
                    prompt_error{errc::timeout, "slow", 0, 3});
  BOOST_TEST(out ==
             "{\"custom_id\":\"before\",\"output\":[]}\n"
             "{\"custom_id\":\"next\",\"output\":[\"x\"]}\n"
             "{\"custom_id\":\"last\",\"error\":{\"type\":\"timeout\",\"message\":\"slow\","
             "\"attempts\":3}}\n");
}

BOOST_FIXTURE_TEST_CASE(outputs_and_ids_round_trip, record_fixture) {
  for (auto form : {line_form::prompt, line_form::openai_chat, line_form::openai_completion}) {
    for (auto awkward : awkward_texts) {
      success(awkward, form, {awkward, "after"});
      BOOST_TEST(text("/custom_id") == awkward);
      if (form == line_form::prompt) {
        BOOST_TEST(text("/output/0") == awkward);
        BOOST_TEST(text("/output/1") == "after");
      } else if (form == line_form::openai_chat) {
        BOOST_TEST(text("/response/body/choices/0/message/content") == awkward);
        BOOST_TEST(text("/response/body/choices/1/message/content") == "after");
      } else {
        BOOST_TEST(text("/response/body/choices/0/text") == awkward);
      }
      failure(awkward, form, prompt_error{errc::endpoint, std::string(awkward), 0, 0});
      BOOST_TEST(text("/custom_id") == awkward);
      BOOST_TEST(text("/error/message") == awkward);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(plain_error, record_fixture) {
  failure("a2", line_form::prompt,
          prompt_error{errc::timeout, "no response within 300 s (3 attempts)", 0, 3});
  BOOST_TEST(keys() == "custom_id,error");
  BOOST_TEST(text("/custom_id") == "a2");
  BOOST_TEST(keys("/error") == "type,message,attempts");
  BOOST_TEST(text("/error/type") == "timeout");
  BOOST_TEST(text("/error/message") == "no response within 300 s (3 attempts)");
  BOOST_TEST(number("/error/attempts") == 3);

  failure("a3", line_form::messages,
          prompt_error{errc::http_status, "HTTP 400: bad prompt", 400, 1});
  BOOST_TEST(keys("/error") == "type,message,http_status,attempts");
  BOOST_TEST(text("/error/type") == "http_status");
  BOOST_TEST(number("/error/http_status") == 400);
  BOOST_TEST(number("/error/attempts") == 1);

  failure("7", line_form::prompt,
          prompt_error{errc::invalid_input, "line is not valid JSON", 0, 0});
  BOOST_TEST(keys("/error") == "type,message");
  BOOST_TEST(text("/error/type") == "invalid_input");
}

BOOST_FIXTURE_TEST_CASE(invalid_input_records_carry_their_line, record_fixture) {
  const prompt_error duplicate{errc::invalid_input, "line 5: its custom_id is used", 0, 0};
  out.clear();
  run::append_error(out, json_string("a"), line_form::prompt, duplicate, 5);
  read_back();
  BOOST_TEST(keys("/error") == "type,message,line");
  BOOST_TEST(number("/error/line") == 5);
  for (auto form : {line_form::openai_chat, line_form::openai_completion}) {
    out.clear();
    run::append_error(out, json_string("a"), form, duplicate, 5);
    read_back();
    BOOST_TEST(keys("/error") == "code,message,line");
    BOOST_TEST(number("/error/line") == 5);
  }
}

BOOST_FIXTURE_TEST_CASE(every_error_type_by_name, record_fixture) {
  const std::pair<errc, std::string_view> types[] = {
      {errc::invalid_input, "invalid_input"},
      {errc::http_status, "http_status"},
      {errc::timeout, "timeout"},
      {errc::connection, "connection"},
      {errc::tls, "tls"},
      {errc::protocol, "protocol"},
      {errc::endpoint, "endpoint"},
      {errc::cancelled, "cancelled"},
  };
  for (const auto& [type, name] : types) {
    failure("x", line_form::prompt, prompt_error{type, "m", 0, 0});
    BOOST_TEST(text("/error/type") == name);
    failure("x", line_form::openai_chat, prompt_error{type, "m", 0, 0});
    BOOST_TEST(text("/error/code") == name);
  }
}

BOOST_FIXTURE_TEST_CASE(openai_chat_success, record_fixture) {
  success("a3", line_form::openai_chat, {"first answer", "second answer"}, "m",
          "what is custom llama?");
  BOOST_TEST(keys() == "id,custom_id,response,error");
  BOOST_TEST(starts_with(text("/id"), "batch_req_"));
  BOOST_TEST(text("/custom_id") == "a3");
  BOOST_TEST(number("/response/status_code") == 200);
  BOOST_TEST(starts_with(text("/response/request_id"), "req_"));
  BOOST_TEST(is_null("/error"));
  BOOST_TEST(text("/response/body/object") == "chat.completion");
  BOOST_TEST(text("/response/body/model") == "m");
  BOOST_TEST(array_size("/response/body/choices") == 2u);
  for (int i = 0; i < 2; ++i) {
    const std::string choice = "/response/body/choices/" + std::to_string(i);
    BOOST_TEST(number(choice + "/index") == i);
    BOOST_TEST(text(choice + "/message/role") == "assistant");
    BOOST_TEST(text(choice + "/finish_reason") == "stop");
  }
  BOOST_TEST(text("/response/body/choices/0/message/content") == "first answer");
  BOOST_TEST(text("/response/body/choices/1/message/content") == "second answer");
  BOOST_TEST(number("/response/body/usage/prompt_tokens") == 4);
}

BOOST_FIXTURE_TEST_CASE(openai_completion_success, record_fixture) {
  success("c1", line_form::openai_completion, {"upon a time"});
  BOOST_TEST(keys() == "id,custom_id,response,error");
  BOOST_TEST(number("/response/status_code") == 200);
  BOOST_TEST(is_null("/error"));
  BOOST_TEST(text("/response/body/object") == "text_completion");
  BOOST_TEST(array_size("/response/body/choices") == 1u);
  BOOST_TEST(text("/response/body/choices/0/text") == "upon a time");
  BOOST_TEST(keys("/response/body/choices/0") == "index,text,finish_reason");
}

BOOST_FIXTURE_TEST_CASE(openai_ids_are_unique, record_fixture) {
  success("a", line_form::openai_chat, {"x"});
  const std::string id = text("/id");
  const std::string request_id = text("/response/request_id");
  success("a", line_form::openai_chat, {"x"});
  BOOST_TEST(text("/id") != id);
  BOOST_TEST(text("/response/request_id") != request_id);
  BOOST_TEST(id.size() > std::string_view("batch_req_").size());
}

BOOST_FIXTURE_TEST_CASE(openai_error, record_fixture) {
  for (auto form : {line_form::openai_chat, line_form::openai_completion}) {
    failure("e1", form, prompt_error{errc::connection, "connection refused (3 attempts)", 0, 3});
    BOOST_TEST(keys() == "id,custom_id,response,error");
    BOOST_TEST(starts_with(text("/id"), "batch_req_"));
    BOOST_TEST(text("/custom_id") == "e1");
    BOOST_TEST(is_null("/response"));
    BOOST_TEST(keys("/error") == "code,message");
    BOOST_TEST(text("/error/code") == "connection");
    BOOST_TEST(text("/error/message") == "connection refused (3 attempts)");
  }
}

BOOST_FIXTURE_TEST_CASE(openai_http_error_is_the_response, record_fixture) {
  for (auto form : {line_form::openai_chat, line_form::openai_completion}) {
    failure("h1", form, prompt_error{errc::http_status, "HTTP 400: bad prompt", 400, 1});
    BOOST_TEST(keys() == "id,custom_id,response,error");
    BOOST_TEST(starts_with(text("/id"), "batch_req_"));
    BOOST_TEST(text("/custom_id") == "h1");
    BOOST_TEST(is_null("/error"));
    BOOST_TEST(keys("/response") == "status_code,request_id,body");
    BOOST_TEST(number("/response/status_code") == 400);
    BOOST_TEST(starts_with(text("/response/request_id"), "req_"));
    BOOST_TEST(keys("/response/body") == "error");
    BOOST_TEST(keys("/response/body/error") == "message,type,param,code");
    BOOST_TEST(text("/response/body/error/message") == "HTTP 400: bad prompt");
    BOOST_TEST(text("/response/body/error/type") == "invalid_request_error");
    BOOST_TEST(is_null("/response/body/error/param"));
    BOOST_TEST(text("/response/body/error/code") == "http_status");
  }
}

BOOST_FIXTURE_TEST_CASE(openai_error_type_follows_the_http_status, record_fixture) {
  const std::pair<int, std::string_view> types[] = {
      {400, "invalid_request_error"}, {401, "authentication_error"},  {403, "permission_error"},
      {404, "invalid_request_error"}, {413, "invalid_request_error"}, {429, "rate_limit_error"},
      {500, "server_error"},          {503, "server_error"},          {302, "server_error"},
  };
  for (const auto& [status, type] : types) {
    BOOST_TEST_CONTEXT("HTTP " << status) {
      failure("x", line_form::openai_chat, prompt_error{errc::http_status, "m", status, 4});
      BOOST_TEST(number("/response/status_code") == status);
      BOOST_TEST(text("/response/body/error/type") == type);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(openai_failure_after_a_2xx_is_an_error_without_response, record_fixture) {
  // The endpoint answered 200 but broke the protocol: there is no HTTP error to report.
  failure("p1", line_form::openai_completion,
          prompt_error{errc::protocol, "endpoint's answer breaks the protocol", 200, 1});
  BOOST_TEST(is_null("/response"));
  BOOST_TEST(keys("/error") == "code,message");
  BOOST_TEST(text("/error/code") == "protocol");
}

BOOST_FIXTURE_TEST_CASE(an_http_error_in_plain_form_stays_an_error_record, record_fixture) {
  failure("h2", line_form::prompt, prompt_error{errc::http_status, "HTTP 429: slow down", 429, 4});
  BOOST_TEST(keys() == "custom_id,error");
  BOOST_TEST(number("/error/http_status") == 429);
}

BOOST_AUTO_TEST_CASE(json_safe_outputs_make_the_same_records) {
  // Outputs vouched for are copied as they are; the record must be the one escaping would write.
  const std::vector<std::string_view> outputs = {"", "plain", "caf\xC3\xA9 '100%' {not json}",
                                                 std::string_view("a b c d e f g h i j k l m n")};
  const std::vector<std::string_view> one = {"x"};
  for (const line_form form : {line_form::prompt, line_form::messages}) {
    for (const auto& list : {outputs, one, std::vector<std::string_view>{}}) {
      // After other records, as in a block: the record is appended, never written over them.
      std::string checked = "{}\n";
      std::string copied = "{}\n";
      run::append_success(checked, "\"id\"", form, list, false, {"m", "p", 16});
      run::append_success(copied, "\"id\"", form, list, true, {"m", "p", 16});
      BOOST_TEST(copied == checked);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
