// libFuzzer entry: a hostile line of a `run` input file (any of the three forms).
#include "run/line_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The parser reads up to padding() bytes past the line, as the read buffer provides them.
  std::string buffer(reinterpret_cast<const char*>(data), size);
  buffer.append(promptpack::run::line_parser::padding(), '\0');
  static promptpack::run::line_parser parser;
  promptpack::run::job_line line;
  std::string error;
  parser.parse(std::string_view(buffer.data(), size), 1, line, error);
  return 0;
}
