// The fast path of response parsing: an answer with no escapes (what most endpoints send for most
// batches) is read in one pass over its bytes, without simdjson's structural index and iteration.
#include "protocol/plain_response.hpp"

#include <promptpack/protocol/plain_json.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <utility>

namespace promptpack::detail {
namespace {

using cursor = plain_json_cursor;

// The bytes of an entry around its values, learned from an entry read token by token. Endpoints
// write every entry alike, so the next ones usually repeat those bytes exactly with other values
// in between: such an entry is read with one compare per gap, instead of a token at a time whose
// every step waits on the one before. Equal bytes around values that are each one whole string
// (in a clean text, all that lies before the next quote; else read as a string, escapes and all)
// mean the same JSON structure, so this accepts exactly what the token reader accepted in the
// learned entry.
class entry_shape {
 public:
  entry_shape() = default;
  // The separator views the shape's own bytes: a copy's would point into the original.
  entry_shape(const entry_shape&) = delete;
  entry_shape& operator=(const entry_shape&) = delete;

  // Learns the entry [begin, end) of the text that ends at `text_end`, read into `e` and
  // `outputs`. An entry with more values than the shape holds, or with an escaped value, is not
  // learned.
  void learn(const char* begin, const char* end, const char* text_end, const response_entry& e,
             const std::vector<std::string_view>& outputs) {
    // The separator is learned from the bytes right after a learned entry, and only then.
    learned_end_ = nullptr;
    // Such an entry keeps the shape learned before, which its neighbours may still repeat.
    const std::size_t count = e.output_count + (e.has_echo ? 1 : 0);
    if (count > max_values) return;
    // An unescaped value lives outside the text: it says nothing about the bytes around it.
    const auto in_place = [&](std::string_view value) {
      const auto at = reinterpret_cast<std::uintptr_t>(value.data());
      return at >= reinterpret_cast<std::uintptr_t>(begin) &&
             at + value.size() <= reinterpret_cast<std::uintptr_t>(end);
    };
    if (e.has_echo && !in_place(e.echo)) return;
    for (std::uint32_t i = 0; i < e.output_count; ++i) {
      if (!in_place(outputs[e.first_output + i])) return;
    }
    values_ = 0;
    std::array<std::string_view, max_values> values;
    for (std::uint32_t i = 0; i < e.output_count; ++i) {
      values[values_] = outputs[e.first_output + i];
      is_echo_[values_++] = false;
    }
    if (e.has_echo) {
      values[values_] = e.echo;
      is_echo_[values_++] = true;
    }
    // The echo may come before the outputs or after them: order the values as the bytes do.
    std::array<std::size_t, max_values> order{};
    for (std::size_t i = 0; i < values_; ++i) order[i] = i;
    // An insertion sort of at most four: std::sort's threshold of 16 makes g++ warn of reads
    // past the array.
    for (std::size_t i = 1; i < values_; ++i) {
      for (std::size_t j = i; j > 0 && values[order[j]].data() < values[order[j - 1]].data(); --j)
        std::swap(order[j], order[j - 1]);
    }
    std::array<bool, max_values> is_echo{};
    const char* from = begin;
    for (std::size_t i = 0; i < values_; ++i) {
      const std::string_view value = values[order[i]];
      gaps_[i] = {{from, static_cast<std::size_t>(value.data() - from)}, text_end};
      is_echo[i] = is_echo_[order[i]];
      from = value.data() + value.size();
    }
    is_echo_ = is_echo;
    gaps_[values_] = {{from, static_cast<std::size_t>(end - from)}, text_end};
    separator_ = {};
    learned_end_ = end;
    learned_ = true;
  }

  // Reads the entry at the cursor when it repeats the learned bytes, and every following entry
  // that does; else takes nothing, adds nothing, and returns false. Stops before a ',' whose
  // entry does not repeat them, or before whatever ends the list. Escaped values are unescaped
  // onto `unescaped`.
  bool read(cursor& c, std::vector<response_entry>& entries, std::vector<std::string_view>& outputs,
            std::string& unescaped) {
    if (!learned_) return false;
    // An entry with no value is all one gap: the general loop reads it.
    if (c.clean() && values_ > 0) return read_clean_run(c, entries, outputs);
    return read_run(c, entries, outputs, unescaped);
  }

 private:
  static constexpr std::size_t max_values = 4;

  // The bytes from the last value of one entry to the first value of the next: the last gap,
  // what lies between the entries (a ',' and any whitespace), then the first gap. Learned from
  // the first entry read after the one the shape was learned from.
  void learn_separator(const char* previous_end, const char* next_start) {
    const std::string_view between(previous_end,
                                   static_cast<std::size_t>(next_start - previous_end));
    if (std::count(between.begin(), between.end(), ',') != 1 ||
        between.find_first_not_of(", \t\r\n") != std::string_view::npos)
      return;
    const std::size_t size = gaps_[values_].size() + between.size() + gaps_[0].size();
    if (size > separator_bytes_.size()) return;
    char* out = std::copy_n(gaps_[values_].data(), gaps_[values_].size(), separator_bytes_.data());
    out = std::copy(between.begin(), between.end(), out);
    std::copy_n(gaps_[0].data(), gaps_[0].size(), out);
    separator_ = {{separator_bytes_.data(), size},
                  separator_bytes_.data() + separator_bytes_.size()};
  }

  // A clean text's run of entries. A value is all that lies before the next quote, and the bytes
  // from an entry's last value to the next entry's first are one compare with the separator:
  // per value, a quote search and a compare.
  bool read_clean_run(cursor& c, std::vector<response_entry>& entries,
                      std::vector<std::string_view>& outputs) {
    c.skip_whitespace();
    const char* const text = c.begin();
    const char* const end = c.end();
    const char* const first_entry = c.position();
    if (!starts_with_short(first_entry, end, gaps_[0])) return false;
    if (learned_end_ != nullptr) {
      learn_separator(learned_end_, first_entry);
      learned_end_ = nullptr;
    }
    const char* value_start = first_entry + gaps_[0].size();
    const char* last_entry_end = nullptr;  // after the last entry read whole
    const short_literal last_gap = gaps_[values_];
    for (;;) {
      response_entry& e = entries.emplace_back();
      e.first_output = static_cast<std::uint32_t>(outputs.size());
      for (std::size_t i = 0;; ++i) {
        const char* close = find_quote(value_start, end, text);
        if (close == nullptr) return stop(c, entries, outputs, first_entry, last_entry_end);
        const std::string_view value(value_start, static_cast<std::size_t>(close - value_start));
        keep(i, value, e, outputs);
        if (i + 1 < values_) {
          const short_literal gap = gaps_[i + 1];
          if (!starts_with_short(close, end, gap))
            return stop(c, entries, outputs, first_entry, last_entry_end);
          value_start = close + gap.size();
          continue;
        }
        // The last value: another entry follows, or the run ends with this one.
        if (separator_.size() != 0 && starts_with_short(close, end, separator_)) {
          last_entry_end = close + last_gap.size();
          value_start = close + separator_.size();
          break;
        }
        if (!starts_with_short(close, end, last_gap))
          return stop(c, entries, outputs, first_entry, last_entry_end);
        c.seek(close + last_gap.size());
        return true;
      }
    }
  }

  // Value i of an entry: its echoed prompt, or its next output.
  void keep(std::size_t i, std::string_view value, response_entry& e,
            std::vector<std::string_view>& outputs) const {
    if (is_echo_[i]) {
      e.echo = value;
      e.has_echo = true;
    } else {
      outputs.push_back(value);
      ++e.output_count;
    }
  }

  // Drops the entry being read and leaves the cursor after the last one read whole; false when
  // there was none.
  static bool stop(cursor& c, std::vector<response_entry>& entries,
                   std::vector<std::string_view>& outputs, const char* first_entry,
                   const char* last_entry_end) {
    outputs.resize(entries.back().first_output);
    entries.pop_back();
    c.seek(last_entry_end != nullptr ? last_entry_end : first_entry);
    return last_entry_end != nullptr;
  }

  // A text with escapes: one entry, then every following entry that repeats the shape, each
  // after its ','. Stops before a ',' whose entry does not, or before whatever ends the list;
  // false when not even the first entry repeats it.
  bool read_run(cursor& c, std::vector<response_entry>& entries,
                std::vector<std::string_view>& outputs, std::string& unescaped) const {
    const char* before_comma = nullptr;
    for (;;) {
      if (!read_values(c, entries, outputs, unescaped)) {
        if (before_comma == nullptr) return false;
        c.seek(before_comma);
        return true;
      }
      before_comma = c.position();
      if (!c.take(',')) return true;
    }
  }

  bool read_values(cursor& c, std::vector<response_entry>& entries,
                   std::vector<std::string_view>& outputs, std::string& unescaped) const {
    c.skip_whitespace();
    const char* const start = c.position();
    const char* p = start;
    const char* const end = c.end();
    const auto first_output = static_cast<std::uint32_t>(outputs.size());
    const std::size_t unescaped_before = unescaped.size();
    response_entry& e = entries.emplace_back();
    e.first_output = first_output;
    for (std::size_t i = 0; i < values_; ++i) {
      if (!starts_with_short(p, end, gaps_[i]))
        return give_up(c, start, entries, outputs, unescaped, unescaped_before);
      p += gaps_[i].size();
      // Every gap but the last ends with a value's opening quote and the next starts with its
      // closing one. A value with no escape is all that lies before the next special byte;
      // else the cursor reads it from its opening quote, escapes and all.
      std::string_view value;
      const char* stop = find_string_special(p, end, c.begin());
      if (stop != end && *stop == '"') {
        value = std::string_view(p, static_cast<std::size_t>(stop - p));
        p = stop;
      } else {
        c.seek(p - 1);
        if (!c.json_string(value, unescaped))
          return give_up(c, start, entries, outputs, unescaped, unescaped_before);
        p = c.position() - 1;
      }
      keep(i, value, e, outputs);
    }
    if (!starts_with_short(p, end, gaps_[values_]))
      return give_up(c, start, entries, outputs, unescaped, unescaped_before);
    c.seek(p + gaps_[values_].size());
    return true;
  }

  // Takes back what a failed read added and returns the cursor to the entry's start.
  static bool give_up(cursor& c, const char* start, std::vector<response_entry>& entries,
                      std::vector<std::string_view>& outputs, std::string& unescaped,
                      std::size_t unescaped_before) {
    outputs.resize(entries.back().first_output);
    entries.pop_back();
    unescaped.resize(unescaped_before);
    c.seek(start);
    return false;
  }

  // gaps_[i] precedes value i; gaps_[values_] follows the last one, up to the closing brace.
  std::array<short_literal, max_values + 1> gaps_;
  std::array<bool, max_values> is_echo_{};
  std::size_t values_ = 0;
  bool learned_ = false;
  // Set by learn() until the next read(), which learns the separator from the bytes between.
  const char* learned_end_ = nullptr;
  std::array<char, 48> separator_bytes_{};
  short_literal separator_;  // empty: not learned
};

// ["...", ...] into `outputs`; counts them in `e`.
bool read_outputs(cursor& c, response_entry& e, std::vector<std::string_view>& outputs,
                  std::string& unescaped) {
  if (!c.take('[')) return false;
  if (c.take(']')) return true;
  do {
    std::string_view text;
    if (!c.json_string(text, unescaped)) return false;
    outputs.push_back(text);
    ++e.output_count;
  } while (c.take(','));
  return c.take(']');
}

// {"prompt": "...", "output": [...]}, either order, "prompt" optional.
bool read_entry(cursor& c, std::vector<response_entry>& entries,
                std::vector<std::string_view>& outputs, std::string& unescaped) {
  if (!c.take('{')) return false;
  // Filled in place (a failure clears the list): an entry built aside and pushed was copied in
  // wide moves that straddled its narrow stores, a store-forwarding stall per entry.
  response_entry& e = entries.emplace_back();
  e.first_output = static_cast<std::uint32_t>(outputs.size());
  bool has_output = false;
  do {
    std::string_view name;
    if (!c.member_name(name)) return false;
    // A repeated member is left to the full parser, which names it in its error.
    if (name == "output") {
      if (has_output || !read_outputs(c, e, outputs, unescaped)) return false;
      has_output = true;
    } else if (name == "prompt") {
      if (e.has_echo || !c.json_string(e.echo, unescaped)) return false;
      e.has_echo = true;
    } else if (!c.skip_value()) {
      return false;
    }
  } while (c.take(','));
  return c.take('}') && has_output;
}

bool read_body(std::string_view body, std::vector<response_entry>& entries,
               std::vector<std::string_view>& outputs, std::string& unescaped,
               bool& outputs_json_safe) {
  cursor c(body);
  outputs_json_safe = c.clean();
  // Escaped strings (an output with a newline, say) are unescaped here, never longer than in the
  // body: with that much room, the views into `unescaped` never move.
  if (!c.clean() && unescaped.capacity() < body.size()) unescaped.reserve(body.size());
  bool has_data = false;
  bool has_message = false;
  if (!c.take('{')) return false;
  do {
    std::string_view name;
    if (!c.member_name(name)) return false;
    if (name == "data") {
      if (has_data || !c.take('[')) return false;
      if (!c.take(']')) {
        entry_shape shape;
        do {
          if (shape.read(c, entries, outputs, unescaped)) continue;
          c.skip_whitespace();
          const char* begin = c.position();
          if (!read_entry(c, entries, outputs, unescaped)) return false;
          shape.learn(begin, c.position(), c.end(), entries.back(), outputs);
        } while (c.take(','));
        if (!c.take(']')) return false;
      }
      has_data = true;
    } else if (name == "message") {
      std::string_view message;
      if (has_message || !c.json_string(message, unescaped) || message != "ok") return false;
      has_message = true;
    } else if (!c.skip_value()) {
      return false;
    }
  } while (c.take(','));
  // Only bytes >= 0x80 are left to check, all inside strings: checking the whole body is as exact
  // (and free when the cursor's first pass saw none).
  return c.take('}') && c.at_end() && has_data &&
         (c.ascii() || simdjson::validate_utf8(body.data(), body.size()));
}

}  // namespace

bool read_plain_response(std::string_view body, std::vector<response_entry>& entries,
                         std::vector<std::string_view>& outputs, std::string& unescaped,
                         bool& outputs_json_safe) {
  entries.clear();
  outputs.clear();
  unescaped.clear();
  if (read_body(body, entries, outputs, unescaped, outputs_json_safe)) return true;
  outputs_json_safe = false;
  entries.clear();
  outputs.clear();
  return false;
}

}  // namespace promptpack::detail
