// `promptpack run`: the JSONL batch job (PROTOCOL.md section 3).
#include "client_options.hpp"
#include "commands.hpp"
#include "embedded_endpoint.hpp"
#include "run/batch_job.hpp"
#include "run/job_input.hpp"
#include "run/job_manifest.hpp"
#include "run/line_reader.hpp"
#include "run/output_path.hpp"
#include "run/same_file.hpp"
#include "stop_signal.hpp"

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
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace promptpack::cli {
namespace {

struct run_flags {
  run::run_options options;
  client_options client;
  std::string shard;
  std::string generator = "echo";
  bool force_resume = false;
};

/// The open input, and what fstat says of it.
struct input_file {
  int fd = -1;
  struct stat info {};
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

input_file open_input(const std::string& path) {
  input_file input;
  input.fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (input.fd < 0 || ::fstat(input.fd, &input.info) != 0)
    usage_error("cannot read input '" + path + "': " + std::strerror(errno));
  // open(2) reads a directory without complaint; read(2) would fail only once the job is running.
  if (S_ISDIR(input.info.st_mode)) {
    usage_error("input '" + path +
                "' is a directory; give -i a JSONL file, or - for standard input");
  }
  return input;
}

void refuse_same_file(const input_file& input, const run::run_options& o) {
  if (!run::is_same_file(input.info, o.output)) return;
  const std::string output = o.output == "-" ? "standard output" : "-o '" + o.output + "'";
  usage_error("-i '" + o.input + "' and " + output +
              " are the same file: the job would write over the input it reads; write the "
              "output to another file");
}

// What the manifest records of this job. The embedded endpoint has a new port every run, so it is
// recorded by its model (`embedded_generator`, empty when --api-base is given), not its URL.
run::job_manifest describe_job(const run::run_options& o, const input_file& input,
                               const std::string& embedded_generator) {
  run::job_manifest manifest;
  manifest.input = run::identify_input(input.fd, input.info, o.input);
  manifest.model = o.client.model;
  manifest.params = run::param_texts(o.client.params);
  if (!embedded_generator.empty()) {
    manifest.endpoints.push_back("embedded reference endpoint (" + embedded_generator + ")");
  } else {
    for (const auto& endpoint : o.client.endpoints)
      manifest.endpoints.push_back(run::endpoint_address(endpoint.api_base));
  }
  return manifest;
}

// Refuses to resume an output that another job started, unless --force-resume. An output without
// a manifest (made by an older promptpack) is let be: its records are still checked one by one.
void check_manifest(const std::string& output, const run::job_manifest& now, bool force) {
  std::optional<run::job_manifest> started;
  try {
    started = run::read_manifest(run::manifest_path(output));
  } catch (const std::runtime_error& e) {
    if (!force) {
      usage_error(std::string(e.what()) +
                  "; delete it, or pass --force-resume, to resume without that check");
    }
    std::cerr << "promptpack run: warning: " << e.what() << "; resuming anyway (--force-resume)\n";
    return;
  }
  if (!started) return;
  const auto comparison = run::compare_manifests(*started, now);
  for (const auto& change : comparison.changes)
    std::cerr << "promptpack run: warning: " << change << "\n";
  if (comparison.mismatches.empty()) return;
  std::string differences;
  for (const auto& mismatch : comparison.mismatches)
    differences += (differences.empty() ? "" : "; ") + mismatch;
  if (!force) {
    usage_error("--resume: '" + output + "' was started by another job: " + differences +
                ". Resume with that job's -i, --model and sampling flags, or pass --force-resume "
                "to add this job's records to it anyway");
  }
  std::cerr << "promptpack run: warning: resuming another job's output (--force-resume): "
            << differences << "\n";
}

// Reads the output back for --resume, refusing one that holds anything but records of this job's
// lines. The input's custom_ids are read first when it is a file; standard input from a pipe can
// be read only once, so then only the records' form is checked.
run::resume_state load_resume(const run::run_options& o, const input_file& input,
                              std::uint64_t lines) {
  std::optional<run::id_counter> job_ids;
  if (S_ISREG(input.info.st_mode)) job_ids.emplace(run::job_custom_ids(input.fd, o, lines));
  try {
    return run::load_resume_state(o.output, o.retry_errors, job_ids ? &*job_ids : nullptr);
  } catch (const run::foreign_output_error& e) {
    const std::string shard = o.shard_count == 1
                                  ? ""
                                  : " (this job runs shard " + std::to_string(o.shard_index) + "/" +
                                        std::to_string(o.shard_count) + " of the input)";
    usage_error("--resume: cannot continue in '" + o.output + "': " + e.what() + shard +
                ". Check -i and -o; to keep that file, write this job's output to another one, "
                "or start it over with --overwrite instead of --resume");
  }
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

// Records the job beside its output. A failure only warns: the records matter more, and --resume
// still checks them one by one.
void record_manifest(const std::string& output, int output_fd, const run::job_manifest& manifest) {
  struct stat info {};
  if (::fstat(output_fd, &info) != 0 || !S_ISREG(info.st_mode)) return;
  try {
    run::write_manifest(run::manifest_path(output), manifest);
  } catch (const std::system_error& e) {
    std::cerr << "promptpack run: warning: " << e.what()
              << "; a later --resume can't check that it continues the same job\n";
  }
}

void run_job(run_flags& flags, int& exit_status) {
  auto& o = flags.options;
  if (!flags.shard.empty()) parse_shard(flags.shard, o);
  if (o.resume && o.output == "-")
    usage_error("--resume needs -o FILE: standard output can't be read back");
  const bool embedded_used = flags.client.api_bases.empty();
  embedded_endpoint embedded;
  if (embedded_used) {
    embedded = start_embedded_endpoint("run",
                                       flags.generator == "text" ? reference::generator_kind::text
                                                                 : reference::generator_kind::echo,
                                       1);
  }
  // Validated before the output is opened (and maybe truncated).
  finish_client_options(flags.client, "run", embedded.api_base);
  o.client = std::move(flags.client.config);
  // Every refusal comes before the output is opened for writing.
  const input_file input = open_input(o.input);
  // Resolved once: every later step (the checks, --resume's rewrite, the manifest) acts on the
  // symlink's target, never on the link.
  if (o.output != "-") o.output = run::resolve_output_path(o.output);
  refuse_same_file(input, o);
  // The line count of a regular file sizes the id tables and gives progress a total.
  const run::line_count lines = run::estimate_lines(input.fd);
  std::optional<run::job_manifest> manifest;
  if (o.output != "-") manifest = describe_job(o, input, embedded_used ? flags.generator : "");
  std::optional<run::resume_state> resume;
  if (o.resume) {
    check_manifest(o.output, *manifest, flags.force_resume);
    resume.emplace(load_resume(o, input, lines.table_size()));
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
  if (manifest) record_manifest(o.output, output_fd, *manifest);
  run::line_count total = lines;
  if (total.lines > 0) {
    total.lines = (total.lines + o.shard_count - 1 - o.shard_index) / o.shard_count;
  }
  if (resume) total.lines -= std::min<std::uint64_t>(total.lines, resume->records);
  // Installed only now: a signal before the output is touched ends the process the usual way.
  stop_signal::install();
  o.stop_requested = [] { return stop_signal::number(); };
  exit_status = run::run_batch_job(o, input.fd, output_fd, resume ? &*resume : nullptr, total);
}

}  // namespace

void add_run_command(CLI::App& root, int& exit_status) {
  auto flags = std::make_shared<run_flags>();
  auto& o = flags->options;
  auto& c = flags->client.config;
  c.max_batch_prompts = 256;  // offline jobs favour big batches
  c.model = "custom/promptpack-reference";
  // One I/O thread per core: run's I/O threads also format and write the records, and a second
  // one shortens a job by ~12% here (bench, which only counts, is faster with one).
  c.threads = 0;
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
  cmd->add_flag("--force-resume", flags->force_resume,
                "with --resume: continue even though the output's manifest names another input, "
                "model or params")
      ->needs("--resume");
  cmd->add_flag("--overwrite", o.overwrite, "start over even if the output already has records");
  cmd->add_flag("--ordered", o.ordered, "write records in input order (default: as they complete)");
  cmd->add_option("--shard", flags->shard, "I/N: only lines whose 0-based index mod N is I");
  cmd->add_flag("-q,--quiet", o.quiet, "no progress line and no summary");
  cmd->add_option("--grace-period", o.grace_period_s,
                  "after Ctrl-C or SIGTERM: seconds the lines already sent may take to finish "
                  "(a second signal stops at once)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
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
