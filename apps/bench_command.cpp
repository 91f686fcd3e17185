// `promptpack bench`: measures an endpoint (or the embedded one) at a batch size, concurrency and
// arrival rate, or sweeps one of them; a table on stdout, JSON and an SVG chart on request.
#include "bench/bench_report.hpp"
#include "bench/load_run.hpp"
#include "bench/svg_chart.hpp"
#include "client_options.hpp"
#include "commands.hpp"
#include "embedded_endpoint.hpp"
#include "stop_signal.hpp"

#include <promptpack/client.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace promptpack::cli {
namespace {

struct bench_flags {
  client_options client;
  bench::load_settings load;
  std::size_t prompt_words = 8;
  std::string prompts_file;
  std::string sweep;
  std::string json_path;
  std::string chart_path;
  reference::reference_config server;  // the embedded endpoint, when no --api-base is given
};

// `name=v1,v2,...` for connections, batch-size or rate.
struct sweep_plan {
  std::string name;
  std::vector<double> values;
};

sweep_plan parse_sweep(const std::string& text) {
  const auto equals = text.find('=');
  sweep_plan plan{text.substr(0, equals), {}};
  if (equals == std::string::npos ||
      (plan.name != "connections" && plan.name != "batch-size" && plan.name != "rate")) {
    throw CLI::ValidationError("bench",
                               "--sweep must be connections=..., batch-size=... or "
                               "rate=... with comma-separated values, e.g. "
                               "connections=1,2,4,8");
  }
  std::stringstream values(text.substr(equals + 1));
  for (std::string item; std::getline(values, item, ',');) {
    char* end = nullptr;
    const double value = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(value > 0)) {
      throw CLI::ValidationError("bench", "--sweep value '" + item + "' must be a number > 0");
    }
    plan.values.push_back(value);
  }
  if (plan.values.empty()) throw CLI::ValidationError("bench", "--sweep needs at least one value");
  return plan;
}

// Applies one swept value to a copy of the settings.
void apply(const std::string& name, double value, client_config& config,
           bench::load_settings& load) {
  if (name == "connections") config.connections_per_endpoint = static_cast<std::size_t>(value);
  if (name == "batch-size") config.max_batch_prompts = static_cast<std::size_t>(value);
  if (name == "rate") load.rate = value;
}

bench::bench_result measure(client_config config, bench::load_settings load,
                            const bench::prompt_source& prompts) {
  // With --batch-size auto a submission of 1,024 prompts, two per connection, leaves the tuner
  // room to grow to 2,048 a request; a fixed size submits one batch at a time.
  load.block_prompts = config.adaptive_batch ? 1024 : config.max_batch_prompts;
  // Closed loop: two submissions per connection keep every connection busy while answers are read.
  load.blocks_in_flight =
      std::max<std::size_t>(2, 2 * config.connections_per_endpoint * config.endpoints.size());
  config.max_pending = load.rate > 0 ? std::max<std::size_t>(config.max_pending, 1u << 22)
                                     : load.blocks_in_flight * load.block_prompts;
  // The closed loop's driver sleeps once it has submitted (I/O threads refill the blocks); the
  // open loop's keeps the schedule, a thread of its own.
  load.busy_threads += (config.threads ? config.threads : std::thread::hardware_concurrency()) +
                       (load.rate > 0 ? 1 : 0);
  promptpack::client client(std::move(config));
  auto result = bench::run_load(client, prompts, load, [] { return stop_signal::requested(); });
  result.batch_size_tuning = client.stats().batch_size_tuning;
  client.shutdown(shutdown_mode::cancel);
  return result;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) {
    throw std::runtime_error("cannot write '" + path + "'; check the directory exists");
  }
}

void run_bench(bench_flags& flags, int& exit_status) {
  stop_signal::install();
  const std::optional<sweep_plan> sweep =
      flags.sweep.empty() ? std::nullopt : std::optional(parse_sweep(flags.sweep));
  embedded_endpoint embedded;
  if (flags.client.api_bases.empty()) {
    flags.server.threads = std::max(1u, flags.server.threads);
    embedded = start_embedded_endpoint("bench", flags.server);
    flags.load.cpu_includes_endpoint = true;
    flags.load.busy_threads = flags.server.threads;
  }
  finish_client_options(flags.client, "bench", embedded.api_base);
  const bench::prompt_source prompts = flags.prompts_file.empty()
                                           ? bench::prompt_source::generated(flags.prompt_words)
                                           : bench::prompt_source::from_file(flags.prompts_file);
  const auto& config = flags.client.config;
  bench::run_description run{
      .endpoint = embedded.server ? bench::embedded_endpoint_name(
                                        flags.server.latency_ms, flags.server.per_prompt_us,
                                        flags.server.per_token_us, flags.server.max_batch)
                                  : config.endpoints[0].api_base,
      .closed_loop = flags.load.rate <= 0,
      .batch_size = config.max_batch_prompts,
      .adaptive = config.adaptive_batch,
      .connections = config.connections_per_endpoint,
      .warmup_s = flags.load.warmup_s,
      .prompt_bytes = prompts.mean_bytes()};
  if (config.endpoints.size() > 1)
    run.endpoint += " and " + std::to_string(config.endpoints.size() - 1) + " more";

  if (!sweep) {
    const auto result = measure(config, flags.load, prompts);
    bench::print_table(std::cout, run, result);
    if (!flags.json_path.empty()) write_file(flags.json_path, bench::to_json(run, result));
    exit_status = result.interrupted ? stop_signal::exit_status() : exit_ok;
    if (const std::string failed = bench::nothing_answered(result); !failed.empty()) {
      std::cerr << "promptpack bench: " << failed << "\n";
      if (!result.interrupted) exit_status = exit_some_failed;
    }
    return;
  }
  bool a_row_failed = false;
  std::vector<bench::sweep_row> rows;
  for (double value : sweep->values) {
    client_config swept_config = config;
    bench::load_settings swept_load = flags.load;
    apply(sweep->name, value, swept_config, swept_load);
    rows.push_back({value, measure(swept_config, swept_load, prompts)});
    std::cerr << "promptpack bench: " << sweep->name << " " << value << ": "
              << static_cast<long long>(rows.back().result.prompts_per_s) << " prompts/s\n";
    if (const std::string failed = bench::nothing_answered(rows.back().result); !failed.empty()) {
      std::cerr << "promptpack bench: " << sweep->name << " " << value << ": " << failed << "\n";
      a_row_failed = true;
    }
    if (rows.back().result.interrupted) break;
  }
  bench::print_sweep_table(std::cout, sweep->name, rows);
  if (!flags.json_path.empty()) write_file(flags.json_path, bench::to_json(run, sweep->name, rows));
  if (!flags.chart_path.empty()) {
    std::vector<bench::chart_point> points;
    for (const auto& row : rows) {
      std::ostringstream label;
      label << row.value;
      points.push_back({label.str(), row.result.prompts_per_s, row.result.latency.p99});
    }
    write_file(flags.chart_path,
               bench::render_sweep_chart("promptpack bench: " + run.endpoint, sweep->name, points));
  }
  exit_status = !rows.empty() && rows.back().result.interrupted ? stop_signal::exit_status()
                : a_row_failed                                  ? exit_some_failed
                                                                : exit_ok;
}

}  // namespace

void add_bench_command(CLI::App& root, int& exit_status) {
  auto flags = std::make_shared<bench_flags>();
  auto& c = flags->client.config;
  c.model = "custom/promptpack-reference";
  c.max_batch_prompts = 256;
  flags->server.generator = reference::generator_kind::fixed;
  auto* cmd = root.add_subcommand(
      "bench",
      "Measure an endpoint's throughput and latency (or sweep batch size, connections "
      "or rate)");
  add_client_options(*cmd, flags->client);
  auto& load = flags->load;
  auto* prompts =
      cmd->add_option("--prompts", load.prompts, "prompts to measure (after the warm-up)");
  cmd->add_option("--duration", load.duration_s, "seconds to measure (when --prompts is not given)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->excludes(prompts);
  cmd->add_option("--warmup", load.warmup_s, "seconds sent first and not measured")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--prompt-words", flags->prompt_words, "words per generated prompt")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--prompts-file", flags->prompts_file,
                  "JSONL of real prompts (run's input forms), cycled through")
      ->check(CLI::ExistingFile);
  cmd->add_option("--rate", load.rate,
                  "open loop: prompts/s arriving on a schedule (default: closed loop, as fast as "
                  "the endpoint answers)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--burstiness", load.burstiness,
                  "open loop: gamma shape of the arrival gaps; 1 is Poisson, lower is burstier")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--windows", load.windows, "equal windows the measurement is checked over")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  cmd->add_option("--sweep", flags->sweep,
                  "one run per value: connections=1,2,4,8 or batch-size=... or rate=...");
  cmd->add_option("--json", flags->json_path, "also write the figures as JSON to FILE");
  cmd->add_option("--chart", flags->chart_path,
                  "with --sweep: write an SVG chart of throughput and p99 against the value");
  auto& s = flags->server;
  cmd->add_option("--server-latency-ms", s.latency_ms,
                  "embedded endpoint: fixed cost per request (GPU-like latency model)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server-per-prompt-us", s.per_prompt_us,
                  "embedded endpoint: cost per prompt in a batch")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server-per-token-us", s.per_token_us,
                  "embedded endpoint: cost per max_tokens step")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server-max-batch", s.max_batch,
                  "embedded endpoint: answer 413 above this many prompts (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--server-threads", s.threads, "embedded endpoint: I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  cmd->callback([flags, &exit_status] { run_bench(*flags, exit_status); });
}

}  // namespace promptpack::cli
