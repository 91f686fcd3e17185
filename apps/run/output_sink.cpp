// write(2) loops that never leave half a record behind on EINTR or short writes.
#include "run/output_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace promptpack::run {

void output_sink::write(std::string_view records) {
  std::lock_guard lock(mutex_);
  while (!records.empty()) {
    const ssize_t n = ::write(fd_, records.data(), records.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write the output");
    }
    records.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace promptpack::run
