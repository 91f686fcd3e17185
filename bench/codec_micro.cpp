// Micro-benchmarks of the codec (Google Benchmark): request encoding and response parsing in
// MB/s and prompts/s, beside simdjson's own speed on the same bytes, the limit they approach.
#include <promptpack/protocol/json_text.hpp>
#include <promptpack/protocol/request_writer.hpp>
#include <promptpack/protocol/response_parser.hpp>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t batch = 256;

// Prompts of about 50 bytes, one with characters to escape, as in bench/run_throughput.sh.
const std::vector<std::string>& prompts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < batch; ++i) {
      out.push_back("The capital of country number " + std::to_string(i) +
                    (i % 16 == 0 ? " is \"quoted\"\tand tabbed" : " is"));
    }
    return out;
  }();
  return texts;
}

std::vector<std::string_view> prompt_views() {
  return {prompts().begin(), prompts().end()};
}

// The answer an endpoint gives to the batch: with echoed prompts (matched by text) or without.
std::string answer_body(bool echo) {
  std::string body = R"({"data":[)";
  for (std::size_t i = 0; i < batch; ++i) {
    if (i) body += ',';
    body += '{';
    if (echo) {
      body += R"("prompt":)";
      promptpack::append_json_string(body, prompts()[i]);
      body += ',';
    }
    body += R"("output":["Paris, a city of about two million people on the Seine."]})";
  }
  body += R"(],"message":"ok"})";
  return body;
}

void encode_request(benchmark::State& state) {
  const promptpack::request_writer writer("custom/bench", promptpack::sampling_params{});
  const auto views = prompt_views();
  promptpack::write_buffer body;
  for (auto _ : state) {
    writer.begin(body);
    for (std::size_t i = 0; i < views.size(); ++i) {
      benchmark::DoNotOptimize(promptpack::request_writer::add_prompt(body, views[i], i == 0));
    }
    writer.end(body);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(encode_request);

using plain_path = promptpack::response_parser::plain_path;

// With the plain-answer scan (the default) and without it (simdjson for every answer). An answer
// with one escaped prompt (echo:1 has one in 16) goes to simdjson either way.
template <plain_path Path>
void parse_response(benchmark::State& state) {
  const bool echo = state.range(0) != 0;
  const std::string original = answer_body(echo);
  const auto views = prompt_views();
  promptpack::response_parser parser(Path);
  std::string body = original;
  for (auto _ : state) {
    const auto& parsed = parser.parse(body, views);
    benchmark::DoNotOptimize(parsed.outputs.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * original.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK_TEMPLATE(parse_response, plain_path::on)->Arg(0)->Arg(1)->ArgName("echo");
BENCHMARK_TEMPLATE(parse_response, plain_path::off)->Arg(0)->Arg(1)->ArgName("echo");

// The floor: simdjson On-Demand walking the same answer and reading every output string, with
// none of the checks and matching the parser does.
void simdjson_walk(benchmark::State& state) {
  const std::string original = answer_body(state.range(0) != 0);
  const simdjson::padded_string body(original);
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    std::size_t total = 0;
    auto doc = parser.iterate(body);
    for (auto entry : doc["data"].get_array()) {
      for (auto output : entry["output"].get_array()) {
        std::string_view text = output.get_string();
        total += text.size();
      }
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * original.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(simdjson_walk)->Arg(0)->Arg(1)->ArgName("echo");

void escape_prompts(benchmark::State& state) {
  std::string out;
  std::size_t bytes = 0;
  for (const auto& p : prompts()) bytes += p.size();
  for (auto _ : state) {
    out.clear();
    for (const auto& p : prompts()) promptpack::append_json_string(out, p);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(escape_prompts);

void validate_utf8(benchmark::State& state) {
  const std::string text = answer_body(true);
  for (auto _ : state) benchmark::DoNotOptimize(promptpack::is_valid_utf8(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(validate_utf8);

void simdjson_validate_utf8(benchmark::State& state) {
  const std::string text = answer_body(true);
  for (auto _ : state) benchmark::DoNotOptimize(simdjson::validate_utf8(text.data(), text.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(simdjson_validate_utf8);

// The same two on each prompt, as the client checks them: short strings, call overhead included.
template <bool (*validate)(std::string_view)>
void validate_each_prompt(benchmark::State& state) {
  for (auto _ : state) {
    for (const auto& p : prompts()) benchmark::DoNotOptimize(validate(p));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
bool ours(std::string_view text) {
  return promptpack::is_valid_utf8(text);
}
bool simdjsons(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}
BENCHMARK(validate_each_prompt<ours>);
BENCHMARK(validate_each_prompt<simdjsons>);

}  // namespace

BENCHMARK_MAIN();
