// The reference endpoint: a Beast HTTP/1.1 (or https) server speaking the custom LLM protocol.
#pragma once

#include "reference/reference_config.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace promptpack::reference {

/// Counters a test or a /metrics page can read while the server runs. Relaxed atomics.
struct server_stats {
  std::atomic<std::uint64_t> connections{0};  ///< connections accepted and served
  std::atomic<std::uint64_t> refused{0};      ///< connections closed at once: max_connections open
  std::atomic<std::uint64_t> requests{0};     ///< inference requests answered (any status)
  std::atomic<std::uint64_t> prompts{0};      ///< prompts answered with 200
  std::atomic<std::uint64_t> faults{0};       ///< injected failures, drops and bad answers
};

/// Runs on its own io_context threads. start() binds and returns; stop() (or the destructor)
/// closes the listener and every connection abruptly, as a crashed endpoint would.
/// start/stop are not thread-safe with each other; stats() and url() may be read from any thread.
class reference_server {
 public:
  explicit reference_server(reference_config config);
  ~reference_server();
  reference_server(const reference_server&) = delete;
  reference_server& operator=(const reference_server&) = delete;

  /// Binds and starts serving; throws std::runtime_error if the address can't be bound or the
  /// TLS files can't be loaded.
  void start();
  /// Closes the listener and every connection, then joins the threads. Idempotent.
  void stop();
  /// Blocks until stop() is called from another thread or a signal handler.
  void wait();

  std::uint16_t port() const noexcept;
  /// http://HOST:PORT or https://HOST:PORT (IPv6 hosts in brackets).
  std::string url() const;
  const server_stats& stats() const noexcept;
  const reference_config& config() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace promptpack::reference
