// The manifest beside an output: which input, model, params and endpoints its records come from.
#pragma once

#include <promptpack/sampling_params.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::run {

/// What tells one input from another without reading all of it.
struct input_identity {
  std::string path;  ///< the real path, or "-" for standard input
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  ///< recorded for people; never compared (a copy has another)
  std::string fingerprint;    ///< of the first and last 64 KiB; empty unless a regular file
};

/// What a job was started with. Never the API key, headers or a URL's query.
struct job_manifest {
  input_identity input;
  std::string model;
  std::map<std::string, std::string> params;  ///< default sampling params: name -> JSON value
  std::vector<std::string> endpoints;         ///< endpoint_address() of each, or a label
};

/// OUTPUT.manifest.json: the manifest's place, beside the output.
std::string manifest_path(const std::string& output);

/// The identity of the open input `fd`, given its fstat and its path as on the command line.
/// Throws std::system_error when the file can't be read.
input_identity identify_input(int fd, const struct stat& info, const std::string& path);

/// `params` as a manifest records them: every field by name, each value as JSON text.
std::map<std::string, std::string> param_texts(const sampling_params& params);

/// An endpoint's URL as a manifest records it: without its query, which may carry a key.
std::string endpoint_address(std::string_view api_base);

/// The manifest as JSON, one field a line.
std::string manifest_json(const job_manifest& manifest);

/// Reads manifest_json's text back. Throws std::runtime_error saying what is wrong with it.
job_manifest parse_manifest(std::string_view json);

/// The manifest at `path`, or nullopt when there is none. Throws std::runtime_error when it
/// can't be read or is damaged.
std::optional<job_manifest> read_manifest(const std::string& path);

/// Replaces the manifest at `path` atomically: a temporary file beside it, fsync, rename (a crash
/// leaves the old manifest or the new one, never half of one). Created 0644, less the umask.
/// Throws std::system_error.
void write_manifest(const std::string& path, const job_manifest& manifest);

/// How a job differs from the one that started its output.
struct manifest_comparison {
  std::vector<std::string> mismatches;  ///< another input, model or params: not the same job
  std::vector<std::string> changes;     ///< other endpoints, or an input edited in place
};

/// Compares the manifest an output was started with to this job's. The input differs when it is
/// another file (another path) with other content (size or fingerprint): a moved input is the
/// same input, and an input edited where it is (a line fixed, lines added) is a change, not a
/// mismatch, since its records are still matched to its lines by custom_id. An input that is not
/// a regular file (a pipe) can't be compared.
manifest_comparison compare_manifests(const job_manifest& started, const job_manifest& now);

}  // namespace promptpack::run
