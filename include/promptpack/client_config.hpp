// Configuration of promptpack::client: endpoints, batching, connections, failures and TLS.
#pragma once

#include <promptpack/sampling_params.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace promptpack {

/// One custom endpoint. `api_base` is POSTed to exactly as given (scheme, host, port, path, query).
struct endpoint_config {
  std::string api_base;  ///< http://host[:port]/path or https://...
  double weight = 1.0;   ///< share of the load relative to other endpoints, > 0: it sets the
                         ///< endpoint's share of connections, and breaks ties when idle
};

struct client_config {
  std::vector<endpoint_config> endpoints;  ///< at least one
  std::string model;       ///< `custom/NAME` or `NAME`; `custom/` is stripped on the wire
  sampling_params params;  ///< defaults for prompts submitted without their own

  // Batching.
  std::size_t max_batch_prompts = 64;  ///< prompts per request, at most
  std::size_t max_batch_bytes =
      8u << 20;                 ///< request body bytes, at most (a bigger prompt goes alone)
  bool adaptive_batch = false;  ///< `--batch-size auto`: each endpoint's batch size is found while
                                ///< running (up to max_batch_prompts, below any 413)
  double max_latency_ms = 0;    ///< with adaptive_batch: an exchange's p99 stays within this;
                                ///< 0: no limit
  std::uint32_t max_delay_us = 0;  ///< how long a partial batch may wait for company;
                                   ///< 0: send as soon as a connection is free

  // Connections and bounds.
  std::size_t connections_per_endpoint = 8;  ///< keep-alive connections of the heaviest
                                             ///< endpoint; lighter ones get a share by weight
  std::size_t max_pending = 1u << 16;        ///< prompts accepted but not yet completed; submitting
                                       ///< more blocks (the async form waits) until some finish
  std::size_t max_response_bytes = 256u << 20;  ///< larger response bodies are a protocol error

  // Deadlines and retries (PROTOCOL.md section 2).
  double request_timeout_s = 300;  ///< one exchange, from writing the request to the last byte read
  double connect_timeout_s = 30;   ///< DNS resolution, TCP connect and TLS handshake together
  double total_timeout_s = 3600;   ///< a prompt's whole life, retries, backoff and rate-limit
                                   ///< waits included
  int max_retries = 3;             ///< extra exchanges per prompt after the first
  double backoff_base_ms = 200;    ///< first retry waits up to this (full jitter), doubling
  double backoff_cap_ms = 20000;   ///< the longest computed backoff (Retry-After may be longer,
                                   ///< up to total_timeout_s)
  double max_requests_per_s = 0;   ///< client-side limit per endpoint, for endpoints with a quota;
                                   ///< 0: none
  double max_prompts_per_s = 0;    ///< client-side limit per endpoint, in prompts; 0: none
  int endpoint_failure_threshold = 5;  ///< consecutive failures before an endpoint cools down
  double endpoint_cooldown_s = 2;      ///< first cool-down; doubles while failures go on (cap 60 s)

  // Security and headers.
  bool tls_verify = true;  ///< verify the certificate chain and host name (keep it on)
  std::string ca_file;     ///< PEM bundle to trust instead of the system CAs
  std::string api_key;     ///< sent as `Authorization: Bearer <key>`; never logged or printed,
                           ///< and where an endpoint echoes it back, outputs and error messages
                           ///< get "[redacted]" in its place
  /// Extra request headers: names are RFC 9110 tokens. Control characters in the key, a header
  /// or an endpoint URL are refused (a CR or LF could forge headers); HTAB may stand in values.
  std::vector<std::pair<std::string, std::string>> headers;

  unsigned threads = 0;  ///< I/O threads; 0 means one per core
};

}  // namespace promptpack
