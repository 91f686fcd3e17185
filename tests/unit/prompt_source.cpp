// Tests for bench's prompt pool: generated prompts, cycling, and block-at-a-time appends.
#include "bench/prompt_source.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/jsonl_job.hpp"

namespace {

using promptpack::bench::prompt_source;

}  // namespace

BOOST_AUTO_TEST_SUITE(prompt_source)

BOOST_AUTO_TEST_CASE(generated_prompts_are_distinct_and_have_the_words_asked_for) {
  const auto source = promptpack::bench::prompt_source::generated(8, 100);
  BOOST_TEST(source.size() == 100u);
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const std::string_view text = source.at(i);
    seen.insert(text);
    // Eight words and the " #<number>" that keeps them distinct: eight spaces in all.
    BOOST_TEST(std::count(text.begin(), text.end(), ' ') == 8);
  }
  BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_CASE(append_gives_what_at_gives_across_the_wrap) {
  const auto source = promptpack::bench::prompt_source::generated(3, 7);
  for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{1'000'003}}) {
    std::vector<std::string_view> appended{"already there"};
    source.append(first, 20, appended);  // wraps the pool of 7 about three times
    BOOST_REQUIRE(appended.size() == 21u);
    BOOST_TEST(appended.front() == "already there");
    for (std::size_t k = 0; k < 20; ++k) BOOST_TEST(appended[k + 1] == source.at(first + k));
  }
  std::vector<std::string_view> none;
  source.append(4, 0, none);
  BOOST_TEST(none.empty());
}

BOOST_AUTO_TEST_CASE(an_empty_pool_is_refused_rather_than_divided_by) {
  BOOST_CHECK_THROW(promptpack::bench::prompt_source::generated(8, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_pool_is_json_safe_only_when_every_prompt_is) {
  BOOST_TEST((promptpack::bench::prompt_source::generated(8, 10).bytes() ==
              promptpack::prompt_bytes::json_safe));
  promptpack::test::temp_dir dir;
  const std::string safe = dir.file("safe.jsonl");
  promptpack::test::write_file(safe, "{\"prompt\":\"caf\xC3\xA9\"}\n{\"prompt\":\"plain\"}\n");
  BOOST_TEST((promptpack::bench::prompt_source::from_file(safe).bytes() ==
              promptpack::prompt_bytes::json_safe));
  const std::string quoted = dir.file("quoted.jsonl");
  promptpack::test::write_file(quoted, "{\"prompt\":\"plain\"}\n{\"prompt\":\"say \\\"hi\\\"\"}\n");
  const auto source = promptpack::bench::prompt_source::from_file(quoted);
  BOOST_TEST(source.at(1) == "say \"hi\"");
  BOOST_TEST((source.bytes() == promptpack::prompt_bytes::any));
}

BOOST_AUTO_TEST_SUITE_END()
