// The client settings that run, complete, bench and gateway share, declared once for all of them.
#pragma once

#include <promptpack/client_config.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace promptpack::cli {

/// The names of the shared flags that a command may spell its own way. `promptpack gateway` has an
/// API key of its own, so the endpoints' key is its `--upstream-api-key`; it batches callers, so
/// the batch size is its `--max-batch`.
struct client_flag_names {
  std::string batch_size = "--batch-size";
  std::string api_key = "--api-key";
  std::string api_key_file = "--api-key-file";
  std::string api_key_env = "PROMPTPACK_API_KEY";  ///< the environment variable of the key
};

/// What the shared flags fill in, before the parts that need the rest of the command line.
struct client_options {
  /// One I/O thread unless --threads says otherwise: it carries millions of prompts a second,
  /// and a second one costs wake-ups between them. `run` (which formats and writes records on
  /// them) and the gateway (which parses its callers' HTTP on them) set 0: one per core.
  client_config config = [] {
    client_config c;
    c.threads = 1;
    return c;
  }();
  std::vector<std::string> api_bases;  ///< URL or URL#weight=W; empty: the embedded endpoint
  std::vector<std::string> headers;    ///< 'Name: value'
  std::string api_key_file;            ///< the key's file; keeps the key out of `ps`
  bool insecure = false;               ///< no certificate verification
  std::string batch_size;              ///< a number, "auto", or empty: config's default
  client_flag_names names;             ///< as add_client_options() declared them
};

/// The largest batch `--batch-size auto` tries: far past what GPU servers batch well.
inline constexpr std::size_t adaptive_batch_ceiling = 4096;

/// A key given three ways: the contents of `key_file` when one was given, else `key` (from a flag
/// that `ps` shows), else the environment variable `env`. One trailing line end is trimmed from a
/// file's or a variable's key. Throws CLI::ValidationError naming `command` and `file_flag` when
/// the file can't be read or is empty.
std::string resolve_key(std::string key, const std::string& key_file, const std::string& file_flag,
                        const std::string& env, const std::string& command);

/// Declares the shared flags on `cmd`: endpoints, model, sampling defaults, batching,
/// connections, timeouts, retries, rate limits, TLS, keys and headers. The defaults shown are
/// those of `o.config` when this is called, so a command sets its own defaults first.
void add_client_options(CLI::App& cmd, client_options& o, client_flag_names names = {});

/// Finishes `o.config` from the parsed flags: headers, the key (--api-key, then --api-key-file,
/// then PROMPTPACK_API_KEY, or the names given to add_client_options(); one trailing line end is
/// trimmed from the last two) and the endpoints, `embedded_api_base` standing in when no
/// --api-base was given. Warns on stderr when --insecure is set. Throws CLI::ValidationError
/// naming `command` for a bad value, and for what client::validate() refuses (control characters
/// in the key, a header or a URL among them).
void finish_client_options(client_options& o, const std::string& command,
                           const std::string& embedded_api_base);

}  // namespace promptpack::cli
