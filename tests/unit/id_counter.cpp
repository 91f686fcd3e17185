// Tests for the custom_id multiset: counts, take, growth and reserve.
#include "run/id_counter.hpp"

#include "common/id_hashes.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

namespace {

namespace run = promptpack::run;

constexpr auto id = promptpack::test::id_hash;
constexpr auto colliding = promptpack::test::colliding_hash;

}  // namespace

BOOST_AUTO_TEST_SUITE(id_counter)

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

BOOST_AUTO_TEST_SUITE_END()
