// The JSONL job: blocks of lines go to client::submit_bulk; records come back as they complete.
#include "run/batch_job.hpp"

#include "run/custom_id_hash.hpp"
#include "run/id_set.hpp"
#include "run/job_input.hpp"
#include "run/job_stats.hpp"
#include "run/line_parser.hpp"
#include "run/line_reader.hpp"
#include "run/output_sink.hpp"
#include "run/record_format.hpp"

#include <promptpack/client.hpp>
#include <promptpack/protocol/json_text.hpp>

#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <map>
#include <thread>
#include <unordered_map>

namespace promptpack::run {
namespace {

using steady = std::chrono::steady_clock;

// How many groups of overridden params the job remembers before it starts over.
constexpr std::size_t max_cached_groups = 4096;

/// A request group as the job knows it: the handle, plus what OpenAI records need.
struct group_info {
  group_handle handle;
  std::string model;
  std::optional<int> max_tokens;
};

/// A line inside a block: offsets into the block's arena, which is final once submitted.
struct line_slot {
  std::uint32_t id_offset = 0;  ///< the custom_id as a JSON string
  std::uint32_t id_size = 0;
  std::size_t prompt_offset = 0;
  std::size_t prompt_size = 0;
  std::uint32_t group = 0;
  line_form form = line_form::prompt;
  bool failed = false;     ///< an invalid line: it gets an error record and is not sent
  bool repeated = false;   ///< --resume: an earlier line has this custom_id (counted when read)
  bool json_safe = false;  ///< the prompt needs no escaping (job_line::prompt_json_safe)
  std::uint64_t id_hash = 0;
  std::uint64_t line_number = 0;
};

class job;
struct job_block;

/// The lines of one block that share a group: one submit_bulk call, one sink.
struct block_part final : bulk_sink {
  job_block* block = nullptr;
  std::uint32_t group = 0;
  std::vector<std::uint32_t> lines;       ///< bulk index -> line in the block
  std::vector<std::string_view> prompts;  ///< views into the block's arena
  bool all_json_safe = true;  ///< every prompt needs no escaping: submitted as json_safe

  void on_results(std::span<const bulk_result> results) override;
  void on_complete() override;
};

/// A run of consecutive input lines, submitted together. Reused from block to block.
struct job_block {
  job* owner = nullptr;
  std::uint64_t sequence = 0;
  std::string arena;
  std::vector<line_slot> lines;
  std::vector<std::unique_ptr<block_part>> parts;
  std::size_t parts_used = 0;
  std::atomic<std::size_t> parts_remaining{0};
  std::vector<std::string> ordered_records;  ///< --ordered: each line's record, until emitted
  // The groups of this block's lines (line_slot::group indexes them); part g sends group g.
  // Copies, so the job's group cache can forget a group while a block still uses it.
  std::vector<group_info> groups;
  std::unordered_map<group_handle, std::uint32_t> group_slots;

  /// The block-local index of `info`, added on first use.
  std::uint32_t slot_of(const group_info& info) {
    const auto next = static_cast<std::uint32_t>(groups.size());
    if (next > 0 && groups.back().handle == info.handle) return next - 1;
    auto [it, inserted] = group_slots.try_emplace(info.handle, next);
    if (inserted) groups.push_back(info);
    return it->second;
  }

  std::string_view custom_id_json(const line_slot& s) const {
    return {arena.data() + s.id_offset, s.id_size};
  }
  std::string_view prompt(const line_slot& s) const {
    return {arena.data() + s.prompt_offset, s.prompt_size};
  }

  void reset(std::uint64_t seq) {
    sequence = seq;
    arena.clear();
    lines.clear();
    parts_used = 0;
    groups.clear();
    group_slots.clear();
  }
};

class job {
 public:
  job(const run_options& options, int output_fd)
      : options_(options), client_(options.client), output_(output_fd) {
    default_group_ = {client_.group(), options.client.model, options.client.params.max_tokens};
    const std::size_t window =
        std::max<std::size_t>(2, options.client.max_pending / options.block_lines);
    for (std::size_t i = 0; i < window; ++i) free_.push_back(std::make_unique<job_block>());
  }

  job_stats& stats() { return stats_; }
  promptpack::client& client() { return client_; }
  const run_options& options() const { return options_; }

  /// Reads every line and submits it; returns once every record is written.
  void run(line_reader& reader, resume_state* resume, std::uint64_t expected_lines);
  /// Hands `records` to the output, which leaves it empty (output_sink::write), or remembers the
  /// first write failure (then the job stops).
  void write(std::string& records);
  /// Waits until every record written is in the kernel's hands (another thread may hold some).
  void flush_output();
  void block_done(job_block* block);
  std::string fatal_error() {
    std::lock_guard lock(fatal_mutex_);
    return fatal_error_;
  }
  /// True once the grace period is over: prompts still unfinished were cancelled by the job
  /// itself, and get no record, so that --resume runs them.
  bool dropping_cancelled() const { return dropping_cancelled_.load(std::memory_order_acquire); }
  /// The signal that ended the job early, 0 when none did.
  int stopped_by() const { return stopped_by_; }

 private:
  job_block* take_block();
  void submit(job_block* block);
  void add_line(job_block* block, const job_line& parsed, std::uint64_t id_hash,
                std::uint64_t line_number);
  void fail_line(job_block* block, std::uint32_t index, const prompt_error& error,
                 std::string& unordered_records);
  void mark_duplicates(job_block* block);
  /// The group of a line's overrides; valid until the next call. Inline for the usual line,
  /// which has none and takes the job's own group.
  const group_info& group_of(const line_overrides& overrides) {
    return overrides.empty() ? default_group_ : group_with(overrides);
  }
  const group_info& group_with(const line_overrides& overrides);
  void recycle(job_block* block);
  /// Waits for every submitted block; after a stop signal, for the grace period at most.
  void wait_for_blocks();
  /// Remembers the first failure that stops the job.
  void set_fatal(std::string message);

  const run_options& options_;
  promptpack::client client_;
  output_sink output_;
  job_stats stats_;
  group_info default_group_;
  id_set seen_;                     // every custom_id read so far, to refuse duplicates
  bool counted_when_read_ = false;  // --resume: seen_ is updated line by line, not per block
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint8_t> seen_before_;
  // Groups of overridden params by line_overrides::key(). Bounded: a job with a seed per line
  // would otherwise keep one per line.
  std::unordered_map<std::string, group_info> group_cache_;

  std::mutex blocks_mutex_;
  std::condition_variable blocks_cv_;
  std::vector<std::unique_ptr<job_block>> free_;
  std::size_t in_flight_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t next_to_emit_ = 0;                 // --ordered
  std::map<std::uint64_t, job_block*> completed_;  // --ordered: finished, waiting for earlier
  std::vector<std::unique_ptr<job_block>> owned_;  // every block, for lifetime

  std::mutex fatal_mutex_;
  std::string fatal_error_;
  std::atomic<bool> failed_{false};  // fatal_error_ is set: read per line, where a lock costs
  int stopped_by_ = 0;               // the signal that ended the reading early, 0 when none did
  std::atomic<bool> dropping_cancelled_{false};
};

void block_part::on_results(std::span<const bulk_result> results) {
  job& owner = *block->owner;
  const bool ordered = owner.options().ordered;
  const group_info& info = block->groups[group];
  thread_local std::string records;  // per I/O thread: no allocation once warm
  records.clear();
  std::uint64_t succeeded = 0;  // counted once per call: one atomic add, not one per prompt
  for (const auto& r : results) {
    const std::uint32_t line_index = lines[r.index];
    const line_slot& slot = block->lines[line_index];
    const std::size_t start = records.size();
    if (r.error && r.error->type == errc::cancelled && owner.dropping_cancelled()) {
      owner.stats().unfinished.fetch_add(1, std::memory_order_relaxed);
      // No record: the line is run again by --resume. A reused block's slot may still hold an
      // earlier line's record, which must not be written twice.
      if (ordered) block->ordered_records[line_index].clear();
      continue;
    }
    if (r.error) {
      append_error(records, block->custom_id_json(slot), slot.form, *r.error);
      owner.stats().count_error(r.error->type);
    } else {
      append_success(records, block->custom_id_json(slot), slot.form, r.outputs,
                     r.outputs_json_safe, {info.model, block->prompt(slot), info.max_tokens});
      ++succeeded;
    }
    if (ordered) {
      block->ordered_records[line_index].assign(records, start, std::string::npos);
      records.resize(start);
    }
  }
  owner.stats().succeeded.fetch_add(succeeded, std::memory_order_relaxed);
  if (!ordered) owner.write(records);
}

void block_part::on_complete() {
  if (block->parts_remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
    block->owner->block_done(block);
}

void job::write(std::string& records) {
  try {
    output_.write(records);
  } catch (const std::system_error& e) {
    set_fatal(e.what());
  }
}

void job::flush_output() {
  try {
    output_.flush();
  } catch (const std::system_error& e) {
    set_fatal(e.what());
  }
}

void job::set_fatal(std::string message) {
  std::lock_guard lock(fatal_mutex_);
  if (fatal_error_.empty()) fatal_error_ = std::move(message);
  failed_.store(true, std::memory_order_relaxed);
}

job_block* job::take_block() {
  std::unique_lock lock(blocks_mutex_);
  // The window: at most this many blocks are read ahead of the slowest unfinished one. A stop
  // while it is full (a slow or hung endpoint) must start the grace period now, not once a
  // block comes back: null then.
  while (
      !blocks_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return !free_.empty(); })) {
    if ((stopped_by_ = options_.stop_requested()) != 0) return nullptr;
  }
  owned_.push_back(std::move(free_.back()));
  free_.pop_back();
  job_block* block = owned_.back().get();
  block->owner = this;
  block->reset(next_sequence_++);
  ++in_flight_;
  return block;
}

void job::recycle(job_block* block) {
  // Called with blocks_mutex_ held.
  for (auto it = owned_.begin(); it != owned_.end(); ++it) {
    if (it->get() == block) {
      free_.push_back(std::move(*it));
      owned_.erase(it);
      break;
    }
  }
  --in_flight_;
  blocks_cv_.notify_all();
}

void job::block_done(job_block* block) {
  std::lock_guard lock(blocks_mutex_);
  if (!options_.ordered) {
    recycle(block);
    return;
  }
  completed_.emplace(block->sequence, block);
  // Emit every finished block that has no unfinished block before it.
  thread_local std::string records;
  for (auto it = completed_.find(next_to_emit_); it != completed_.end();
       it = completed_.find(next_to_emit_)) {
    records.clear();
    for (std::size_t i = 0; i < it->second->lines.size(); ++i)
      records += it->second->ordered_records[i];
    write(records);
    recycle(it->second);
    completed_.erase(it);
    ++next_to_emit_;
  }
}

const group_info& job::group_with(const line_overrides& overrides) {
  std::string key = overrides.key();
  if (auto it = group_cache_.find(key); it != group_cache_.end()) return it->second;
  sampling_params params = options_.client.params;
  if (overrides.max_tokens) params.max_tokens = *overrides.max_tokens;
  if (overrides.temperature) params.temperature = *overrides.temperature;
  if (overrides.top_p) params.top_p = *overrides.top_p;
  if (overrides.top_k) params.top_k = *overrides.top_k;
  for (const auto& extra : overrides.extra) {
    auto same = std::find_if(params.extra.begin(), params.extra.end(),
                             [&](const auto& p) { return p.first == extra.first; });
    if (same != params.extra.end()) {
      same->second = extra.second;
    } else {
      params.extra.push_back(extra);
    }
  }
  const std::string model = overrides.model.value_or(options_.client.model);
  if (group_cache_.size() >= max_cached_groups) group_cache_.clear();
  return group_cache_
      .emplace(std::move(key), group_info{client_.group(model, params), model, params.max_tokens})
      .first->second;
}

void job::add_line(job_block* block, const job_line& parsed, std::uint64_t id_hash,
                   std::uint64_t line_number) {
  const auto id_offset = static_cast<std::uint32_t>(block->arena.size());
  if (parsed.plain) {
    block->arena.push_back('"');
    block->arena.append(parsed.custom_id).push_back('"');
  } else {
    append_json_string(block->arena, parsed.custom_id);
  }
  const std::size_t prompt_offset = block->arena.size();
  block->arena.append(parsed.prompt);
  // Filled in place: a slot built on the stack and pushed was copied back in 16-byte halves
  // that straddled its 8-byte stores, a store-forwarding stall on every line.
  line_slot& slot = block->lines.emplace_back();
  slot.id_offset = id_offset;
  slot.id_size = static_cast<std::uint32_t>(prompt_offset - id_offset);
  slot.prompt_offset = prompt_offset;
  slot.prompt_size = parsed.prompt.size();
  slot.form = parsed.form;
  slot.json_safe = parsed.prompt_json_safe;
  slot.id_hash = id_hash;
  slot.line_number = line_number;
}

void job::fail_line(job_block* block, std::uint32_t index, const prompt_error& error,
                    std::string& unordered_records) {
  line_slot& slot = block->lines[index];
  slot.failed = true;
  stats_.count_error(error.type);
  if (options_.ordered) {
    block->ordered_records.resize(std::max(block->ordered_records.size(), block->lines.size()));
    block->ordered_records[index].clear();
    append_error(block->ordered_records[index], block->custom_id_json(slot), slot.form, error,
                 slot.line_number);
  } else {
    append_error(unordered_records, block->custom_id_json(slot), slot.form, error,
                 slot.line_number);
  }
}

void job::mark_duplicates(job_block* block) {
  // Checked a block at a time so that the id table's cache misses overlap (see insert_many).
  const std::size_t n = block->lines.size();
  hashes_.resize(n);
  seen_before_.resize(n);
  if (counted_when_read_) {
    for (std::size_t i = 0; i < n; ++i) seen_before_[i] = block->lines[i].repeated ? 1 : 0;
  } else {
    for (std::size_t i = 0; i < n; ++i) hashes_[i] = block->lines[i].id_hash;
    seen_.insert_many(hashes_, seen_before_);
  }
  std::string records;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (seen_before_[i] == 0 || block->lines[i].failed) continue;
    stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
    const std::string message = "line " + std::to_string(block->lines[i].line_number) + ": " +
                                std::string(duplicate_id_message) +
                                "; give every line its own custom_id";
    fail_line(block, i,
              {.type = errc::invalid_input, .message = message, .http_status = 0, .attempts = 0},
              records);
  }
  write(records);
}

void job::submit(job_block* block) {
  if (options_.ordered) block->ordered_records.resize(block->lines.size());
  mark_duplicates(block);
  // One part per group in the block (almost always just one): part g sends group g.
  block->parts_used = block->groups.size();
  while (block->parts.size() < block->parts_used)
    block->parts.push_back(std::make_unique<block_part>());
  for (std::uint32_t g = 0; g < block->parts_used; ++g) {
    block_part& part = *block->parts[g];
    part.block = block;
    part.group = g;
    part.lines.clear();
    part.prompts.clear();
    part.all_json_safe = true;
  }
  for (std::uint32_t i = 0; i < block->lines.size(); ++i) {
    const line_slot& slot = block->lines[i];
    if (slot.failed) continue;
    block_part& part = *block->parts[slot.group];
    part.lines.push_back(i);
    part.prompts.push_back(block->prompt(slot));
    part.all_json_safe &= slot.json_safe;
  }
  // One extra count holds the block open until every part is submitted.
  block->parts_remaining.store(block->parts_used + 1, std::memory_order_release);
  for (std::size_t p = 0; p < block->parts_used; ++p) {
    auto& part = *block->parts[p];
    client_.submit_bulk(part.prompts, block->groups[part.group].handle, part,
                        part.all_json_safe ? prompt_bytes::json_safe : prompt_bytes::any);
  }
  if (block->parts_remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) block_done(block);
}

void job::run(line_reader& reader, resume_state* resume, std::uint64_t expected_lines) {
  seen_.reserve(expected_lines);
  counted_when_read_ = resume != nullptr;
  line_parser parser;
  job_line parsed;
  std::string error;
  input_line line;
  job_block* block = take_block();
  while (block != nullptr) {
    if (!block->lines.empty() && !reader.line_ready()) {
      // A pipe that went quiet: send the lines read so far rather than wait for a full block.
      submit(block);
      block = take_block();
      if (block == nullptr) break;
    }
    if (!reader.next(line)) break;
    if (failed_.load(std::memory_order_relaxed)) break;
    // A signal is looked for every 64 lines, microseconds apart in a file: the check is a call
    // through std::function. An idle pipe is polled by the reader, between its reads.
    if (line.number % 64 == 0 && (stopped_by_ = options_.stop_requested()) != 0) break;
    if (!is_job_line(line, options_)) continue;

    const bool ok = decode_job_line(parser, line, options_, parsed, error);
    const std::uint64_t id_hash = custom_id_hash(parsed.custom_id);
    bool repeated = false;
    if (resume) {
      // Which kept record stands for this line depends on the lines before it, so ids are counted
      // in input order here: a duplicate-id error record stands only for a later line with that
      // id, never for the first (whose own record a kill may have lost).
      repeated = seen_.insert(id_hash);
      if ((repeated ? resume->duplicates : resume->done).take(id_hash)) {
        stats_.skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
    }
    if (!ok) parsed.prompt = {};
    add_line(block, parsed, id_hash, line.number);
    block->lines.back().repeated = repeated;
    if (ok) {
      block->lines.back().group = block->slot_of(group_of(parsed.overrides));
    } else {
      std::string records;
      fail_line(block, static_cast<std::uint32_t>(block->lines.size() - 1),
                {.type = errc::invalid_input,
                 .message = "line " + std::to_string(line.number) + ": " + error +
                            "; fix the line, delete this record and rerun with --resume",
                 .http_status = 0,
                 .attempts = 0},
                records);
      write(records);
    }
    if (block->lines.size() >= options_.block_lines) {
      submit(block);
      block = take_block();
    }
  }
  if (block != nullptr) submit(block);
  // The input went idle and a signal came (stdin from a pipe): the same stop as between lines.
  if (reader.stopped() && stopped_by_ == 0) stopped_by_ = options_.stop_requested();
  wait_for_blocks();
  flush_output();
}

void job::wait_for_blocks() {
  std::unique_lock lock(blocks_mutex_);
  std::optional<steady::time_point> grace_ends;
  while (
      !blocks_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return in_flight_ == 0; })) {
    // A stop signal while the last lines are in flight starts the grace period too.
    if (!grace_ends && (stopped_by_ = options_.stop_requested()) != 0) {
      grace_ends = steady::now() + std::chrono::duration_cast<steady::duration>(
                                       std::chrono::duration<double>(options_.grace_period_s));
    }
    if (grace_ends && steady::now() >= *grace_ends) {
      dropping_cancelled_.store(true, std::memory_order_release);
      lock.unlock();  // cancelled prompts complete through block_done(), which takes the lock
      client_.shutdown(shutdown_mode::cancel);
      lock.lock();
      blocks_cv_.wait(lock, [&] { return in_flight_ == 0; });
      return;
    }
  }
}

// Prints progress every interval until told to stop.
class progress_reporter {
 public:
  progress_reporter(const job_stats& stats, const promptpack::client& client, line_count total,
                    double interval_s, bool tty)
      : stats_(stats),
        client_(client),
        total_(total),
        tty_(tty),
        started_(steady::now()),
        thread_([this, interval_s] { loop(interval_s); }) {}
  ~progress_reporter() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (tty_) std::cerr << "\r\033[K" << std::flush;  // clear the live line before the summary
  }

 private:
  void loop(double interval_s) {
    std::unique_lock lock(mutex_);
    while (
        !cv_.wait_for(lock, std::chrono::duration<double>(interval_s), [&] { return stopped_; })) {
      const auto line = progress_line(stats_, total_.lines, !total_.exact, steady::now() - started_,
                                      client_.stats().batch_size_tuning);
      if (tty_) {
        std::cerr << "\r\033[K" << line << std::flush;
      } else {
        std::cerr << line << "\n";
      }
    }
  }

  const job_stats& stats_;
  const promptpack::client& client_;
  line_count total_;
  bool tty_;
  steady::time_point started_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace

int run_batch_job(const run_options& options, int input_fd, int output_fd, resume_state* resume,
                  line_count expected_lines) {
  const auto started = steady::now();
  job j(options, output_fd);
  line_reader reader(input_fd, options.max_line_bytes, line_parser::padding(),
                     [&options] { return options.stop_requested() != 0; });
  std::optional<progress_reporter> progress;
  if (!options.quiet) {
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const double interval =
        options.progress_interval_s > 0 ? options.progress_interval_s : (tty ? 0.5 : 5.0);
    progress.emplace(j.stats(), j.client(), expected_lines, interval, tty);
  }
  j.run(reader, resume, expected_lines.table_size());
  j.client().shutdown(shutdown_mode::drain);
  if (progress) progress->stop();
  if (const auto fatal = j.fatal_error(); !fatal.empty()) {
    std::cerr << "promptpack run: " << fatal
              << "; free the space or fix the output, then rerun with --resume\n";
    return 2;
  }
  if (!options.quiet)
    std::cerr << summary_text(j.stats(), j.client().stats(), steady::now() - started);
  if (j.stopped_by() != 0) {
    std::cerr << "promptpack run: stopped by signal " << j.stopped_by()
              << "; every record written is whole. Run the same command with --resume to "
                 "finish the job.\n";
    return 128 + j.stopped_by();  // the shell's convention: 130 for SIGINT, 143 for SIGTERM
  }
  // Error records kept from an interrupted run count too: the output is the job's result.
  const bool earlier_errors = resume != nullptr && resume->errors > 0;
  return j.stats().failed() > 0 || earlier_errors ? 1 : 0;
}

}  // namespace promptpack::run
