// Tests for secret_redactor: every occurrence replaced, nothing searched without a secret, and
// cut points that never split the secret.
#include "text/secret_redactor.hpp"

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace {

// Not `secret_redactor`: that name is the suite's.
using key_redactor = promptpack::detail::secret_redactor;

constexpr std::string_view key = "sk-test-0123456789abcdef";

}  // namespace

BOOST_AUTO_TEST_SUITE(secret_redactor)

BOOST_AUTO_TEST_CASE(an_empty_secret_redacts_nothing) {
  const key_redactor none("");
  BOOST_TEST(!none.active());
  BOOST_TEST(!none.found_in("anything at all"));
  BOOST_TEST(none.redact("anything at all") == "anything at all");
  BOOST_TEST(none.cut_point("0123456789", 4) == 4u);
  BOOST_TEST(none.cut_point("0123", 10) == 4u);
}

BOOST_AUTO_TEST_CASE(every_occurrence_is_replaced) {
  const key_redactor redactor{std::string(key)};
  BOOST_TEST(redactor.active());
  const std::string k(key);
  BOOST_TEST(redactor.redact(k) == "[redacted]");
  BOOST_TEST(redactor.redact("key=" + k + "; again " + k + ".") ==
             "key=[redacted]; again [redacted].");
  BOOST_TEST(redactor.redact(k + k) == "[redacted][redacted]");
  BOOST_TEST(redactor.redact("no secret here") == "no secret here");
  BOOST_TEST(redactor.redact("") == "");
  // A part of the key is not the key.
  BOOST_TEST(redactor.redact(k.substr(0, k.size() - 1)) == k.substr(0, k.size() - 1));
}

BOOST_AUTO_TEST_CASE(found_in_says_whether_the_key_is_there) {
  const key_redactor redactor{std::string(key)};
  BOOST_TEST(redactor.found_in("prefix " + std::string(key)));
  BOOST_TEST(redactor.found_in(std::string(key) + " suffix"));
  BOOST_TEST(!redactor.found_in("sk-test-0123456789abcde"));
  BOOST_TEST(!redactor.found_in(""));
}

BOOST_AUTO_TEST_CASE(the_marker_is_not_searched_again) {
  // "a" occurs in "[redacted]" itself; replacing is one pass over the original text.
  const key_redactor redactor("a");
  BOOST_TEST(redactor.redact("banana") == "b[redacted]n[redacted]n[redacted]");
}

BOOST_AUTO_TEST_CASE(overlapping_occurrences_are_replaced_left_to_right) {
  const key_redactor redactor("aa");
  BOOST_TEST(redactor.redact("aaa") == "[redacted]a");
  BOOST_TEST(redactor.redact("aaaa") == "[redacted][redacted]");
}

BOOST_AUTO_TEST_CASE(a_cut_never_splits_the_key) {
  const key_redactor redactor{std::string(key)};
  const std::string k(key);
  const std::string before(195, 'x');
  const std::string text = before + k + std::string(100, 'y');
  // The key spans byte 200: the cut moves to its end, so redaction removes all of it.
  const std::size_t cut = redactor.cut_point(text, 200);
  BOOST_TEST(cut == before.size() + k.size());
  BOOST_TEST(redactor.redact(std::string_view(text).substr(0, cut)) == before + "[redacted]");
}

BOOST_AUTO_TEST_CASE(a_cut_stays_put_when_no_key_spans_it) {
  const key_redactor redactor{std::string(key)};
  const std::string k(key);
  BOOST_TEST(redactor.cut_point(std::string(300, 'x'), 200) == 200u);
  // Ends exactly at the cut, or starts exactly at it: nothing to move.
  BOOST_TEST(redactor.cut_point(std::string(200 - k.size(), 'x') + k + "tail", 200) == 200u);
  BOOST_TEST(redactor.cut_point(std::string(200, 'x') + k, 200) == 200u);
  // Text no longer than the limit is kept whole.
  BOOST_TEST(redactor.cut_point("short", 200) == 5u);
}

BOOST_AUTO_TEST_CASE(a_cut_follows_the_occurrences_redaction_replaces) {
  // With "aa", "aaa|a" is replaced as [aa][aa]: the second occurrence spans the cut at 3.
  const key_redactor redactor("aa");
  BOOST_TEST(redactor.cut_point("aaaab", 3) == 4u);
  BOOST_TEST(redactor.cut_point("baaab", 2) == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
