// Bulk calls on a promptpack::client for tests: numbered prompts, bounded waits, results spelled
// out in failure messages.
#pragma once

#include <promptpack/client.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace promptpack::test {

/// Guards a client test's waits against a hang only; nothing measures speed with it.
inline constexpr std::chrono::seconds client_hang_guard{20};

/// `count` distinct prompts: "<stem> 0", "<stem> 1", ...
std::vector<std::string> numbered(const std::string& stem, std::size_t count);

/// Submits `prompts` as one bulk in the client's default group and waits for every result, in
/// input order. Waiting longer than `within` is a test failure that ends the test.
std::vector<prompt_result> run_bulk(client& client, const std::vector<std::string>& prompts,
                                    std::chrono::seconds within = client_hang_guard,
                                    prompt_bytes bytes = prompt_bytes::any);

/// "ok", or the error's type, HTTP status, attempts and message: for test failure messages.
std::string describe(const prompt_result& result);

/// Ends the test unless `result` succeeded; a test failure unless its one output is `prompt`.
void check_echo(const prompt_result& result, const std::string& prompt);

}  // namespace promptpack::test
