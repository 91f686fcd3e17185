// Tests for redacted_outputs: outputs that echo the key are swapped for redacted copies, the others
// stay the views they were.
#include "client/redacted_outputs.hpp"

#include <boost/test/unit_test.hpp>

#include <promptpack/completion.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

using promptpack::bulk_result;
using promptpack::detail::secret_redactor;

const std::string key = "sk-echo-0123456789";

}  // namespace

BOOST_AUTO_TEST_SUITE(redacted_outputs)

BOOST_AUTO_TEST_CASE(only_outputs_that_hold_the_key_are_replaced) {
  const secret_redactor redactor(key);
  const std::string echoed = "you said " + key;
  const std::vector<std::string_view> first{"clean", echoed};
  const std::vector<std::string_view> second{"also clean"};
  std::vector<bulk_result> results{{.index = 0, .outputs = first, .error = nullptr},
                                   {.index = 1, .outputs = second, .error = nullptr}};

  promptpack::detail::redacted_outputs redacted;
  redacted.redact(results, redactor);

  BOOST_TEST_REQUIRE(results[0].outputs.size() == 2u);
  BOOST_TEST(results[0].outputs[0] == "clean");
  BOOST_TEST(results[0].outputs[1] == "you said [redacted]");
  // The first list is a copy now; the untouched result still points into the answer.
  BOOST_TEST(results[0].outputs.data() != first.data());
  BOOST_TEST(results[1].outputs.data() == second.data());
}

BOOST_AUTO_TEST_CASE(copies_stay_valid_while_more_results_are_redacted) {
  const secret_redactor redactor(key);
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back(std::to_string(i) + key);
  std::vector<std::vector<std::string_view>> lists;
  for (const auto& text : texts) lists.push_back({text});
  std::vector<bulk_result> results;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    results.push_back({.index = i, .outputs = lists[i], .error = nullptr});
  }

  promptpack::detail::redacted_outputs redacted;
  redacted.redact(results, redactor);

  for (std::size_t i = 0; i < results.size(); ++i) {
    BOOST_TEST(results[i].outputs[0] == std::to_string(i) + "[redacted]");
  }
}

BOOST_AUTO_TEST_SUITE_END()
