// libFuzzer entry: a hostile endpoint's answer body; the parser must never crash or misplace, and
// its plain-answer fast path must read every body exactly as the full simdjson path does.
#include <promptpack/protocol/response_parser.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using promptpack::parsed_response;
using promptpack::response_parser;

// Prompts that fuzzed echoes can match, including duplicates (matched in order).
constexpr std::array<std::string_view, 6> sent = {"a", "b", "a", "hello", "", "\xc3\xa9"};

bool same(const parsed_response& a, const parsed_response& b) {
  if (a.status != b.status || a.message != b.message ||
      a.unanswered_reason != b.unanswered_reason || a.answers.size() != b.answers.size()) {
    return false;
  }
  if (a.status != promptpack::response_status::ok) return true;
  for (std::size_t i = 0; i < a.answers.size(); ++i) {
    if (a.answers[i].answered != b.answers[i].answered) return false;
    if (!a.answers[i].answered) continue;
    const auto outputs_a = a.outputs_of(i);
    const auto outputs_b = b.outputs_of(i);
    if (!std::equal(outputs_a.begin(), outputs_a.end(), outputs_b.begin(), outputs_b.end()))
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how many prompts the request carried, so short and long data both occur.
  const std::size_t prompt_count = data[0] % (sent.size() + 1);
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string full_body = body;
  static response_parser parser(response_parser::plain_path::on);
  static response_parser full_parser(response_parser::plain_path::off);
  const auto& result = parser.parse(body, {sent.data(), prompt_count});
  const auto& full_result = full_parser.parse(full_body, {sent.data(), prompt_count});
  if (!same(result, full_result)) std::abort();
  if (result.status != promptpack::response_status::ok) return 0;
  // Every answer must point inside the outputs, one answer per prompt sent.
  if (result.answers.size() != prompt_count) std::abort();
  for (const auto& answer : result.answers) {
    if (answer.answered && answer.output_count == 0) std::abort();
    if (answer.first_output + answer.output_count > result.outputs.size()) std::abort();
  }
  return 0;
}
