// Tests for the capacity gate behind the connection cap and the gateway's queue: slots of any
// size, refused beyond the capacity, given back when dropped.
#include "server/capacity_gate.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

namespace {

namespace srv = promptpack::server;

}  // namespace

BOOST_AUTO_TEST_SUITE(capacity_gate)

BOOST_AUTO_TEST_CASE(slots_are_refused_beyond_the_capacity_and_come_back_when_dropped) {
  srv::capacity_gate gate(5);
  std::optional<srv::capacity_slot> three = gate.try_enter(3);
  BOOST_TEST_REQUIRE(three.has_value());
  BOOST_TEST(gate.used() == 3u);
  BOOST_TEST(!gate.try_enter(3).has_value());
  {
    auto two = gate.try_enter(2);
    BOOST_TEST(two.has_value());
    BOOST_TEST(gate.used() == 5u);
    BOOST_TEST(!gate.try_enter().has_value());
  }
  BOOST_TEST(gate.used() == 3u);
  three.reset();
  BOOST_TEST(gate.used() == 0u);
  BOOST_TEST(!gate.try_enter(6).has_value());  // more than it will ever hold
  BOOST_TEST(gate.used() == 0u);
}

BOOST_AUTO_TEST_CASE(a_moved_slot_is_given_back_once) {
  srv::capacity_gate gate(1);
  std::vector<srv::capacity_slot> held;
  held.push_back(std::move(*gate.try_enter()));
  BOOST_TEST(gate.used() == 1u);
  held.clear();
  BOOST_TEST(gate.used() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
