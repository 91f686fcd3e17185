// Tests for the gateway's routes: --route NAME=URL, one client per model, `custom/` optional,
// and the /v1/models list.
#include "gateway/route_table.hpp"

#include <simdjson.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace gw = promptpack::gateway;

/// Runs `check` on a table of `routes`, then shuts its clients down in order.
template <class Check>
void with_table(const std::vector<gw::route_spec>& routes, Check check) {
  boost::asio::io_context ioc;
  std::optional<gw::route_table> table(std::in_place, ioc.get_executor(),
                                       promptpack::client_config{}, routes);
  check(*table);
  boost::asio::co_spawn(ioc, table->shutdown(), boost::asio::detached);
  ioc.run();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(route_table)

BOOST_AUTO_TEST_CASE(a_route_flag_names_a_model_and_its_endpoint) {
  const auto spec = gw::parse_route("llama=http://10.0.0.5:8000/inference?x=1");
  BOOST_TEST(spec.model == "llama");
  BOOST_TEST_REQUIRE(spec.endpoints.size() == 1u);
  BOOST_TEST(spec.endpoints[0].api_base == "http://10.0.0.5:8000/inference?x=1");
  for (const char* bad : {"llama", "=http://x", "llama="}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_CHECK_THROW(gw::parse_route(bad), std::invalid_argument);
    }
  }
}

BOOST_AUTO_TEST_CASE(models_are_found_with_or_without_custom) {
  with_table({gw::parse_route("custom/llama=http://127.0.0.1:9/a"),
              gw::parse_route("mistral=http://127.0.0.1:9/b"),
              gw::parse_route("llama=http://127.0.0.1:9/c")},
             [](gw::route_table& table) {
               BOOST_TEST(table.find("llama") != nullptr);
               BOOST_TEST(table.find("custom/llama") == table.find("llama"));
               BOOST_TEST(table.find("custom/mistral") == table.find("mistral"));
               BOOST_TEST(table.find("mistral") != table.find("llama"));
               BOOST_TEST(table.find("gpt-4") == nullptr);
               // A model named twice is one client over both endpoints.
               BOOST_TEST(table.find("llama")->config().endpoints.size() == 2u);
               BOOST_TEST(table.stats().size() == 2u);

               simdjson::dom::parser parser;
               simdjson::dom::array data;
               BOOST_TEST_REQUIRE(parser.parse(table.models_json())["data"].get(data) ==
                                  simdjson::SUCCESS);
               BOOST_TEST(data.size() == 2u);
               BOOST_TEST(std::string_view(data.at(0)["id"]) == "llama");
               BOOST_TEST(std::string_view(data.at(1)["id"]) == "mistral");
               BOOST_TEST(std::string_view(data.at(1)["object"]) == "model");
             });
}

BOOST_AUTO_TEST_CASE(a_bad_endpoint_is_refused_naming_its_model) {
  boost::asio::io_context ioc;
  try {
    gw::route_table table(ioc.get_executor(), {}, {gw::parse_route("llama=not a url")});
    BOOST_TEST(false, "a bad URL was taken");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).starts_with("model 'llama': "), e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
