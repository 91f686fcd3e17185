// Tests for the custom_id multiset: counts, take, growth, reserve and add_many against add.
#include "run/id_counter.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace run = promptpack::run;

std::uint64_t id(std::size_t i) {
  return run::id_counter::hash("id-" + std::to_string(i));
}

// Hashes that all land on the same home slot of any table up to 2^20 slots: one long probe chain.
std::uint64_t colliding(std::size_t i) {
  return (static_cast<std::uint64_t>(i + 1) << 40) | 5;
}

// `n` hashes of `distinct` ids, each id repeated in a fixed scattered order.
std::vector<std::uint64_t> repeated_ids(std::size_t n, std::size_t distinct) {
  std::vector<std::uint64_t> hashes;
  hashes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) hashes.push_back(id((i * 7919) % distinct));
  return hashes;
}

// What sequential add() returns for each hash, on a counter that already holds `before`.
std::vector<std::uint32_t> added_one_by_one(const std::vector<std::uint64_t>& before,
                                            const std::vector<std::uint64_t>& hashes,
                                            run::id_counter& c) {
  for (auto h : before) c.add(h);
  std::vector<std::uint32_t> previous;
  for (auto h : hashes) previous.push_back(c.add(h));
  return previous;
}

std::vector<std::uint32_t> added_at_once(const std::vector<std::uint64_t>& before,
                                         const std::vector<std::uint64_t>& hashes,
                                         run::id_counter& c) {
  std::vector<std::uint32_t> ignored(before.size());
  c.add_many(before, ignored);
  std::vector<std::uint32_t> previous(hashes.size(), 12345);
  c.add_many(hashes, previous);
  return previous;
}

void check_add_many_matches_add(const std::vector<std::uint64_t>& before,
                                const std::vector<std::uint64_t>& hashes) {
  run::id_counter sequential;
  run::id_counter batched;
  const auto expected = added_one_by_one(before, hashes, sequential);
  const auto actual = added_at_once(before, hashes, batched);
  BOOST_TEST(actual == expected, boost::test_tools::per_element());
  BOOST_TEST(batched.size() == sequential.size());
  for (auto h : hashes) BOOST_TEST(batched.count(h) == sequential.count(h));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(id_counter)

BOOST_AUTO_TEST_CASE(hash_is_stable_and_never_zero) {
  BOOST_TEST(run::id_counter::hash("a1") == run::id_counter::hash(std::string("a1")));
  BOOST_TEST(run::id_counter::hash("a1") != run::id_counter::hash("a2"));
  BOOST_TEST(run::id_counter::hash("") != 0u);
  BOOST_TEST(run::id_counter::hash("17") != run::id_counter::hash("71"));
  for (std::size_t i = 0; i < 10000; ++i) BOOST_TEST_REQUIRE(id(i) != 0u);
  // Lengths and zero bytes: a shorter id is not a longer one's zero-padded word.
  BOOST_TEST(run::id_counter::hash("a") != run::id_counter::hash(std::string("a\0", 2)));
  BOOST_TEST(run::id_counter::hash("12345678") != run::id_counter::hash("123456789"));
}

BOOST_AUTO_TEST_CASE(a_million_sequential_ids_have_distinct_hashes) {
  // The ids jobs use most: a prefix and a counter, differing in one or two bytes.
  std::vector<std::uint64_t> hashes;
  for (std::size_t i = 0; i < 1000000; ++i) {
    hashes.push_back(run::id_counter::hash("req-" + std::to_string(i)));
    hashes.push_back(run::id_counter::hash(std::to_string(i)));
  }
  std::sort(hashes.begin(), hashes.end());
  BOOST_TEST((std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()));
}

BOOST_AUTO_TEST_CASE(empty_counter) {
  run::id_counter c;
  BOOST_TEST(c.size() == 0u);
  BOOST_TEST(c.count(id(1)) == 0u);
  BOOST_TEST(!c.take(id(1)));
  BOOST_TEST(c.count(id(1)) == 0u);
}

BOOST_AUTO_TEST_CASE(add_returns_the_previous_count) {
  run::id_counter c;
  BOOST_TEST(c.add(id(1)) == 0u);
  BOOST_TEST(c.add(id(1)) == 1u);
  BOOST_TEST(c.add(id(2)) == 0u);
  BOOST_TEST(c.add(id(1)) == 2u);
  BOOST_TEST(c.count(id(1)) == 3u);
  BOOST_TEST(c.count(id(2)) == 1u);
  BOOST_TEST(c.count(id(3)) == 0u);
  BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_CASE(take_never_goes_below_zero) {
  run::id_counter c;
  c.add(id(1));
  c.add(id(1));
  BOOST_TEST(!c.take(id(2)));
  BOOST_TEST(c.take(id(1)));
  BOOST_TEST(c.count(id(1)) == 1u);
  BOOST_TEST(c.take(id(1)));
  BOOST_TEST(c.count(id(1)) == 0u);
  BOOST_TEST(!c.take(id(1)));
  BOOST_TEST(!c.take(id(1)));
  BOOST_TEST(c.count(id(1)) == 0u);
  // Counting starts again from zero.
  BOOST_TEST(c.add(id(1)) == 0u);
  BOOST_TEST(c.count(id(1)) == 1u);
}

BOOST_AUTO_TEST_CASE(growth_keeps_every_count) {
  run::id_counter c;
  constexpr std::size_t n = 20000;  // many times the first table
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k <= i % 3; ++k) BOOST_TEST_REQUIRE(c.add(id(i)) == k);
  }
  BOOST_TEST(c.size() == n);
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(c.count(id(i)) == i % 3 + 1);
  BOOST_TEST(c.count(id(n)) == 0u);
}

BOOST_AUTO_TEST_CASE(probe_chains_survive_take_and_growth) {
  run::id_counter c;
  constexpr std::size_t n = 300;
  for (std::size_t i = 0; i < n; ++i) c.add(colliding(i));
  // Emptying a slot in the middle of the chain keeps the ones after it reachable.
  BOOST_TEST(c.take(colliding(10)));
  BOOST_TEST(c.count(colliding(10)) == 0u);
  for (std::size_t i = 11; i < n; ++i) BOOST_TEST_REQUIRE(c.count(colliding(i)) == 1u);
  for (std::size_t i = 0; i < 5000; ++i) c.add(id(i));  // grow past the chain
  BOOST_TEST(c.count(colliding(10)) == 0u);
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 10) BOOST_TEST_REQUIRE(c.count(colliding(i)) == 1u);
  }
  BOOST_TEST(c.add(colliding(10)) == 0u);
  BOOST_TEST(c.size() == n + 5000);
}

BOOST_AUTO_TEST_CASE(reserve_keeps_counts) {
  run::id_counter c;
  c.reserve(0);
  BOOST_TEST(c.count(id(1)) == 0u);
  c.reserve(10);
  for (std::size_t i = 0; i < 100; ++i) c.add(id(i));
  c.add(id(7));
  c.reserve(50);  // smaller than needed already: nothing changes
  c.reserve(100000);
  BOOST_TEST(c.size() == 100u);
  BOOST_TEST(c.count(id(7)) == 2u);
  for (std::size_t i = 0; i < 100; ++i) BOOST_TEST_REQUIRE(c.count(id(i)) >= 1u);
  BOOST_TEST(c.add(id(7)) == 2u);
}

BOOST_AUTO_TEST_CASE(add_many_matches_sequential_add) {
  // Repeats within the batch, on an empty counter: the batch itself makes the table grow.
  check_add_many_matches_add({}, repeated_ids(10000, 3000));
  // Repeats of ids counted before the batch.
  check_add_many_matches_add(repeated_ids(500, 400), repeated_ids(3000, 1000));
  // A single long probe chain, and batches shorter than the prefetch distance.
  std::vector<std::uint64_t> chain;
  for (std::size_t i = 0; i < 200; ++i) chain.push_back(colliding(i % 150));
  check_add_many_matches_add({colliding(3)}, chain);
  check_add_many_matches_add({id(1)}, {id(1), id(2), id(1)});
  check_add_many_matches_add({id(1)}, {});
}

BOOST_AUTO_TEST_CASE(add_many_after_take) {
  run::id_counter c;
  c.add(id(1));
  c.take(id(1));
  std::vector<std::uint32_t> previous(3);
  c.add_many(std::vector<std::uint64_t>{id(1), id(1), id(2)}, previous);
  BOOST_TEST(previous == (std::vector<std::uint32_t>{0, 1, 0}), boost::test_tools::per_element());
  BOOST_TEST(c.count(id(1)) == 2u);
  BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
