// A whole connection life driven by bytes: a scripted server answers each request with
// fuzz-chosen framing, and every answer is checked to belong to its own exchange.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace promptpack::test {

/// What a life saw; `crossed` lists any answer that reached another exchange (must stay empty).
struct connection_life_report {
  int exchanges = 0;  ///< exchanges attempted
  int answered = 0;   ///< exchanges that got a whole 2xx answer
  int opens = 0;      ///< connections opened (or refused)
  std::string crossed;
};

/// Runs exchanges over http_connection<beast::test::stream> against a server whose every move
/// (framing, interim responses, stray bytes, closes, silences, read sizes, refused connects) is
/// read from `script`. Deterministic; no sockets, no clock.
connection_life_report run_connection_life(std::span<const std::uint8_t> script);

}  // namespace promptpack::test
