// libFuzzer entry: a hostile client's request body, as the reference server reads it.
#include "reference/inference_request.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  static promptpack::reference::inference_request_reader reader;
  promptpack::reference::inference_request request;
  std::string error;
  reader.read(body, request, error);
  return 0;
}
