// `promptpack run`: the JSONL batch job (PROTOCOL.md section 3).
#include "client_options.hpp"
#include "commands.hpp"
#include "embedded_endpoint.hpp"
#include "run/batch_job.hpp"
#include "run/line_reader.hpp"

#include <promptpack/client.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

namespace promptpack::cli {
namespace {

struct run_flags {
  run::run_options options;
  client_options client;
  std::string shard;
  std::string generator = "echo";
};

[[noreturn]] void usage_error(const std::string& message) {
  throw CLI::ValidationError("run", message);
}

void parse_shard(const std::string& text, run::run_options& o) {
  const auto slash = text.find('/');
  char* end = nullptr;
  if (slash == std::string::npos) usage_error("--shard must be I/N, for example 0/4");
  o.shard_index = std::strtoull(text.c_str(), &end, 10);
  if (end != text.c_str() + slash) usage_error("--shard must be I/N, for example 0/4");
  o.shard_count = std::strtoull(text.c_str() + slash + 1, &end, 10);
  if (*end != '\0' || o.shard_count == 0 || o.shard_index >= o.shard_count) {
    usage_error("--shard I/N needs N >= 1 and 0 <= I < N (got '" + text + "')");
  }
}

int open_input(const std::string& path) {
  if (path == "-") return STDIN_FILENO;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) usage_error("cannot read input '" + path + "': " + std::strerror(errno));
  return fd;
}

int open_output(const run::run_options& o) {
  if (o.output == "-") return STDOUT_FILENO;
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  if (!o.resume) {
    struct stat info {};
    if (::stat(o.output.c_str(), &info) == 0 && info.st_size > 0 && !o.overwrite) {
      usage_error(
          "output '" + o.output +
          "' already has records; pass --resume to continue that job or --overwrite to start over");
    }
    flags |= O_TRUNC;
  }
  const int fd = ::open(o.output.c_str(), flags, 0644);
  if (fd < 0) usage_error("cannot write output '" + o.output + "': " + std::strerror(errno));
  return fd;
}

void run_job(run_flags& flags, int& exit_status) {
  auto& o = flags.options;
  if (!flags.shard.empty()) parse_shard(flags.shard, o);
  if (o.resume && o.output == "-")
    usage_error("--resume needs -o FILE: standard output can't be read back");
  embedded_endpoint embedded;
  if (flags.client.api_bases.empty()) {
    embedded = start_embedded_endpoint("run",
                                       flags.generator == "text" ? reference::generator_kind::text
                                                                 : reference::generator_kind::echo,
                                       1);
  }
  // Validated before the output is opened (and maybe truncated).
  finish_client_options(flags.client, "run", embedded.api_base);
  o.client = std::move(flags.client.config);
  const int input_fd = open_input(o.input);
  std::optional<run::resume_state> resume;
  if (o.resume) {
    resume.emplace(run::load_resume_state(o.output, o.retry_errors));
    if (!o.quiet) {
      std::cerr << "promptpack run: resuming: " << resume->records << " records already in '"
                << o.output << "'";
      if (resume->errors) std::cerr << " (" << resume->errors << " of them errors)";
      if (resume->dropped) {
        std::cerr << ", dropped " << resume->dropped << " error records to run their lines again";
      }
      if (resume->torn_bytes)
        std::cerr << ", cut a torn last record of " << resume->torn_bytes << " bytes";
      std::cerr << "\n";
    }
  }
  const int output_fd = open_output(o);
  // The line count of a regular file sizes the duplicate table and gives progress a total.
  const std::uint64_t lines = run::count_lines(input_fd);
  std::uint64_t total =
      lines == 0 ? 0 : (lines + o.shard_count - 1 - o.shard_index) / o.shard_count;
  if (resume) total -= std::min<std::uint64_t>(total, resume->records);
  exit_status = run::run_batch_job(o, input_fd, output_fd, resume ? &*resume : nullptr, total);
}

}  // namespace

void add_run_command(CLI::App& root, int& exit_status) {
  auto flags = std::make_shared<run_flags>();
  auto& o = flags->options;
  auto& c = flags->client.config;
  c.max_batch_prompts = 256;  // offline jobs favour big batches
  c.model = "custom/promptpack-reference";
  auto* cmd = root.add_subcommand("run", "Run a JSONL batch job: one record out for every line in");
  cmd->add_option("-i,--input", o.input, "input JSONL file, or - for stdin")->capture_default_str();
  cmd->add_option("-o,--output", o.output, "output JSONL file, or - for stdout")
      ->capture_default_str();
  add_client_options(*cmd, flags->client);
  cmd->add_flag("--resume", o.resume,
                "continue an interrupted job: keep its records, run the rest");
  cmd->add_flag("--retry-errors", o.retry_errors,
                "with --resume: remove the error records of earlier runs and run those lines again")
      ->needs("--resume");
  cmd->add_flag("--overwrite", o.overwrite, "start over even if the output already has records");
  cmd->add_flag("--ordered", o.ordered, "write records in input order (default: as they complete)");
  cmd->add_option("--shard", flags->shard, "I/N: only lines whose 0-based index mod N is I");
  cmd->add_flag("-q,--quiet", o.quiet, "no progress line and no summary");
  cmd->add_option("--max-line-bytes", o.max_line_bytes,
                  "longer input lines get an invalid_input record")
      ->capture_default_str();
  cmd->add_option("--embedded-generator", flags->generator,
                  "model of the embedded endpoint when no --api-base is given: echo or text")
      ->capture_default_str()
      ->check(CLI::IsMember({"echo", "text"}));
  cmd->callback([flags, &exit_status] { run_job(*flags, exit_status); });
}

}  // namespace promptpack::cli
