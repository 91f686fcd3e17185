// Progress and summary text for `promptpack run`.
#include "run/job_stats.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace promptpack::run {

std::uint64_t job_stats::failed() const {
  std::uint64_t total = 0;
  for (const auto& f : failed_by_type) total += f.load(std::memory_order_relaxed);
  return total;
}

namespace {

__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...) {
  char buffer[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buffer, sizeof buffer, fmt, args);
  va_end(args);
  return buffer;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds);
  return format("%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace

std::string progress_line(const job_stats& stats, std::uint64_t total, bool total_estimated,
                          std::chrono::duration<double> elapsed, std::string_view batch_size) {
  const auto done = stats.done();
  const double rate = elapsed.count() > 0 ? static_cast<double>(done) / elapsed.count() : 0;
  std::string line = format("promptpack run: %llu", static_cast<unsigned long long>(done));
  if (total > 0) {
    // An estimated total can be passed: the share stops short of 100% until the job ends.
    const double share = std::min(total_estimated ? 99.9 : 100.0,
                                  100.0 * static_cast<double>(done) / static_cast<double>(total));
    line += format(total_estimated ? "/~%llu lines (%.1f%%)" : "/%llu lines (%.1f%%)",
                   static_cast<unsigned long long>(total), share);
  } else {
    line += " lines";
  }
  line += format("  %.0f prompts/s  %llu errors", rate,
                 static_cast<unsigned long long>(stats.failed()));
  if (total > done && rate > 0)
    line += "  ETA " + clock_text(static_cast<double>(total - done) / rate);
  if (!batch_size.empty()) line += "  batch: " + std::string(batch_size);
  return line;
}

std::string summary_text(const job_stats& stats, const client_stats& client,
                         std::chrono::duration<double> elapsed) {
  const auto done = stats.done();
  const double seconds = elapsed.count();
  std::string text = format("promptpack run: %llu lines in %.2f s (%.0f prompts/s)\n",
                            static_cast<unsigned long long>(done), seconds,
                            seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
  text += format("  succeeded %llu, failed %llu",
                 static_cast<unsigned long long>(stats.succeeded.load()),
                 static_cast<unsigned long long>(stats.failed()));
  std::string by_type;
  for (std::size_t t = 1; t < stats.failed_by_type.size(); ++t) {
    const auto n = stats.failed_by_type[t].load();
    if (n == 0) continue;
    if (!by_type.empty()) by_type += ", ";
    by_type += std::string(to_string(static_cast<errc>(t))) + " " + std::to_string(n);
  }
  if (!by_type.empty()) text += " (" + by_type + ")";
  if (const auto duplicates = stats.duplicates.load()) {
    text += format(", %llu repeating an earlier custom_id",
                   static_cast<unsigned long long>(duplicates));
  }
  if (const auto skipped = stats.skipped.load()) {
    text += format(", skipped %llu already done", static_cast<unsigned long long>(skipped));
  }
  if (const auto unfinished = stats.unfinished.load()) {
    text += format(", %llu unfinished at the stop (no record: --resume runs them)",
                   static_cast<unsigned long long>(unfinished));
  }
  text += "\n";
  const double per_request =
      client.requests_sent > 0
          ? static_cast<double>(client.prompts_sent) / static_cast<double>(client.requests_sent)
          : 0.0;
  text += format(
      "  requests %llu (%llu retried), mean %.1f prompts/request, latency p50 %.1f ms, p99 %.1f "
      "ms\n",
      static_cast<unsigned long long>(client.requests_sent),
      static_cast<unsigned long long>(client.requests_retried), per_request, client.latency_p50_ms,
      client.latency_p99_ms);
  if (!client.batch_size_tuning.empty()) {
    text += "  batch size (auto): " + client.batch_size_tuning + "\n";
  }
  if (client.rate_limited_answers > 0) {
    text += format(
        "  rate limited: %llu answers (429, 503 + Retry-After), endpoints waited %.1f s\n",
        static_cast<unsigned long long>(client.rate_limited_answers), client.rate_limit_wait_s);
  }
  return text;
}

}  // namespace promptpack::run
