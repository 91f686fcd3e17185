// Declares and resolves the client flags shared by run, complete, bench and gateway.
#include "client_options.hpp"

#include <promptpack/client.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace promptpack::cli {
namespace {

// `URL` or `URL#weight=W`: a fragment is never sent, so it can carry the endpoint's weight.
endpoint_config parse_endpoint(const std::string& text, const std::string& command) {
  const auto mark = text.rfind("#weight=");
  if (mark == std::string::npos) return {text, 1.0};
  const std::string weight = text.substr(mark + 8);
  char* end = nullptr;
  const double value = std::strtod(weight.c_str(), &end);
  if (weight.empty() || *end != '\0' || !(value > 0)) {
    throw CLI::ValidationError(
        command, "--api-base '" + text + "': the weight after #weight= must be a number > 0");
  }
  return {text.substr(0, mark), value};
}

std::pair<std::string, std::string> parse_header(const std::string& text,
                                                 const std::string& command) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw CLI::ValidationError(command, "--header must look like 'Name: value'");
  }
  std::string value = text.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return {text.substr(0, colon), value};
}

// A key less one trailing line end (LF or CRLF), which editors and `echo` add to files and
// variables; any other control character is for client::validate() to refuse.
std::string without_line_end(std::string key) {
  if (key.ends_with('\n')) {
    key.pop_back();
    if (key.ends_with('\r')) key.pop_back();
  }
  return key;
}

std::string read_key_file(const std::string& path, const std::string& flag,
                          const std::string& command) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CLI::ValidationError(command, "cannot read " + flag + " '" + path + "'");
  std::string key = without_line_end(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  if (key.empty()) throw CLI::ValidationError(command, flag + " '" + path + "' is empty");
  return key;
}

}  // namespace

std::string resolve_key(std::string key, const std::string& key_file, const std::string& file_flag,
                        const std::string& env, const std::string& command) {
  if (!key_file.empty()) return read_key_file(key_file, file_flag, command);
  if (key.empty()) {
    if (const char* value = std::getenv(env.c_str())) key = without_line_end(value);
  }
  return key;
}

void add_client_options(CLI::App& cmd, client_options& o, client_flag_names names) {
  o.names = std::move(names);
  const auto& n = o.names;
  auto& c = o.config;
  cmd.add_option("--api-base", o.api_bases,
                 "endpoint URL, optionally URL#weight=W; repeat for several endpoints sharing the "
                 "load (default: the embedded reference endpoint)");
  cmd.add_option("--model", c.model, "model, custom/NAME")->capture_default_str();
  cmd.add_option("--max-tokens", c.params.max_tokens, "default max_tokens")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--temperature", c.params.temperature, "default temperature")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--top-p", c.params.top_p, "default top_p")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--top-k", c.params.top_k, "default top_k")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option(n.batch_size, o.batch_size,
                 "prompts per request, at most; or auto: each endpoint's best size, found while "
                 "running (below any 413, within --max-latency-ms)")
      ->default_str(std::to_string(c.max_batch_prompts))
      ->check(CLI::IsMember({"auto"}) | CLI::Range(1, 1 << 20));
  cmd.add_option("--max-latency-ms", c.max_latency_ms,
                 "with a batch size of auto: an exchange's p99 stays within this (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--max-delay-us", c.max_delay_us,
                 "how long a partial batch may wait for company (0: send when a connection is "
                 "free)")
      ->capture_default_str();
  cmd.add_option("--connections", c.connections_per_endpoint, "keep-alive connections per endpoint")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd.add_option("--threads", c.threads, "client I/O threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 256u));
  cmd.add_option("--max-pending", c.max_pending, "prompts in flight at most (bounds memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 26));
  cmd.add_option("--request-timeout", c.request_timeout_s, "seconds for one exchange")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--connect-timeout", c.connect_timeout_s,
                 "seconds for DNS resolution, TCP connect and TLS handshake together")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--total-timeout", c.total_timeout_s,
                 "seconds a prompt may take in all: retries, backoff and rate-limit waits")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--retries", c.max_retries, "retries per prompt after the first attempt")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--max-requests-per-s", c.max_requests_per_s,
                 "client-side limit per endpoint, for endpoints with a quota (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--max-prompts-per-s", c.max_prompts_per_s,
                 "client-side limit per endpoint, in prompts (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--ca-file", c.ca_file, "PEM bundle of CAs to trust for https")
      ->check(CLI::ExistingFile);
  cmd.add_flag("--insecure", o.insecure,
               "do not verify the endpoint's certificate (anyone on the path can read the "
               "prompts and the key)");
  auto* key = cmd.add_option(n.api_key, c.api_key,
                             "sent to the endpoints as a Bearer token; visible in `ps`: prefer " +
                                 n.api_key_file + " or " + n.api_key_env);
  cmd.add_option(n.api_key_file, o.api_key_file,
                 "file holding the endpoints' key (a trailing newline is ignored)")
      ->excludes(key);
  cmd.add_option("--header", o.headers, "extra request header 'Name: value'; repeatable");
}

void finish_client_options(client_options& o, const std::string& command,
                           const std::string& embedded_api_base) {
  auto& c = o.config;
  if (o.batch_size == "auto") {
    c.adaptive_batch = true;
    c.max_batch_prompts = adaptive_batch_ceiling;
  } else if (!o.batch_size.empty()) {
    c.max_batch_prompts = std::stoul(o.batch_size);  // checked by the flag's validator
  }
  for (const auto& header : o.headers) c.headers.push_back(parse_header(header, command));
  c.api_key = resolve_key(std::move(c.api_key), o.api_key_file, o.names.api_key_file,
                          o.names.api_key_env, command);
  if (o.api_bases.empty()) o.api_bases.push_back(embedded_api_base);
  for (const auto& base : o.api_bases) c.endpoints.push_back(parse_endpoint(base, command));
  if (o.insecure) {
    c.tls_verify = false;
    std::cerr << "promptpack " << command
              << ": warning: --insecure: endpoint certificates are not verified\n";
  }
  try {
    client::validate(c);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError(command, e.what());
  }
}

}  // namespace promptpack::cli
