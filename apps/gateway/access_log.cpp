// Formats and writes access-log lines.
#include "gateway/access_log.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace promptpack::gateway {

std::string access_log_line(const access_record& record) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(record.at.time_since_epoch());
  const std::time_t seconds_since_epoch = static_cast<std::time_t>(since_epoch.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds_since_epoch, &utc);
  char stamp[32];
  const std::size_t stamp_size = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  char line[256];
  const int size = std::snprintf(
      line, sizeof line, "%.*s.%03lldZ %.*s %.*s %u prompts=%zu latency_ms=%.2f\n",
      static_cast<int>(stamp_size), stamp, static_cast<long long>(since_epoch.count() % 1000),
      // Beast admits any token as a method; a long one must not crowd out the rest of the line.
      static_cast<int>(std::min<std::size_t>(record.method.size(), 16)), record.method.data(),
      static_cast<int>(route_path(record.route).size()), route_path(record.route).data(),
      record.status, record.prompts, duration<double, std::milli>(record.latency).count());
  return std::string(line, static_cast<std::size_t>(std::max(0, std::min(size, 255))));
}

void write_log_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace promptpack::gateway
