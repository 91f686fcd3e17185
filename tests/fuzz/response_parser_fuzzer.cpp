// libFuzzer entry: a hostile endpoint's answer body; the parser must never crash or misplace.
#include <promptpack/protocol/response_parser.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Prompts that fuzzed echoes can match, including duplicates (matched in order).
constexpr std::array<std::string_view, 6> sent = {"a", "b", "a", "hello", "", "\xc3\xa9"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how many prompts the request carried, so short and long data both occur.
  const std::size_t prompt_count = data[0] % (sent.size() + 1);
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  static promptpack::response_parser parser;
  const auto& result = parser.parse(body, {sent.data(), prompt_count});
  if (result.status != promptpack::response_status::ok) return 0;
  // Every answer must point inside the outputs, one answer per prompt sent.
  if (result.answers.size() != prompt_count) std::abort();
  for (const auto& answer : result.answers) {
    if (answer.answered && answer.output_count == 0) std::abort();
    if (answer.first_output + answer.output_count > result.outputs.size()) std::abort();
  }
  return 0;
}
