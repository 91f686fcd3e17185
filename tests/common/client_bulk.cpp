// Bulk calls on a client with Boost.Test checks: every wait bounded, every failure described.
#include "common/client_bulk.hpp"

#include <boost/test/unit_test.hpp>

#include <future>
#include <string_view>

namespace promptpack::test {

std::vector<std::string> numbered(const std::string& stem, std::size_t count) {
  std::vector<std::string> prompts;
  prompts.reserve(count);
  for (std::size_t i = 0; i < count; ++i) prompts.push_back(stem + " " + std::to_string(i));
  return prompts;
}

std::vector<prompt_result> run_bulk(client& client, const std::vector<std::string>& prompts,
                                    std::chrono::seconds within, prompt_bytes bytes) {
  const std::vector<std::string_view> views(prompts.begin(), prompts.end());
  auto future = client.submit_bulk(views, client.group(), bytes);
  BOOST_TEST_REQUIRE((future.wait_for(within) == std::future_status::ready), "bulk hung");
  return future.get();
}

std::string describe(const prompt_result& result) {
  if (result.ok()) return "ok";
  return std::string(promptpack::to_string(result.error->type)) + " (status " +
         std::to_string(result.error->http_status) + ", " + std::to_string(result.error->attempts) +
         " attempts): " + result.error->message;
}

void check_echo(const prompt_result& result, const std::string& prompt) {
  BOOST_TEST_REQUIRE(result.ok(), prompt << ": " << describe(result));
  BOOST_TEST(result.outputs == std::vector<std::string>{prompt});
}

}  // namespace promptpack::test
