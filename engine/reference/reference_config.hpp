// Configuration of the reference endpoint (`promptpack serve`): listener, limits, model, latency
// and faults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace promptpack::reference {

/// Which text the reference model answers with.
enum class generator_kind : std::uint8_t {
  text,  ///< deterministic pseudo-language that honours max_tokens, temperature, top_k, top_p, seed
  echo,  ///< each prompt answered with itself
  fixed,  ///< one constant text per prompt, no prompt echo: the cheapest answer, for client benches
};

struct reference_config {
  std::string host = "127.0.0.1";  ///< address to bind
  std::uint16_t port = 0;          ///< 0 picks a free port
  unsigned threads = 1;            ///< io_context threads
  std::string tls_cert_file;       ///< PEM chain; with tls_key_file, serve https
  std::string tls_key_file;        ///< PEM private key

  // Limits, so that no client (slow, idle, greedy or hostile) can hurt the others.
  std::size_t max_body_bytes = 64 << 20;      ///< larger request bodies get 413
  std::uint32_t max_header_bytes = 16 << 10;  ///< larger request headers (and start line) get 431
  unsigned max_tokens_limit = 4096;           ///< requests asking for more max_tokens get 400
  unsigned max_n = 16;                        ///< requests asking for more outputs (n) get 400
  std::size_t max_connections = 1024;         ///< connections beyond this are closed at once
  unsigned idle_timeout_s = 120;  ///< keep-alive connections idle this long are closed (> 0)
  unsigned read_timeout_s = 30;   ///< a request, once begun, must arrive whole this fast (> 0)

  generator_kind generator = generator_kind::text;

  // Latency model: a batch costs latency_ms + max_tokens * per_token_us + prompts * per_prompt_us,
  // waited on a timer so that batching is nearly free, as on a GPU server.
  double latency_ms = 0;     ///< fixed cost per request, milliseconds
  double per_token_us = 0;   ///< cost per max_tokens step, microseconds
  double per_prompt_us = 0;  ///< cost per prompt in the batch, microseconds

  // Fault injection. Rates are probabilities per request in [0, 1].
  double fail_rate = 0;           ///< answer fail_status instead of the result
  unsigned fail_status = 503;     ///< status used by fail_rate
  unsigned retry_after_s = 1;     ///< Retry-After sent with an injected 429 or 503
  double drop_rate = 0;           ///< close the connection without answering
  double error_message_rate = 0;  ///< answer 200 with a "message" other than "ok"
  double garbage_rate = 0;        ///< answer 200 with a body that is not JSON
  std::size_t max_batch = 0;      ///< > 0: answer 413 to batches with more prompts than this
  std::string reject_substring;   ///< non-empty: answer 400 to a batch with a prompt holding it
  bool shuffle = false;           ///< answer data entries in reverse order (prompts echoed)
  bool chunked = false;           ///< send 200 answers with Transfer-Encoding: chunked
  bool keep_alive = true;         ///< false: answer with Connection: close, then close
  std::uint64_t fault_seed = 1;   ///< seeds the fault dice, so faulty runs repeat
};

}  // namespace promptpack::reference
