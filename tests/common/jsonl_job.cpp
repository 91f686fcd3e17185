// JSONL job test helpers: mkdtemp folders, simdjson-parsed records, exactly-once checks.
#include "common/jsonl_job.hpp"

#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace promptpack::test {
namespace {

/// At most this many offending ids are named in a failure message.
constexpr std::size_t named_at_most = 5;

std::string first_few(const std::vector<std::string>& ids) {
  std::string text;
  for (std::size_t i = 0; i < ids.size() && i < named_at_most; ++i) text += " '" + ids[i] + "'";
  if (ids.size() > named_at_most) text += " ...";
  return text;
}

simdjson::simdjson_result<simdjson::dom::element> at(simdjson::dom::parser& parser,
                                                     const std::string& record,
                                                     std::string_view pointer) {
  return parser.parse(record).at_pointer(pointer);
}

}  // namespace

temp_dir::temp_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "promptpack-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string json_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string job_input::jsonl() const {
  std::string text;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    text +=
        "{\"custom_id\":" + json_quoted(ids[i]) + ",\"prompt\":" + json_quoted(prompts[i]) + "}\n";
  }
  return text;
}

job_input numbered_prompts(std::size_t count, const std::string& prefix) {
  job_input input;
  for (std::size_t i = 0; i < count; ++i) {
    input.ids.push_back(prefix + std::to_string(i));
    input.prompts.push_back("prompt \"" + std::to_string(i) + "\" \\ \t caf\xc3\xa9 \xe2\x9c\x93");
  }
  return input;
}

std::size_t record_set::count(const std::string& id) const {
  const auto it = by_id.find(id);
  return it == by_id.end() ? 0 : it->second.size();
}

std::string record_set::only(const std::string& id) const {
  const auto it = by_id.find(id);
  const std::size_t n = it == by_id.end() ? 0 : it->second.size();
  BOOST_TEST(n == 1u, "custom_id '" << id << "' has " << n << " records");
  return n == 1 ? it->second.front() : "{}";
}

record_set parse_records(std::string_view text, bool torn_tail_allowed) {
  record_set records;
  simdjson::dom::parser parser;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos && torn_tail_allowed) break;
    BOOST_TEST(nl != std::string_view::npos, "the output's last line has no newline");
    const std::string line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++records.lines;
    std::string_view id;
    if (parser.parse(line)["custom_id"].get_string().get(id) != simdjson::SUCCESS) {
      records.unreadable.push_back(line);
      continue;
    }
    records.ids.emplace_back(id);
    records.by_id[std::string(id)].push_back(line);
  }
  const std::string first = records.unreadable.empty() ? "" : records.unreadable.front();
  BOOST_TEST(records.unreadable.empty(), records.unreadable.size()
                                             << " unreadable lines, the first: " << first);
  return records;
}

job_files::job_files(std::string_view input) {
  write_file(in, input);
}

record_set job_files::records() const {
  return parse_records(read_file(out));
}

std::string string_at(const std::string& record, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::string_view value;
  if (at(parser, record, pointer).get_string().get(value) != simdjson::SUCCESS) return no_string;
  return std::string(value);
}

std::int64_t int_at(const std::string& record, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::int64_t value = 0;
  if (at(parser, record, pointer).get_int64().get(value) != simdjson::SUCCESS) return -1;
  return value;
}

bool is_null_at(const std::string& record, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  return at(parser, record, pointer).get(value) == simdjson::SUCCESS && value.is_null();
}

namespace {

void check_records(const record_set& records, const std::vector<std::string>& expected,
                   bool all_required) {
  std::vector<std::string> missing;
  std::vector<std::string> repeated;
  std::vector<std::string> unexpected;
  const std::set<std::string> wanted(expected.begin(), expected.end());
  for (const auto& id : expected) {
    const std::size_t n = records.count(id);
    if (n == 0) missing.push_back(id);
    if (n > 1) repeated.push_back(id);
  }
  for (const auto& [id, lines] : records.by_id) {
    if (!wanted.contains(id)) unexpected.push_back(id);
  }
  if (all_required) {
    BOOST_TEST(missing.empty(), missing.size() << " ids have no record:" << first_few(missing));
    BOOST_TEST(records.lines == expected.size());
  }
  BOOST_TEST(repeated.empty(), repeated.size() << " ids have several:" << first_few(repeated));
  BOOST_TEST(unexpected.empty(), unexpected.size() << " unknown ids:" << first_few(unexpected));
}

}  // namespace

void check_exactly_once(const record_set& records, const std::vector<std::string>& expected) {
  check_records(records, expected, true);
}

void check_at_most_once(const record_set& records, const std::vector<std::string>& expected) {
  check_records(records, expected, false);
}

void check_echoed(const record_set& records, const job_input& input) {
  std::vector<std::string> wrong;
  std::string first_wrong;
  for (std::size_t i = 0; i < input.ids.size(); ++i) {
    const auto it = records.by_id.find(input.ids[i]);
    if (it == records.by_id.end()) continue;  // check_exactly_once names it
    for (const auto& record : it->second) {
      if (string_at(record, "/output/0") != input.prompts[i] ||
          string_at(record, "/output/1") != no_string) {
        wrong.push_back(input.ids[i]);
        if (first_wrong.empty()) first_wrong = record;
      }
    }
  }
  BOOST_TEST(wrong.empty(), wrong.size() << " records are not the echo of their prompt:"
                                         << first_few(wrong) << "; the first: " << first_wrong);
}

}  // namespace promptpack::test
