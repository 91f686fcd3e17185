// Tests for the job's output sink: whole records from many threads, and write failures that stick.
#include "run/output_sink.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/jsonl_job.hpp"

namespace {

namespace run = promptpack::run;
using promptpack::test::read_file;
using promptpack::test::temp_dir;

/// An open file descriptor, closed on destruction.
struct file_descriptor {
  int fd;
  explicit file_descriptor(int opened) : fd(opened) { BOOST_TEST_REQUIRE(fd >= 0); }
  ~file_descriptor() { ::close(fd); }
};

/// Thread `thread`'s record `i`, long enough that threads overlap inside write(2).
std::string record(int thread, int i) {
  return "{\"thread\":" + std::to_string(thread) + ",\"i\":" + std::to_string(i) + ",\"pad\":\"" +
         std::string(static_cast<std::size_t>(100 + i % 900), 'x') + "\"}\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(output_sink)

/// Four threads write records through a sink with `policy`; the file must hold each record once,
/// whole, and in its thread's order.
void check_concurrent_writes(const run::output_flush_policy& policy) {
  temp_dir dir;
  const std::string path = dir.file("out.jsonl");
  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  {
    file_descriptor out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    run::output_sink sink(out.fd, policy);
    std::atomic<int> copied{0};  // calls that left the caller's buffer full: checked after join
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&sink, &copied, t] {
        // Several records per call, as a block's results come.
        std::string batch;
        for (int i = 0; i < per_thread; ++i) {
          batch += record(t, i);
          if (i % 7 == 6) {
            sink.write(batch);
            if (!batch.empty()) ++copied;  // taken, not copied (no assertion off the main thread)
          }
        }
        sink.write(batch);
      });
    }
    for (auto& w : writers) w.join();
    BOOST_TEST(copied.load() == 0);
    sink.flush();
  }
  // Each thread's records in its own order, every one whole and present once.
  std::istringstream lines(read_file(path));
  std::map<int, int> next_of_thread;
  std::string line;
  int total = 0;
  while (std::getline(lines, line)) {
    const int t = line[10] - '0';
    const int i = std::stoi(line.substr(line.find("\"i\":") + 4));
    BOOST_TEST_REQUIRE(line + "\n" == record(t, i));
    BOOST_TEST_REQUIRE(next_of_thread[t] == i);
    ++next_of_thread[t];
    ++total;
  }
  BOOST_TEST(total == threads * per_thread);
}

BOOST_AUTO_TEST_CASE(records_from_many_threads_arrive_whole_and_once) {
  check_concurrent_writes({});
}

BOOST_AUTO_TEST_CASE(a_full_queue_holds_writers_back_without_losing_records) {
  // Smaller than most calls: nearly every call waits for the writer.
  check_concurrent_writes({.batch_bytes = 512, .max_waiting_bytes = 1024});
}

BOOST_AUTO_TEST_CASE(records_reach_the_file_within_the_delay_without_a_flush) {
  temp_dir dir;
  const std::string path = dir.file("out.jsonl");
  file_descriptor out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  run::output_sink sink(out.fd, {.max_delay = std::chrono::milliseconds(20)});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the writer is idle, asleep
  std::string records = "{\"a\":1}\n";
  sink.write(records);  // far below a batch: only the delay sends it
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read_file(path).empty() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST(read_file(path) == "{\"a\":1}\n");
}

BOOST_AUTO_TEST_CASE(the_sink_writes_what_waits_before_it_goes) {
  temp_dir dir;
  const std::string path = dir.file("out.jsonl");
  {
    file_descriptor out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    run::output_sink sink(out.fd, {.max_delay = std::chrono::hours(1)});
    std::string records = "{\"a\":1}\n";
    sink.write(records);
    records = "{\"a\":2}\n";
    sink.write(records);
  }
  BOOST_TEST(read_file(path) == "{\"a\":1}\n{\"a\":2}\n");
}

BOOST_AUTO_TEST_CASE(more_buffers_than_one_writev_takes_arrive_in_order) {
  // 3,000 small buffers wait for one flush: the writer needs three writev(2) calls of at most
  // 1,024 pieces, and the buffers it hands back are reused by later calls.
  temp_dir dir;
  const std::string path = dir.file("out.jsonl");
  std::string expected;
  {
    file_descriptor out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    run::output_sink sink(out.fd, {.batch_bytes = std::size_t{64} << 20,
                                   .max_delay = std::chrono::hours(1),
                                   .max_waiting_bytes = std::size_t{64} << 20});
    std::string records;
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 3000; ++i) {
        records = record(round, i);
        expected += records;
        sink.write(records);
      }
      sink.flush();
      BOOST_TEST(read_file(path) == expected);
    }
  }
  BOOST_TEST(read_file(path) == expected);
}

BOOST_AUTO_TEST_CASE(a_write_failure_is_thrown_by_flush_and_every_later_call) {
  file_descriptor full(::open("/dev/full", O_WRONLY));  // every write fails with ENOSPC
  run::output_sink sink(full.fd);
  std::string records = "{}\n";
  sink.write(records);  // only queued: the failure comes with the write(2)
  BOOST_CHECK_THROW(sink.flush(), std::system_error);
  records = "{}\n";
  BOOST_CHECK_THROW(sink.write(records), std::system_error);
  BOOST_CHECK_THROW(sink.flush(), std::system_error);
  try {
    sink.write(records);
    BOOST_FAIL("a write after a failure must throw");
  } catch (const std::system_error& e) {
    BOOST_TEST(e.code().value() == ENOSPC);
    BOOST_TEST(std::string(e.what()).find("cannot write the output") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(nothing_written_is_nothing_to_flush) {
  file_descriptor full(::open("/dev/full", O_WRONLY));
  run::output_sink sink(full.fd);
  std::string none;
  sink.write(none);  // an empty block of records makes no write(2), so no failure
  BOOST_CHECK_NO_THROW(sink.flush());
}

BOOST_AUTO_TEST_SUITE_END()
