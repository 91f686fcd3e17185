// Retry-After parsing with no locale and no allocation.
#include "retry/retry_after.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

namespace promptpack::detail {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool read_int(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (months[i] == name) return i;
  }
  return -1;
}

// Splits on spaces, commas and dashes, so that IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994") all become
// word lists.
int split_words(std::string_view s, std::array<std::string_view, 8>& words) {
  int n = 0;
  std::size_t i = 0;
  while (i < s.size() && n < 8) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '-')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != ',' && s[i] != '-') ++i;
    if (i > start) words[n++] = s.substr(start, i - start);
  }
  return n;
}

bool read_clock(std::string_view s, std::tm& tm) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && read_int(s.substr(0, 2), tm.tm_hour) &&
         read_int(s.substr(3, 2), tm.tm_min) && read_int(s.substr(6, 2), tm.tm_sec);
}

std::optional<std::time_t> parse_http_date(std::string_view s) {
  std::array<std::string_view, 8> w{};
  const int n = split_words(s, w);
  std::tm tm{};
  int year = 0;
  if (n == 6 && w[5] == "GMT") {  // weekday day month year clock GMT
    if (!read_int(w[1], tm.tm_mday) || (tm.tm_mon = month_index(w[2])) < 0 ||
        !read_int(w[3], year) || !read_clock(w[4], tm)) {
      return std::nullopt;
    }
    if (w[3].size() == 2) year += year < 70 ? 2000 : 1900;  // RFC 850's two-digit years
  } else if (n == 5) {                                      // asctime: weekday month day clock year
    if ((tm.tm_mon = month_index(w[1])) < 0 || !read_int(w[2], tm.tm_mday) ||
        !read_clock(w[3], tm) || !read_int(w[4], year)) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  return timegm(&tm);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  int seconds = 0;
  if (read_int(value, seconds)) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(*when) - now;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay));
}

}  // namespace promptpack::detail
