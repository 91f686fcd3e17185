// libFuzzer entry: a hostile line of a `run` input file (any of the three forms), decoded with
// and without the plain-line fast path, which must agree on every line.
#include "run/line_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using promptpack::run::job_line;
using promptpack::run::line_parser;

bool same(const job_line& a, const job_line& b) {
  return a.form == b.form && a.has_custom_id == b.has_custom_id && a.custom_id == b.custom_id &&
         a.prompt == b.prompt && a.overrides.key() == b.overrides.key();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The parser reads up to padding() bytes past the line, as the read buffer provides them.
  std::string buffer(reinterpret_cast<const char*>(data), size);
  buffer.append(line_parser::padding(), '\0');
  const std::string_view line(buffer.data(), size);
  static line_parser fast(line_parser::plain_path::on);
  static line_parser full(line_parser::plain_path::off);
  job_line fast_line;
  job_line full_line;
  std::string fast_error;
  std::string full_error;
  const bool fast_ok = fast.parse(line, 1, fast_line, fast_error);
  const bool full_ok = full.parse(line, 1, full_line, full_error);
  if (fast_ok != full_ok || fast_error != full_error || !same(fast_line, full_line)) std::abort();
  return 0;
}
