// purpose: stopping `promptpack run` with SIGINT or SIGTERM: in-flight lines finish within the
// grace period, the exit status is 128 + the signal, and --resume finishes with one record a line.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>

#include "common/child_process.hpp"
#include "common/jsonl_job.hpp"
#include "common/reference_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::child_process;
using promptpack::test::job_input;
using promptpack::test::numbered_prompts;
using promptpack::test::parse_records;
using promptpack::test::read_file;
using promptpack::test::running_server;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

// An echo endpoint slow enough (latency_ms per request) that a job is still running when the
// test signals it.
reference_config slow_echo(double latency_ms) {
  reference_config config;
  config.generator = generator_kind::echo;
  config.threads = 1;
  config.latency_ms = latency_ms;
  return config;
}

struct stoppable_job {
  stoppable_job(const running_server& server, std::size_t lines, const std::string& batch_size,
                std::vector<std::string> extra)
      : input(numbered_prompts(lines)) {
    write_file(in, input.jsonl());
    args = {"run",
            "-q",
            "-i",
            in,
            "-o",
            out,
            "--api-base",
            server.url(),
            "--batch-size",
            batch_size,
            "--connections",
            "4"};
    args.insert(args.end(), extra.begin(), extra.end());
  }

  /// Runs the same job again with --resume, to its end.
  promptpack::test::process_result resume() const {
    auto again = args;
    again.push_back("--resume");
    return promptpack::test::run_promptpack(again, 60s);
  }

  job_input input;
  temp_dir dir;
  std::string in = dir.file("in.jsonl");
  std::string out = dir.file("out.jsonl");
  std::vector<std::string> args;
};

// Waits until the job has written at least one record, so the signal lands mid-job.
void wait_for_first_record(const std::string& out) {
  for (int i = 0; i < 200 && read_file(out).empty(); ++i) std::this_thread::sleep_for(25ms);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_run_signals)

BOOST_AUTO_TEST_CASE(sigint_lets_in_flight_lines_finish_and_resume_completes) {
  // More lines than the job reads ahead (--max-pending: two blocks of 4,096), so some are unread at
  // the signal; 20 ms a request keeps the job running for a few seconds.
  running_server server(slow_echo(20));
  stoppable_job job(server, 20000, "64", {"--max-pending", "8192"});
  child_process run(PROMPTPACK_BINARY, job.args);
  wait_for_first_record(job.out);
  run.send(SIGINT);
  const auto stopped = run.finish(30s);
  BOOST_TEST(stopped.exit_code == 130, stopped.err);

  // Every record written is whole, none twice, and some lines were left for --resume.
  const auto partial = parse_records(read_file(job.out));
  promptpack::test::check_at_most_once(partial, job.input.ids);
  BOOST_TEST(partial.lines > 0u);
  BOOST_TEST(partial.lines < job.input.ids.size());

  const auto finished = job.resume();
  BOOST_TEST(finished.exit_code == 0, finished.err);
  const auto all = parse_records(read_file(job.out));
  promptpack::test::check_exactly_once(all, job.input.ids);
  promptpack::test::check_echoed(all, job.input);
}

BOOST_AUTO_TEST_CASE(the_grace_period_bounds_the_wait_and_cancelled_lines_get_no_record) {
  // Each request takes 3 s: after a 0.3 s grace period the lines in flight are cancelled.
  running_server server(slow_echo(3000));
  stoppable_job job(server, 200, "10", {"--grace-period", "0.3"});
  child_process run(PROMPTPACK_BINARY, job.args);
  std::this_thread::sleep_for(500ms);  // the first batches are out, none answered yet
  const auto signalled = std::chrono::steady_clock::now();
  run.send(SIGTERM);
  const auto stopped = run.finish(30s);
  BOOST_TEST(stopped.exit_code == 143, stopped.err);
  BOOST_TEST((std::chrono::steady_clock::now() - signalled < 2500ms));
  // No `cancelled` record: every line without an answer is left to --resume.
  const auto partial = parse_records(read_file(job.out));
  BOOST_TEST(read_file(job.out).find("cancelled") == std::string::npos);
  promptpack::test::check_at_most_once(partial, job.input.ids);
}

BOOST_AUTO_TEST_CASE(a_second_signal_stops_at_once_and_the_output_still_resumes) {
  running_server server(slow_echo(1000));
  stoppable_job job(server, 400, "100", {"--grace-period", "60"});
  child_process run(PROMPTPACK_BINARY, job.args);
  std::this_thread::sleep_for(300ms);
  run.send(SIGTERM);
  std::this_thread::sleep_for(100ms);
  run.send(SIGTERM);
  const auto stopped = run.finish(10s);
  BOOST_TEST(stopped.exit_code == 143, stopped.err);

  const auto finished = job.resume();
  BOOST_TEST(finished.exit_code == 0, finished.err);
  promptpack::test::check_exactly_once(parse_records(read_file(job.out)), job.input.ids);
}

BOOST_AUTO_TEST_CASE(a_signal_ends_a_job_whose_piped_input_has_gone_quiet) {
  // Input from a pipe (a FIFO here) that stays open with nothing more to say: the read must not
  // hold the signal until a next line that may never come, nor must the full window of blocks
  // a slow endpoint leaves.
  running_server server(slow_echo(0));
  temp_dir dir;
  const std::string fifo = dir.file("in.fifo");
  const std::string out = dir.file("out.jsonl");
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Read-write, so that neither this open nor the child's waits for the other end.
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  BOOST_TEST_REQUIRE(writer >= 0);
  const job_input input = numbered_prompts(5);
  const std::string lines = input.jsonl();
  BOOST_TEST_REQUIRE(::write(writer, lines.data(), lines.size()) ==
                     static_cast<ssize_t>(lines.size()));
  child_process run(PROMPTPACK_BINARY, {"run", "-q", "-i", fifo, "-o", out, "--api-base",
                                        server.url(), "--batch-size", "1", "--max-delay-us", "0"});
  for (int i = 0; i < 400 && parse_records(read_file(out)).ids.size() < 5; ++i) {
    std::this_thread::sleep_for(25ms);
  }
  BOOST_TEST_REQUIRE(parse_records(read_file(out)).ids.size() == 5u);
  const auto signalled = std::chrono::steady_clock::now();
  run.send(SIGINT);
  const auto stopped = run.finish(10s);
  ::close(writer);
  BOOST_TEST(stopped.exit_code == 130, stopped.err);
  BOOST_TEST((std::chrono::steady_clock::now() - signalled < 2s));
  promptpack::test::check_exactly_once(parse_records(read_file(out)), input.ids);
}

BOOST_AUTO_TEST_SUITE_END()
