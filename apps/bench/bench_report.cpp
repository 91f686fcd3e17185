// Formats bench_result for people (aligned table, verdicts in words) and for tools (JSON).
#include "bench/bench_report.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <cmath>
#include <cstdio>
#include <string_view>

namespace promptpack::bench {
namespace {

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// 1234567 -> "1,234,567": large rates are read at a glance.
std::string grouped(double value) {
  const std::string digits = fixed(std::abs(value), 0);
  std::string text = value < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

std::string failure_breakdown(const bench_result& r) {
  std::string text;
  for (std::size_t t = 0; t < r.failed_by_type.size(); ++t) {
    if (r.failed_by_type[t] == 0) continue;
    if (!text.empty()) text += ", ";
    text +=
        std::to_string(r.failed_by_type[t]) + " " + std::string(to_string(static_cast<errc>(t)));
  }
  return text.empty() ? "" : " (" + text + ")";
}

std::string limit_verdict(const bench_result& r) {
  const double share = r.elapsed_s > 0 ? r.client_cpu_s / (r.elapsed_s * r.cores) : 0;
  std::string text = fixed(100 * share, 0) + "% of " + std::to_string(r.cores) +
                     (r.cores == 1 ? " core" : " cores") + " it could keep busy";
  if (r.cpu_includes_endpoint) {
    return text + ", the embedded endpoint included: give --api-base to measure the client alone";
  }
  return text + (r.client_limited ? ": the client was the limit (CPU-bound)"
                                  : ": the endpoint (or the network) was the limit");
}

void append_field(std::string& out, std::string_view name, double value) {
  out += '"';
  out += name;
  out += "\":";
  out += fixed(value, value == static_cast<double>(static_cast<long long>(value)) ? 0 : 6);
  out += ',';
}

void append_bool(std::string& out, std::string_view name, bool value) {
  out += '"';
  out += name;
  out += "\":";
  out += value ? "true," : "false,";
}

std::string result_json(const bench_result& r) {
  std::string out = "{";
  append_field(out, "prompts_ok", static_cast<double>(r.prompts_ok));
  append_field(out, "prompts_failed", static_cast<double>(r.prompts_failed));
  out += "\"failed_by_type\":{";
  bool first = true;
  for (std::size_t t = 0; t < r.failed_by_type.size(); ++t) {
    if (r.failed_by_type[t] == 0) continue;
    if (!first) out += ',';
    first = false;
    append_json_string(out, to_string(static_cast<errc>(t)));
    out += ':' + std::to_string(r.failed_by_type[t]);
  }
  out += "},";
  append_field(out, "requests", static_cast<double>(r.requests));
  append_field(out, "elapsed_s", r.elapsed_s);
  append_field(out, "prompts_per_s", r.prompts_per_s);
  append_field(out, "requests_per_s", r.requests_per_s);
  append_field(out, "mean_prompts_per_request", r.mean_prompts_per_request);
  out += "\"latency_ms\":{";
  append_field(out, "p50", r.latency.p50);
  append_field(out, "p90", r.latency.p90);
  append_field(out, "p99", r.latency.p99);
  append_field(out, "p999", r.latency.p999);
  append_field(out, "max", r.latency.max);
  append_field(out, "mean", r.latency.mean);
  out.back() = '}';
  out += ',';
  append_field(out, "rate_requested", r.rate_requested);
  append_field(out, "rate_achieved", r.rate_achieved);
  append_field(out, "max_lag_ms", r.max_lag_ms);
  append_bool(out, "fell_behind", r.fell_behind);
  append_field(out, "client_cpu_s", r.client_cpu_s);
  append_field(out, "client_us_per_prompt", r.client_us_per_prompt);
  append_field(out, "cores", r.cores);
  append_bool(out, "client_limited", r.client_limited);
  append_bool(out, "cpu_includes_endpoint", r.cpu_includes_endpoint);
  out += "\"window_prompts_per_s\":[";
  for (std::size_t i = 0; i < r.window_prompts_per_s.size(); ++i) {
    if (i) out += ',';
    out += fixed(r.window_prompts_per_s[i], 1);
  }
  out += "],";
  append_bool(out, "unstable", r.unstable);
  append_bool(out, "interrupted", r.interrupted);
  out += "\"batch_size_tuning\":";
  append_json_string(out, r.batch_size_tuning);
  out += ',';
  out.back() = '}';
  return out;
}

std::string run_json(const run_description& run) {
  std::string out = "{\"endpoint\":";
  append_json_string(out, run.endpoint);
  out += ",\"loop\":";
  out += run.closed_loop ? "\"closed\"," : "\"open\",";
  append_field(out, "batch_size", static_cast<double>(run.batch_size));
  append_bool(out, "adaptive_batch", run.adaptive);
  append_field(out, "connections", static_cast<double>(run.connections));
  append_field(out, "warmup_s", run.warmup_s);
  append_field(out, "mean_prompt_bytes", run.prompt_bytes);
  out.back() = '}';
  return out;
}

}  // namespace

std::string nothing_answered(const bench_result& r) {
  if (r.prompts_ok > 0 || r.prompts_failed == 0) return "";
  return "every prompt failed" + failure_breakdown(r) +
         ", so nothing was measured: check --api-base, the key and that the endpoint is up (the "
         "errors are counted by type above)";
}

std::string embedded_endpoint_name(double latency_ms, double per_prompt_us, double per_token_us,
                                   std::size_t max_batch) {
  // Shortest form: 40 -> "40", 0.25 -> "0.25".
  const auto number = [](double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", value);
    return std::string(buf);
  };
  std::string costs;
  const auto cost = [&](double value, const char* unit_and_what) {
    if (value <= 0) return;
    costs += (costs.empty() ? "" : " + ") + number(value) + unit_and_what;
  };
  cost(latency_ms, " ms a request");
  cost(per_prompt_us, " us a prompt");
  cost(per_token_us, " us a max_tokens step");
  std::string name = "embedded reference endpoint (";
  if (costs.empty()) {
    name += "answers at once; --server-latency-ms and --server-per-prompt-us make it GPU-like";
  } else {
    name += "GPU-like: " + costs;
  }
  if (max_batch > 0) name += "; 413 above " + std::to_string(max_batch) + " prompts";
  return name + ")";
}

void print_table(std::ostream& out, const run_description& run, const bench_result& r) {
  out << "promptpack bench: " << run.endpoint << ", " << (run.closed_loop ? "closed" : "open")
      << " loop, batch " << (run.adaptive ? std::string("auto") : std::to_string(run.batch_size))
      << ", " << run.connections << " connections, after a " << fixed(run.warmup_s, 1)
      << " s warm-up" << (r.interrupted ? " (interrupted by Ctrl-C)" : "") << "\n";
  out << "  prompts       " << r.prompts_ok << " ok, " << r.prompts_failed << " failed"
      << failure_breakdown(r) << " in " << fixed(r.elapsed_s, 3) << " s\n";
  out << "  requests      " << r.requests << " (" << fixed(r.mean_prompts_per_request, 1)
      << " prompts per request on average)\n";
  out << "  throughput    " << grouped(r.prompts_per_s) << " prompts/s answered, "
      << grouped(r.requests_per_s) << " requests/s\n";
  if (r.rate_requested > 0) {
    out << "  rate          asked " << grouped(r.rate_requested) << " prompts/s, achieved "
        << grouped(r.rate_achieved) << " (" << fixed(100 * r.rate_achieved / r.rate_requested, 1)
        << "%), worst lag " << fixed(r.max_lag_ms, 2) << " ms"
        << (r.fell_behind ? ": FELL BEHIND its schedule" : ": on schedule") << "\n";
  }
  out << "  latency (ms)  p50 " << fixed(r.latency.p50, 3) << "  p90 " << fixed(r.latency.p90, 3)
      << "  p99 " << fixed(r.latency.p99, 3) << "  p99.9 " << fixed(r.latency.p999, 3) << "  max "
      << fixed(r.latency.max, 3) << "\n";
  out << "  client CPU    " << fixed(r.client_cpu_s, 3)
      << " s = " << fixed(r.client_us_per_prompt, 3) << " us per prompt; " << limit_verdict(r)
      << "\n";
  if (!r.batch_size_tuning.empty()) out << "  batch size    auto: " << r.batch_size_tuning << "\n";
  if (!r.window_prompts_per_s.empty()) {
    out << "  windows       " << r.window_prompts_per_s.size() << " x "
        << fixed(r.elapsed_s / static_cast<double>(r.window_prompts_per_s.size()), 3)
        << " s, prompts/s:";
    for (double w : r.window_prompts_per_s) out << " " << grouped(w);
    out << (r.unstable ? "  UNSTABLE: windows differ by more than 10%; run longer or quieter"
                       : "  (stable)")
        << "\n";
  }
}

void print_sweep_table(std::ostream& out, const std::string& swept,
                       const std::vector<sweep_row>& rows) {
  out << "| " << swept
      << " | prompts/s | requests/s | p50 ms | p99 ms | failed | client us/prompt | stable |\n";
  out << "|---:|---:|---:|---:|---:|---:|---:|:---:|\n";
  for (const auto& row : rows) {
    const auto& r = row.result;
    out << "| "
        << fixed(row.value,
                 row.value == static_cast<double>(static_cast<long long>(row.value)) ? 0 : 2)
        << " | " << grouped(r.prompts_per_s) << " | " << grouped(r.requests_per_s) << " | "
        << fixed(r.latency.p50, 3) << " | " << fixed(r.latency.p99, 3) << " | " << r.prompts_failed
        << " | " << fixed(r.client_us_per_prompt, 3) << " | " << (r.unstable ? "no" : "yes")
        << " |\n";
  }
}

std::string to_json(const run_description& run, const bench_result& result) {
  // Flat, so a script reads result.prompts_per_s as .prompts_per_s.
  return "{\"run\":" + run_json(run) + "," + result_json(result).substr(1) + "\n";
}

std::string to_json(const run_description& run, const std::string& swept,
                    const std::vector<sweep_row>& rows) {
  std::string out = "{\"run\":" + run_json(run) + ",\"sweep\":";
  append_json_string(out, swept);
  out += ",\"rows\":[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ',';
    out += "{\"value\":" + fixed(rows[i].value, 6) + ",\"result\":" + result_json(rows[i].result) +
           "}";
  }
  return out + "]}\n";
}

}  // namespace promptpack::bench
