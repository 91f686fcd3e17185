// libFuzzer entry: a connection's whole life from fuzz bytes; aborts if an answer crosses.
#include "common/connection_life.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto report = promptpack::test::run_connection_life({data, size});
  if (!report.crossed.empty()) {
    std::fprintf(stderr, "answer crossed exchanges: %s\n", report.crossed.c_str());
    std::abort();
  }
  return 0;
}
