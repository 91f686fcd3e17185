// Files and records of a JSONL batch job for tests: a temp folder, input lines, parsed output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::test {

/// A fresh folder under the system temp folder, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The path of `name` inside the folder, as a string for command lines.
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

void write_file(const std::string& path, std::string_view text);
std::string read_file(const std::string& path);

/// `text` as a JSON string literal, quotes included.
std::string json_quoted(std::string_view text);

/// A job's input: custom_ids and their prompts, in input order.
struct job_input {
  std::vector<std::string> ids;
  std::vector<std::string> prompts;

  /// `{"custom_id": ..., "prompt": ...}` lines, each ending in '\n'.
  std::string jsonl() const;
};

/// `count` lines with ids `<prefix>0`, `<prefix>1`, ... and distinct prompts that need escaping
/// (quotes, a backslash, a tab, non-ASCII letters).
job_input numbered_prompts(std::size_t count, const std::string& prefix = "id-");

/// The records of an output, one JSON object a line, keyed by custom_id.
struct record_set {
  std::vector<std::string> ids;                           ///< in output order
  std::map<std::string, std::vector<std::string>> by_id;  ///< every record of each custom_id
  std::vector<std::string> unreadable;                    ///< lines without a string custom_id
  std::size_t lines = 0;

  std::size_t count(const std::string& id) const;
  /// The one record of `id`; a test failure (and "{}") when there is none or several.
  std::string only(const std::string& id) const;
};

/// Parses every line of `text`. `torn_tail_allowed`: a last line without '\n' is skipped.
record_set parse_records(std::string_view text, bool torn_tail_allowed = false);

/// A job's folder: the input written to `in.jsonl`, and `out.jsonl` for the output.
struct job_files {
  explicit job_files(std::string_view input);
  /// The records of `out.jsonl`, each line checked as parse_records does.
  record_set records() const;

  temp_dir dir;
  std::string in = dir.file("in.jsonl");
  std::string out = dir.file("out.jsonl");
};

/// What string_at gives where a record has no string.
inline const std::string no_string = "<no string here>";

/// The string at a JSON pointer ("/output/0") of one record, or no_string.
std::string string_at(const std::string& record, std::string_view pointer);
/// The integer at a JSON pointer of one record, or -1.
std::int64_t int_at(const std::string& record, std::string_view pointer);
bool is_null_at(const std::string& record, std::string_view pointer);

/// Test failures unless every id of `expected` has exactly one record and no other record exists.
void check_exactly_once(const record_set& records, const std::vector<std::string>& expected);
/// Test failures unless no id has several records and every record's id is one of `expected`.
void check_at_most_once(const record_set& records, const std::vector<std::string>& expected);
/// Test failures unless every record of `input` is a success whose first output is its prompt.
void check_echoed(const record_set& records, const job_input& input);

}  // namespace promptpack::test
