// `promptpack serve`: runs the reference endpoint until SIGINT or SIGTERM.
#include "commands.hpp"

#include "reference/reference_server.hpp"

#include <csignal>
#include <iostream>
#include <map>
#include <memory>

namespace promptpack::cli {
namespace {

void run_serve(const reference::reference_config& config, int& exit_status) {
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  reference::reference_server server(config);
  server.start();
  std::cout << "listening on " << server.url() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  server.stop();
  std::cerr << "promptpack serve: stopped by signal " << received << " after "
            << server.stats().requests.load() << " requests, " << server.stats().prompts.load()
            << " prompts\n";
  exit_status = exit_ok;
}

}  // namespace

void add_serve_command(CLI::App& root, int& exit_status) {
  auto config = std::make_shared<reference::reference_config>();
  auto* cmd = root.add_subcommand("serve", "Run the reference endpoint of the custom LLM protocol");
  cmd->add_option("--host", config->host, "IP address to listen on")->capture_default_str();
  cmd->add_option("--port", config->port, "TCP port; 0 picks a free one")->capture_default_str();
  cmd->add_option("--threads", config->threads, "I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--max-body-bytes", config->max_body_bytes, "larger request bodies get 413")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", config->max_header_bytes,
                  "larger request headers (with the request line) get 431")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-tokens-limit", config->max_tokens_limit,
                  "requests asking for more max_tokens get 400")
      ->capture_default_str();
  cmd->add_option("--max-n", config->max_n, "requests asking for more outputs per prompt get 400")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", config->max_connections,
                  "connections beyond this many open ones are closed at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle-timeout", config->idle_timeout_s,
                  "close keep-alive connections idle this long (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--read-timeout", config->read_timeout_s,
                  "close connections whose request, once begun, takes longer to arrive (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto* cert =
      cmd->add_option("--tls-cert", config->tls_cert_file, "PEM certificate chain: serve https")
          ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", config->tls_key_file, "PEM private key for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  const std::map<std::string, reference::generator_kind> generators{
      {"text", reference::generator_kind::text},
      {"echo", reference::generator_kind::echo},
      {"fixed", reference::generator_kind::fixed}};
  cmd->add_option("--generator", config->generator,
                  "text: deterministic words; echo: the prompt; fixed: one cheap constant text")
      ->transform(CLI::CheckedTransformer(generators, CLI::ignore_case))
      ->default_str("text");
  cmd->add_option("--latency-ms", config->latency_ms, "fixed cost per request (ms)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--per-token-us", config->per_token_us, "cost per max_tokens step (us)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--per-prompt-us", config->per_prompt_us, "cost per prompt in a batch (us)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--fail-rate", config->fail_rate, "probability of answering --fail-status")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--fail-status", config->fail_status, "HTTP status for --fail-rate")
      ->capture_default_str()
      ->check(CLI::Range(400u, 599u));
  cmd->add_option("--retry-after", config->retry_after_s, "Retry-After seconds sent with 429/503")
      ->capture_default_str();
  cmd->add_option("--drop-rate", config->drop_rate, "probability of closing without an answer")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--error-message-rate", config->error_message_rate,
                  "probability of answering 200 with a message other than \"ok\"")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--garbage-rate", config->garbage_rate,
                  "probability of answering 200 with a body that is not JSON")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-batch", config->max_batch, "answer 413 above this many prompts (0: off)");
  cmd->add_option("--reject-substring", config->reject_substring,
                  "answer 400 to batches with a prompt containing this text");
  cmd->add_flag("--shuffle", config->shuffle, "answer data entries in reverse order");
  cmd->add_flag("--chunked", config->chunked, "send answers with Transfer-Encoding: chunked");
  cmd->add_flag("!--no-keep-alive", config->keep_alive, "answer with Connection: close and close");
  cmd->add_option("--fault-seed", config->fault_seed, "seed of the fault dice")
      ->capture_default_str();
  cmd->callback([config, &exit_status] { run_serve(*config, exit_status); });
}

}  // namespace promptpack::cli
