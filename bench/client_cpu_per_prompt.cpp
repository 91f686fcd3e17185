// client CPU per prompt at 256 prompts a request: promptpack's bulk path against a plain
// Beast + simdjson loop, side by side against the same endpoint (serve --generator fixed).
#include <promptpack/client.hpp>

#include <simdjson.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

std::vector<std::string> make_prompts(std::size_t count) {
  std::vector<std::string> prompts;
  prompts.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    prompts.push_back("The capital of country number " + std::to_string(i) + " is");
  return prompts;
}

// The straightforward client: a std::string per prompt and per output, a request object per batch,
// one blocking keep-alive connection.
double baseline_us_per_prompt(const std::string& host, const std::string& port,
                              const std::string& target, const std::vector<std::string>& prompts,
                              std::size_t batch) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::resolver(ioc).resolve(host, port));
  beast::flat_buffer buffer;
  simdjson::dom::parser parser;
  std::size_t answered = 0;
  const double start = cpu_seconds(RUSAGE_THREAD);
  for (std::size_t first = 0; first < prompts.size(); first += batch) {
    std::vector<std::string> chunk(
        prompts.begin() + static_cast<std::ptrdiff_t>(first),
        prompts.begin() + static_cast<std::ptrdiff_t>(std::min(first + batch, prompts.size())));
    std::string body = R"({"model":"m","params":{"prompt":[)";
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if (i) body += ',';
      body += '"';
      for (char c : chunk[i]) {
        if (c == '"' || c == '\\') body += '\\';
        body += c;
      }
      body += '"';
    }
    body += R"(],"max_tokens":32,"temperature":0.7,"top_p":1,"top_k":40}})";
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    simdjson::dom::element doc = parser.parse(res.body());
    std::vector<std::vector<std::string>> outputs;
    for (auto entry : doc["data"].get_array()) {
      std::vector<std::string> outs;
      for (auto o : entry["output"].get_array())
        outs.emplace_back(std::string_view(o.get_string()));
      outputs.push_back(std::move(outs));
    }
    answered += outputs.size();
  }
  const double cpu = cpu_seconds(RUSAGE_THREAD) - start;
  if (answered != prompts.size())
    std::fprintf(stderr, "baseline: %zu of %zu answered\n", answered, prompts.size());
  return cpu / static_cast<double>(prompts.size()) * 1e6;
}

// The bulk path: one sink for a whole span, results read in place.
class counting_sink final : public promptpack::bulk_sink {
 public:
  void on_results(std::span<const promptpack::bulk_result> results) override {
    std::size_t bytes = 0;
    for (const auto& r : results) {
      if (r.error) errors_.fetch_add(1, std::memory_order_relaxed);
      for (auto o : r.outputs) bytes += o.size();
    }
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void on_complete() override {
    done_.test_and_set();
    done_.notify_all();
  }
  void wait() { done_.wait(false); }
  std::size_t errors() const { return errors_.load(); }

 private:
  std::atomic<std::size_t> errors_{0}, bytes_{0};
  std::atomic_flag done_;
};

double promptpack_us_per_prompt(const std::string& api_base,
                                const std::vector<std::string>& prompts, std::size_t batch,
                                std::size_t connections) {
  promptpack::client_config config;
  config.endpoints = {{api_base, 1.0}};
  config.model = "custom/m";
  config.max_batch_prompts = batch;
  config.connections_per_endpoint = connections;
  config.max_pending = prompts.size();
  promptpack::client client(config);
  const std::vector<std::string_view> views(prompts.begin(), prompts.end());
  const auto group = client.group();
  const double start = cpu_seconds(RUSAGE_SELF);
  counting_sink sink;
  client.submit_bulk(views, group, sink);
  sink.wait();
  const double cpu = cpu_seconds(RUSAGE_SELF) - start;
  if (sink.errors()) std::fprintf(stderr, "promptpack: %zu errors\n", sink.errors());
  return cpu / static_cast<double>(prompts.size()) * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT [PROMPTS] [BATCH] [CONNECTIONS]\n"
                 "  against `promptpack serve --generator fixed --port PORT`\n",
                 argv[0]);
    return 2;
  }
  const std::string host = argv[1], port = argv[2];
  const std::size_t count = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1'000'000;
  const std::size_t batch = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 256;
  const std::size_t connections = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 8;
  const auto prompts = make_prompts(count);
  const std::string target = "/inference";
  // Warm-up: connections, page faults, allocator.
  baseline_us_per_prompt(host, port, target, make_prompts(batch * 20), batch);
  promptpack_us_per_prompt("http://" + host + ":" + port + target, make_prompts(batch * 20), batch,
                           connections);

  const double baseline = baseline_us_per_prompt(host, port, target, prompts, batch);
  const double bulk =
      promptpack_us_per_prompt("http://" + host + ":" + port + target, prompts, batch, connections);
  std::printf("client CPU per prompt, %zu prompts, %zu per request:\n", count, batch);
  std::printf("  plain Beast + simdjson loop : %.3f us\n", baseline);
  std::printf("  promptpack bulk API         : %.3f us  (%zu connections)\n", bulk, connections);
  std::printf("  ratio                       : %.2fx less CPU\n", baseline / bulk);
  std::printf("  target 0.300 us             : %s\n", bulk <= 0.3 ? "met" : "NOT met");
  return 0;
}
