// Tests for the custom_id set: insert, growth, long probe chains, and insert_many against insert.
#include "run/id_set.hpp"

#include "common/id_hashes.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace run = promptpack::run;

constexpr auto id = promptpack::test::id_hash;
constexpr auto colliding = promptpack::test::colliding_hash;

// `n` hashes of `distinct` ids, each id repeated in a fixed scattered order.
std::vector<std::uint64_t> repeated_ids(std::size_t n, std::size_t distinct) {
  std::vector<std::uint64_t> hashes;
  hashes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) hashes.push_back(id((i * 7919) % distinct));
  return hashes;
}

void check_insert_many_matches_insert(const std::vector<std::uint64_t>& before,
                                      const std::vector<std::uint64_t>& hashes) {
  run::id_set one_by_one;
  for (auto h : before) one_by_one.insert(h);
  std::vector<std::uint8_t> expected;
  for (auto h : hashes) expected.push_back(one_by_one.insert(h) ? 1 : 0);

  run::id_set at_once;
  std::vector<std::uint8_t> ignored(before.size());
  at_once.insert_many(before, ignored);
  std::vector<std::uint8_t> actual(hashes.size(), 7);
  at_once.insert_many(hashes, actual);

  BOOST_TEST(actual == expected, boost::test_tools::per_element());
  BOOST_TEST(at_once.size() == one_by_one.size());
  for (auto h : hashes) BOOST_TEST_REQUIRE(at_once.contains(h));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(id_set)

BOOST_AUTO_TEST_CASE(empty_set) {
  run::id_set s;
  BOOST_TEST(s.size() == 0u);
  BOOST_TEST(!s.contains(id(1)));
}

BOOST_AUTO_TEST_CASE(insert_says_whether_the_id_was_there) {
  run::id_set s;
  BOOST_TEST(!s.insert(id(1)));
  BOOST_TEST(s.insert(id(1)));
  BOOST_TEST(!s.insert(id(2)));
  BOOST_TEST(s.insert(id(1)));
  BOOST_TEST(s.contains(id(1)));
  BOOST_TEST(s.contains(id(2)));
  BOOST_TEST(!s.contains(id(3)));
  BOOST_TEST(s.size() == 2u);
}

BOOST_AUTO_TEST_CASE(growth_keeps_every_id) {
  run::id_set s;
  constexpr std::size_t n = 20000;  // many times the first table
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(!s.insert(id(i)));
  BOOST_TEST(s.size() == n);
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(s.contains(id(i)));
  BOOST_TEST(!s.contains(id(n)));
}

BOOST_AUTO_TEST_CASE(probe_chains_survive_growth) {
  run::id_set s;
  constexpr std::size_t n = 300;
  for (std::size_t i = 0; i < n; ++i) s.insert(colliding(i));
  for (std::size_t i = 0; i < 5000; ++i) s.insert(id(i));  // grow past the chain
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(s.insert(colliding(i)));
  BOOST_TEST(!s.contains(colliding(n)));
  BOOST_TEST(s.size() == n + 5000);
}

BOOST_AUTO_TEST_CASE(reserve_keeps_ids) {
  run::id_set s;
  s.reserve(0);
  BOOST_TEST(!s.contains(id(1)));
  s.reserve(10);
  for (std::size_t i = 0; i < 100; ++i) s.insert(id(i));
  s.reserve(50);  // smaller than needed already: nothing changes
  s.reserve(100000);
  BOOST_TEST(s.size() == 100u);
  for (std::size_t i = 0; i < 100; ++i) BOOST_TEST_REQUIRE(s.contains(id(i)));
  BOOST_TEST(!s.contains(id(100)));
}

BOOST_AUTO_TEST_CASE(insert_many_matches_sequential_insert) {
  // Repeats within the batch, on an empty set: the batch itself makes the table grow.
  check_insert_many_matches_insert({}, repeated_ids(10000, 3000));
  // Repeats of ids inserted before the batch.
  check_insert_many_matches_insert(repeated_ids(500, 400), repeated_ids(3000, 1000));
  // A single long probe chain, and batches shorter than the prefetch distance.
  std::vector<std::uint64_t> chain;
  for (std::size_t i = 0; i < 200; ++i) chain.push_back(colliding(i % 150));
  check_insert_many_matches_insert({colliding(3)}, chain);
  check_insert_many_matches_insert({id(1)}, {id(1), id(2), id(1)});
  check_insert_many_matches_insert({id(1)}, {});
}

BOOST_AUTO_TEST_SUITE_END()
