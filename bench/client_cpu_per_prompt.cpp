// client CPU per prompt at 256 prompts a request: promptpack's bulk path against a plain
// Beast + simdjson loop and against the wire's floor (the same requests, encoded beforehand, sent
// and read on a raw socket with no JSON at all), side by side against one endpoint.
#include <promptpack/client.hpp>

#include <simdjson.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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

// The request body for one batch, escaped the simple way (the prompts here have no control bytes).
std::string batch_body(std::span<const std::string> chunk) {
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
  return body;
}

std::span<const std::string> batch_at(const std::vector<std::string>& prompts, std::size_t first,
                                      std::size_t batch) {
  return std::span(prompts).subspan(first, std::min(batch, prompts.size() - first));
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
    const auto views = batch_at(prompts, first, batch);
    std::vector<std::string> chunk(views.begin(), views.end());
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.body() = batch_body(chunk);
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

// One raw keep-alive socket of the wire floor: a request is sent with one send(), its answer read
// into a 1 MiB buffer until the Content-Length it gives has arrived.
struct raw_connection {
  int fd = -1;
  std::vector<char> buffer = std::vector<char>(1 << 20);
  std::size_t have = 0, answer_bytes = 0;

  void send_all(const std::string& request) const {
    for (std::size_t sent = 0; sent < request.size();) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("wire floor: send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  // Reads what is there; true once the whole answer is in (the buffer is then reset).
  bool read_answer() {
    const ssize_t n = ::recv(fd, buffer.data() + have, buffer.size() - have, 0);
    if (n <= 0) throw std::runtime_error("wire floor: the endpoint closed the connection");
    have += static_cast<std::size_t>(n);
    const std::string_view got(buffer.data(), have);
    if (answer_bytes == 0) {
      const std::size_t head_end = got.find("\r\n\r\n");
      if (head_end == std::string_view::npos) return false;
      if (!got.starts_with("HTTP/1.1 200"))
        throw std::runtime_error("wire floor: the endpoint did not answer 200");
      const std::size_t length = got.find("Content-Length: ");
      if (length == std::string_view::npos || length > head_end)
        throw std::runtime_error("wire floor: the answer has no Content-Length");
      answer_bytes = head_end + 4 + std::strtoull(got.data() + length + 16, nullptr, 10);
      if (answer_bytes > buffer.size()) throw std::runtime_error("wire floor: answer too big");
    }
    if (have < answer_bytes) return false;
    if (have > answer_bytes) throw std::runtime_error("wire floor: bytes after the answer");
    have = answer_bytes = 0;
    return true;
  }
};

// The wire's floor: every request is encoded before the clock starts, then sent and answered on
// `connections` keep-alive sockets driven by one epoll loop, as promptpack drives its own. Only the
// status line and Content-Length are looked at, so what this costs is the syscalls, the kernel's
// copies and the endpoint's wake-ups: what any client pays for these bytes on this machine, before
// it has encoded or parsed any JSON.
double wire_floor_us_per_prompt(const std::string& host, const std::string& port,
                                const std::string& target, const std::vector<std::string>& prompts,
                                std::size_t batch, std::size_t connections) {
  std::vector<std::string> requests;
  for (std::size_t first = 0; first < prompts.size(); first += batch) {
    const std::string body = batch_body(batch_at(prompts, first, batch));
    requests.push_back("POST " + target + " HTTP/1.1\r\nHost: " + host +
                       "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* address = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &address) != 0)
    throw std::runtime_error("wire floor: cannot resolve " + host);
  std::vector<raw_connection> pool(std::clamp<std::size_t>(connections, 1, requests.size()));
  const int epoll = ::epoll_create1(0);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    pool[i].fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(pool[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(pool[i].fd, address->ai_addr, address->ai_addrlen) != 0)
      throw std::runtime_error("wire floor: cannot connect to " + host + ":" + port);
    epoll_event interest{.events = EPOLLIN, .data = {.u64 = i}};
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, pool[i].fd, &interest);
  }
  ::freeaddrinfo(address);
  const double start = cpu_seconds(RUSAGE_THREAD);
  std::size_t next = 0, answered = 0;
  for (; next < pool.size(); ++next) pool[next].send_all(requests[next]);
  std::array<epoll_event, 64> ready{};
  while (answered < requests.size()) {
    const int count = ::epoll_wait(epoll, ready.data(), static_cast<int>(ready.size()), -1);
    for (int i = 0; i < count; ++i) {
      raw_connection& connection = pool[ready[static_cast<std::size_t>(i)].data.u64];
      if (!connection.read_answer()) continue;
      ++answered;
      if (next < requests.size()) connection.send_all(requests[next++]);
    }
  }
  const double cpu = cpu_seconds(RUSAGE_THREAD) - start;
  for (const raw_connection& connection : pool) ::close(connection.fd);
  ::close(epoll);
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
  wire_floor_us_per_prompt(host, port, target, make_prompts(batch * 20), batch, connections);
  promptpack_us_per_prompt("http://" + host + ":" + port + target, make_prompts(batch * 20), batch,
                           connections);

  const double floor = wire_floor_us_per_prompt(host, port, target, prompts, batch, connections);
  const double baseline = baseline_us_per_prompt(host, port, target, prompts, batch);
  const double bulk =
      promptpack_us_per_prompt("http://" + host + ":" + port + target, prompts, batch, connections);
  std::printf("client CPU per prompt, %zu prompts, %zu per request:\n", count, batch);
  std::printf("  wire floor (no JSON at all) : %.3f us  (%zu connections, one epoll loop)\n", floor,
              connections);
  std::printf("  plain Beast + simdjson loop : %.3f us  (1 connection)\n", baseline);
  std::printf("  promptpack bulk API         : %.3f us  (%zu connections)\n", bulk, connections);
  std::printf("  ratio                       : %.2fx less CPU\n", baseline / bulk);
  std::printf("  target 0.300 us             : %s\n", bulk <= 0.3 ? "met" : "NOT met");
  return 0;
}
