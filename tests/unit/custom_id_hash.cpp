// Tests for the custom_id hash: stable, never zero, and distinct on the ids jobs use most.
#include "run/custom_id_hash.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace run = promptpack::run;

BOOST_AUTO_TEST_SUITE(custom_id_hash)

BOOST_AUTO_TEST_CASE(hash_is_stable_and_never_zero) {
  BOOST_TEST(run::custom_id_hash("a1") == run::custom_id_hash(std::string("a1")));
  BOOST_TEST(run::custom_id_hash("a1") != run::custom_id_hash("a2"));
  BOOST_TEST(run::custom_id_hash("") != 0u);
  BOOST_TEST(run::custom_id_hash("17") != run::custom_id_hash("71"));
  for (std::size_t i = 0; i < 10000; ++i)
    BOOST_TEST_REQUIRE(run::custom_id_hash("id-" + std::to_string(i)) != 0u);
  // Lengths and zero bytes: a shorter id is not a longer one's zero-padded word.
  BOOST_TEST(run::custom_id_hash("a") != run::custom_id_hash(std::string("a\0", 2)));
  BOOST_TEST(run::custom_id_hash("12345678") != run::custom_id_hash("123456789"));
}

BOOST_AUTO_TEST_CASE(a_million_sequential_ids_have_distinct_hashes) {
  // The ids jobs use most: a prefix and a counter, differing in one or two bytes.
  std::vector<std::uint64_t> hashes;
  for (std::size_t i = 0; i < 1000000; ++i) {
    hashes.push_back(run::custom_id_hash("req-" + std::to_string(i)));
    hashes.push_back(run::custom_id_hash(std::to_string(i)));
  }
  std::sort(hashes.begin(), hashes.end());
  BOOST_TEST((std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()));
}

BOOST_AUTO_TEST_SUITE_END()
