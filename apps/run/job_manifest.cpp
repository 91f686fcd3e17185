// Writes and reads the job manifest (a few hundred bytes: simdjson's DOM) and compares two.
#include "run/job_manifest.hpp"

#include "run/hash_finish.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <system_error>

namespace promptpack::run {
namespace {

// Raised when the fields change meaning; a manifest of another version is refused.
constexpr std::uint64_t manifest_version = 1;
// How much of each end of the input the fingerprint reads: cheap whatever the input's size.
constexpr std::size_t fingerprint_edge_bytes = 64u << 10;

[[noreturn]] void fail(int error, const std::string& what, const std::string& path) {
  throw std::system_error(error, std::generic_category(), what + " '" + path + "'");
}

// Appends `size` bytes of `fd` from `offset` to `out` (fewer if the file is shorter by then).
void append_bytes(int fd, std::uint64_t offset, std::size_t size, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(fd, out.data() + start + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot read the input");
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(start + done);
}

// FNV-1a with a splitmix finaliser. Fixed for good: manifests written by earlier versions hold it.
std::uint64_t fingerprint_hash(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return hash_finish(h);
}

// A hash of the first and last 64 KiB (all of a smaller file). It tells an edited or another
// input from the recorded one; it is no defence against a forger.
std::string content_fingerprint(int fd, std::uint64_t size) {
  std::string sample;
  if (size <= 2 * fingerprint_edge_bytes) {
    append_bytes(fd, 0, static_cast<std::size_t>(size), sample);
  } else {
    append_bytes(fd, 0, fingerprint_edge_bytes, sample);
    append_bytes(fd, size - fingerprint_edge_bytes, fingerprint_edge_bytes, sample);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fingerprint_hash(sample)));
  return hex;
}

std::string number_text(double value) {
  char buffer[32];
  const char* end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(static_cast<const char*>(buffer), end);
}

// A string as JSON. A path may hold bytes that are not UTF-8: they are written as '?', the same
// on every write, so that the manifest stays JSON and comparisons stay exact.
void append_text(std::string& out, std::string_view text) {
  if (is_valid_utf8(text)) {
    append_json_string(out, text);
    return;
  }
  std::string ascii(text);
  for (char& c : ascii) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  append_json_string(out, ascii);
}

// Throws for a field that is missing or of the wrong type.
void need(simdjson::error_code error, const char* field) {
  if (error) throw std::runtime_error(std::string("its \"") + field + "\" is missing or malformed");
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "none" : text;
}

void compare_inputs(const input_identity& started, const input_identity& now,
                    manifest_comparison& out) {
  if (started.fingerprint.empty() || now.fingerprint.empty()) return;  // a pipe: not comparable
  if (started.size == now.size && started.fingerprint == now.fingerprint) return;  // moved at most
  const auto described = [](const input_identity& input) {
    return "'" + input.path + "' (" + std::to_string(input.size) + " bytes)";
  };
  if (started.path == now.path) {
    out.changes.push_back("the input " + described(now) + " changed since the job started (" +
                          std::to_string(started.size) +
                          " bytes then); its lines that have a record are still skipped by "
                          "custom_id");
  } else {
    out.mismatches.push_back("the job's input was " + described(started) + ", this one is " +
                             described(now) + ", with other content");
  }
}

void compare_params(const std::map<std::string, std::string>& started,
                    const std::map<std::string, std::string>& now,
                    std::vector<std::string>& mismatches) {
  const auto text_of = [](const std::map<std::string, std::string>& params,
                          const std::string& name) {
    const auto it = params.find(name);
    return it == params.end() ? std::string("unset") : it->second;
  };
  std::set<std::string> names;
  for (const auto& param : started) names.insert(param.first);
  for (const auto& param : now) names.insert(param.first);
  for (const auto& name : names) {
    const std::string was = text_of(started, name);
    const std::string is = text_of(now, name);
    if (was != is) mismatches.push_back(name + " was " + was + ", this job's is " + is);
  }
}

// Makes the rename that replaced a file in `path`'s folder survive a crash. Best effort: some
// file systems can't sync a folder, and the file itself is already synced.
void sync_folder(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string manifest_path(const std::string& output) {
  return output + ".manifest.json";
}

input_identity identify_input(int fd, const struct stat& info, const std::string& path) {
  input_identity identity;
  identity.path = path;
  if (path != "-") {
    std::error_code error;
    const std::filesystem::path real = std::filesystem::canonical(path, error);
    if (!error) identity.path = real.string();
  }
  if (!S_ISREG(info.st_mode)) return identity;
  identity.size = static_cast<std::uint64_t>(info.st_size);
  identity.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                      static_cast<std::int64_t>(info.st_mtim.tv_nsec);
  identity.fingerprint = content_fingerprint(fd, identity.size);
  return identity;
}

std::map<std::string, std::string> param_texts(const sampling_params& params) {
  std::map<std::string, std::string> texts(params.extra.begin(), params.extra.end());
  texts["max_tokens"] = std::to_string(params.max_tokens);
  texts["temperature"] = number_text(params.temperature);
  texts["top_p"] = number_text(params.top_p);
  texts["top_k"] = std::to_string(params.top_k);
  return texts;
}

std::string endpoint_address(std::string_view api_base) {
  return std::string(api_base.substr(0, api_base.find_first_of("?#")));
}

std::string manifest_json(const job_manifest& manifest) {
  std::string out =
      "{\n  \"promptpack_manifest\": " + std::to_string(manifest_version) + ",\n  \"input\": {";
  out += "\"path\": ";
  append_text(out, manifest.input.path);
  if (!manifest.input.fingerprint.empty()) {
    out += ", \"size\": " + std::to_string(manifest.input.size) +
           ", \"mtime_ns\": " + std::to_string(manifest.input.mtime_ns) + ", \"fingerprint\": ";
    append_text(out, manifest.input.fingerprint);
  }
  out += "},\n  \"model\": ";
  append_text(out, manifest.model);
  out += ",\n  \"params\": {";
  std::string_view separator;
  for (const auto& [name, value] : manifest.params) {
    out += separator;
    append_text(out, name);
    out.append(": ").append(value);
    separator = ", ";
  }
  out += "},\n  \"endpoints\": [";
  separator = {};
  for (const auto& endpoint : manifest.endpoints) {
    out += separator;
    append_text(out, endpoint);
    separator = ", ";
  }
  out += "]\n}\n";
  return out;
}

job_manifest parse_manifest(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto error = parser.parse(json.data(), json.size()).get(root)) {
    throw std::runtime_error(std::string("it is not JSON (") + simdjson::error_message(error) +
                             ")");
  }
  std::uint64_t version = 0;
  need(root["promptpack_manifest"].get_uint64().get(version), "promptpack_manifest");
  if (version != manifest_version) {
    throw std::runtime_error("it is of version " + std::to_string(version) +
                             ", and this promptpack reads version " +
                             std::to_string(manifest_version));
  }
  job_manifest manifest;
  std::string_view text;
  const auto input = root["input"];
  need(input["path"].get_string().get(text), "input.path");
  manifest.input.path = text;
  if (!input["fingerprint"].get_string().get(text)) {
    manifest.input.fingerprint = text;
    need(input["size"].get_uint64().get(manifest.input.size), "input.size");
    need(input["mtime_ns"].get_int64().get(manifest.input.mtime_ns), "input.mtime_ns");
  }
  need(root["model"].get_string().get(text), "model");
  manifest.model = text;
  simdjson::dom::object params;
  need(root["params"].get_object().get(params), "params");
  for (const auto param : params) {
    manifest.params.emplace(std::string(param.key), simdjson::minify(param.value));
  }
  simdjson::dom::array endpoints;
  need(root["endpoints"].get_array().get(endpoints), "endpoints");
  for (const auto endpoint : endpoints) {
    need(endpoint.get_string().get(text), "endpoints");
    manifest.endpoints.emplace_back(text);
  }
  return manifest;
}

std::optional<job_manifest> read_manifest(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(errno, "cannot read the manifest", path);
  }
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) {
    throw std::runtime_error("cannot read the manifest '" + path + "'");
  }
  try {
    return parse_manifest(text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("the manifest '" + path + "' is damaged: " + e.what());
  }
}

void write_manifest(const std::string& path, const job_manifest& manifest) {
  const std::string text = manifest_json(manifest);
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno, "cannot create", temp);
  int error = 0;
  const ssize_t n = ::write(fd, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    error = n < 0 ? errno : ENOSPC;  // a short write to a regular file: the disk is full
  } else if (::fsync(fd) != 0) {
    error = errno;
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp.c_str());
    fail(error, "cannot write the manifest", path);
  }
  sync_folder(path);
}

manifest_comparison compare_manifests(const job_manifest& started, const job_manifest& now) {
  // `now` as a file holds it: both sides then went through the same parser, so a value written
  // two ways (1e-07 and 1e-7) compares equal.
  const job_manifest current = parse_manifest(manifest_json(now));
  manifest_comparison result;
  compare_inputs(started.input, current.input, result);
  if (started.model != current.model) {
    result.mismatches.push_back("the model was '" + started.model + "', this job's is '" +
                                current.model + "'");
  }
  compare_params(started.params, current.params, result.mismatches);
  if (started.endpoints != current.endpoints) {
    result.changes.push_back("the endpoints were " + joined(started.endpoints) + ", now " +
                             joined(current.endpoints));
  }
  return result;
}

}  // namespace promptpack::run
