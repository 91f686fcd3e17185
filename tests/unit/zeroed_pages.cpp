// Tests for kernel-zeroed arrays: zero on arrival, writable, and owned by one array at a time.
#include "run/zeroed_pages.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

namespace {

namespace run = promptpack::run;

struct pair_of_words {
  std::uint64_t a;
  std::uint32_t b;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(zeroed_pages)

BOOST_AUTO_TEST_CASE(a_large_array_arrives_zeroed_and_keeps_what_is_written) {
  constexpr std::size_t size = std::size_t{3} << 20;  // 48 MiB: asks for huge pages
  run::zeroed_array<pair_of_words> array(size);
  BOOST_TEST_REQUIRE(array.size() == size);
  for (std::size_t i = 0; i < size; i += 4099) {
    BOOST_TEST_REQUIRE(array[i].a == 0u);
    BOOST_TEST_REQUIRE(array[i].b == 0u);
    array[i] = {i + 1, static_cast<std::uint32_t>(i)};
  }
  for (std::size_t i = 0; i < size; i += 4099) BOOST_TEST_REQUIRE(array[i].a == i + 1);
  BOOST_TEST(array[size - 1].a == 0u);
}

BOOST_AUTO_TEST_CASE(moving_and_swapping_hand_the_memory_over) {
  run::zeroed_array<pair_of_words> first(10);
  first[9].a = 99;
  run::zeroed_array<pair_of_words> second;
  BOOST_TEST(second.empty());
  second.swap(first);
  BOOST_TEST(first.empty());
  BOOST_TEST(second.size() == 10u);
  BOOST_TEST(second[9].a == 99u);
  run::zeroed_array<pair_of_words> third(std::move(second));
  BOOST_TEST(third[9].a == 99u);
  BOOST_TEST(second.empty());
}

BOOST_AUTO_TEST_SUITE_END()
