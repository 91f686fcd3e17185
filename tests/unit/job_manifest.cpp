// Tests for the job manifest: input identity, JSON round trip, atomic writes, comparisons.
#include "run/job_manifest.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/contains.hpp"
#include "common/jsonl_job.hpp"

namespace {

namespace run = promptpack::run;
using promptpack::sampling_params;
using promptpack::test::contains;
using promptpack::test::read_file;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

// The identity of the file at `path`, read as run_command reads its input.
run::input_identity identity_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(fd >= 0, path);
  struct stat info {};
  BOOST_TEST_REQUIRE(::fstat(fd, &info) == 0);
  auto identity = run::identify_input(fd, info, path);
  ::close(fd);
  return identity;
}

run::job_manifest sample_manifest(const run::input_identity& input) {
  sampling_params params;
  params.temperature = 1e-7;  // written "1e-07" by std::to_chars, read back by simdjson
  params.extra = {{"stop", "[\"\\n\", \"END\"]"}, {"seed", "7"}};
  return {input,
          "custom/meta-llama/Llama-2-13b-hf",
          run::param_texts(params),
          {"https://a.internal/inference", "http://b:8000/v1"}};
}

// `manifest` as a later run reads it from the file.
run::job_manifest read_back(const run::job_manifest& manifest) {
  return run::parse_manifest(run::manifest_json(manifest));
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += item + "\n";
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_manifest)

BOOST_AUTO_TEST_CASE(a_regular_input_is_identified_by_path_size_and_fingerprint) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{\"prompt\": \"a\"}\n");
  write_file(dir.file("copy.jsonl"), "{\"prompt\": \"a\"}\n");
  write_file(dir.file("other.jsonl"), "{\"prompt\": \"b\"}\n");
  const auto in = identity_of(dir.file("in.jsonl"));
  BOOST_TEST(in.path == std::filesystem::canonical(dir.file("in.jsonl")).string());
  BOOST_TEST(in.size == 16u);
  BOOST_TEST(in.mtime_ns > 0);
  // Pinned: manifests written by earlier versions hold this value, and resume compares it.
  BOOST_TEST(in.fingerprint == "b03c2a08c01835bb");
  BOOST_TEST(identity_of(dir.file("copy.jsonl")).fingerprint == in.fingerprint);
  BOOST_TEST(identity_of(dir.file("other.jsonl")).fingerprint != in.fingerprint);
}

BOOST_AUTO_TEST_CASE(the_fingerprint_reads_both_ends_of_a_large_input) {
  temp_dir dir;
  const std::string big(1u << 20, 'x');
  write_file(dir.file("big"), big);
  const auto original = identity_of(dir.file("big")).fingerprint;
  for (const std::size_t at : {std::size_t{0}, big.size() - 1}) {
    std::string edited = big;
    edited[at] = 'y';
    write_file(dir.file("edited"), edited);
    BOOST_TEST(identity_of(dir.file("edited")).fingerprint != original, "byte " << at);
  }
}

BOOST_AUTO_TEST_CASE(standard_input_from_a_pipe_has_no_fingerprint) {
  int fds[2];
  BOOST_TEST_REQUIRE(::pipe(fds) == 0);
  struct stat info {};
  BOOST_TEST_REQUIRE(::fstat(fds[0], &info) == 0);
  const auto identity = run::identify_input(fds[0], info, "-");
  ::close(fds[0]);
  ::close(fds[1]);
  BOOST_TEST(identity.path == "-");
  BOOST_TEST(identity.fingerprint.empty());
}

BOOST_AUTO_TEST_CASE(endpoints_are_recorded_without_query_or_fragment) {
  BOOST_TEST(run::endpoint_address("https://h/inference?key=secret") == "https://h/inference");
  BOOST_TEST(run::endpoint_address("http://h:8000/v1#weight=2") == "http://h:8000/v1");
  BOOST_TEST(run::endpoint_address("http://h/x") == "http://h/x");
}

BOOST_AUTO_TEST_CASE(the_json_reads_back_as_written) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{}\n");
  const auto written = sample_manifest(identity_of(dir.file("in.jsonl")));
  const std::string json = run::manifest_json(written);
  const auto read = run::parse_manifest(json);
  BOOST_TEST(read.input.path == written.input.path);
  BOOST_TEST(read.input.size == written.input.size);
  BOOST_TEST(read.input.mtime_ns == written.input.mtime_ns);
  BOOST_TEST(read.input.fingerprint == written.input.fingerprint);
  BOOST_TEST(read.model == written.model);
  BOOST_TEST(read.endpoints == written.endpoints, boost::test_tools::per_element());
  BOOST_TEST(read.params.size() == 6u);
  BOOST_TEST(read.params.at("max_tokens") == "32");
  BOOST_TEST(read.params.at("seed") == "7");
  BOOST_TEST(read.params.at("stop") == "[\"\\n\",\"END\"]");
}

BOOST_AUTO_TEST_CASE(a_path_that_is_not_utf8_still_makes_json) {
  run::job_manifest manifest;
  manifest.input.path = "/data/caf\xe9.jsonl";  // Latin-1
  const auto read = run::parse_manifest(run::manifest_json(manifest));
  BOOST_TEST(read.input.path == "/data/caf?.jsonl");
  BOOST_TEST(read.input.fingerprint.empty());
}

BOOST_AUTO_TEST_CASE(damaged_manifests_are_refused_with_a_reason) {
  for (const std::string text :
       {"", "not json", "{}", "{\"promptpack_manifest\": 2}",
        "{\"promptpack_manifest\": 1, \"input\": {\"path\": \"-\"}, \"model\": 5}"}) {
    BOOST_CHECK_THROW(run::parse_manifest(text), std::runtime_error);
  }
  try {
    run::parse_manifest("{\"promptpack_manifest\": 1, \"input\": {\"path\": \"-\"}}");
    BOOST_FAIL("no model, yet parsed");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(contains(e.what(), "\"model\""), e.what());
  }
}

BOOST_AUTO_TEST_CASE(written_atomically_and_read_back) {
  temp_dir dir;
  const std::string path = run::manifest_path(dir.file("out.jsonl"));
  BOOST_TEST(path == dir.file("out.jsonl.manifest.json"));
  BOOST_TEST(!run::read_manifest(path).has_value(), "no manifest yet");
  write_file(dir.file("in.jsonl"), "{}\n");
  const auto manifest = sample_manifest(identity_of(dir.file("in.jsonl")));
  run::write_manifest(path, manifest);
  run::write_manifest(path, manifest);  // replaces the first one
  BOOST_TEST(read_file(path) == run::manifest_json(manifest));
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"), "the temporary file is renamed");
  struct stat info {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0133) == 0u, "0644 or tighter: " << std::oct << info.st_mode);
  const auto read = run::read_manifest(path);
  BOOST_TEST_REQUIRE(read.has_value());
  BOOST_TEST(read->model == manifest.model);

  write_file(path, "{\"promptpack_manifest\": 1");
  try {
    run::read_manifest(path);
    BOOST_FAIL("a damaged manifest was read");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(contains(e.what(), path), e.what());
    BOOST_TEST(contains(e.what(), "damaged"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(the_same_job_has_no_difference) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{}\n");
  const auto manifest = sample_manifest(identity_of(dir.file("in.jsonl")));
  const auto comparison = run::compare_manifests(read_back(manifest), manifest);
  BOOST_TEST(comparison.mismatches.empty(), joined(comparison.mismatches));
  BOOST_TEST(comparison.changes.empty(), joined(comparison.changes));
}

BOOST_AUTO_TEST_CASE(another_model_or_params_are_mismatches_that_name_the_difference) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{}\n");
  const auto manifest = sample_manifest(identity_of(dir.file("in.jsonl")));
  auto now = manifest;
  now.model = "custom/other";
  sampling_params params;
  params.max_tokens = 64;
  now.params = run::param_texts(params);  // and no stop or seed
  const auto comparison = run::compare_manifests(read_back(manifest), now);
  const std::string text = joined(comparison.mismatches);
  BOOST_TEST(comparison.mismatches.size() == 5u, text);
  BOOST_TEST(contains(text, "'custom/meta-llama/Llama-2-13b-hf'"), text);
  BOOST_TEST(contains(text, "'custom/other'"), text);
  BOOST_TEST(contains(text, "max_tokens was 32, this job's is 64"), text);
  BOOST_TEST(contains(text, "seed was 7, this job's is unset"), text);
  BOOST_TEST(contains(text, "temperature was"), text);
  BOOST_TEST(comparison.changes.empty(), joined(comparison.changes));
}

BOOST_AUTO_TEST_CASE(other_endpoints_are_only_a_change) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{}\n");
  const auto manifest = sample_manifest(identity_of(dir.file("in.jsonl")));
  auto now = manifest;
  now.endpoints = {"http://c/inference"};
  const auto comparison = run::compare_manifests(read_back(manifest), now);
  BOOST_TEST(comparison.mismatches.empty(), joined(comparison.mismatches));
  BOOST_TEST_REQUIRE(comparison.changes.size() == 1u);
  BOOST_TEST(contains(comparison.changes[0], "http://c/inference"), comparison.changes[0]);
}

BOOST_AUTO_TEST_CASE(inputs_differ_when_another_file_has_other_content) {
  temp_dir dir;
  write_file(dir.file("in.jsonl"), "{\"prompt\": \"a\"}\n");
  write_file(dir.file("moved.jsonl"), "{\"prompt\": \"a\"}\n");
  write_file(dir.file("other.jsonl"), "{\"prompt\": \"b\"}\n");
  const auto started = sample_manifest(identity_of(dir.file("in.jsonl")));
  const auto compared_to = [&](const run::input_identity& input) {
    auto now = started;
    now.input = input;
    return run::compare_manifests(read_back(started), now);
  };
  // The same content elsewhere: the input was moved or copied.
  const auto moved = compared_to(identity_of(dir.file("moved.jsonl")));
  BOOST_TEST(moved.mismatches.empty(), joined(moved.mismatches));
  BOOST_TEST(moved.changes.empty(), joined(moved.changes));
  // Other content elsewhere: another input.
  const auto other = compared_to(identity_of(dir.file("other.jsonl")));
  BOOST_TEST_REQUIRE(other.mismatches.size() == 1u);
  BOOST_TEST(contains(other.mismatches[0], "other.jsonl"), other.mismatches[0]);
  BOOST_TEST(contains(other.mismatches[0], "in.jsonl"), other.mismatches[0]);
  // Other content in the same place: the input was edited (a line fixed), which resume allows.
  write_file(dir.file("in.jsonl"), "{\"prompt\": \"fixed\"}\n");
  const auto edited = compared_to(identity_of(dir.file("in.jsonl")));
  BOOST_TEST(edited.mismatches.empty(), joined(edited.mismatches));
  BOOST_TEST_REQUIRE(edited.changes.size() == 1u);
  BOOST_TEST(contains(edited.changes[0], "changed"), edited.changes[0]);
  // A pipe either time can't be compared.
  run::input_identity standard_input;
  standard_input.path = "-";
  const auto piped = compared_to(standard_input);
  BOOST_TEST(piped.mismatches.empty(), joined(piped.mismatches));
  BOOST_TEST(piped.changes.empty(), joined(piped.changes));
}

BOOST_AUTO_TEST_SUITE_END()
