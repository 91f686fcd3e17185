// Tests for the sweep chart: a well-formed SVG with both curves, escaped labels, no references.
#include "bench/svg_chart.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <sstream>
#include <string>

using namespace promptpack::bench;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(svg_chart)

BOOST_AUTO_TEST_CASE(two_curves_with_a_dot_per_point) {
  const auto svg = render_sweep_chart("t", "connections",
                                      {{"1", 1000, 2.0}, {"2", 1900, 2.1}, {"4", 3500, 2.5}});
  BOOST_TEST(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  BOOST_TEST(svg.ends_with("</svg>\n"));
  BOOST_TEST(occurrences(svg, "<polyline") == 2u);
  BOOST_TEST(occurrences(svg, "<circle") == 6u);
  BOOST_TEST(svg.find("connections") != std::string::npos);
  BOOST_TEST(svg.find("href") == std::string::npos);  // self-contained
  BOOST_TEST(svg.find("<script") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(labels_are_escaped) {
  const auto svg = render_sweep_chart("<b>&", "rate", {{"<x>", 1, 1}});
  BOOST_TEST(svg.find("&lt;b&gt;&amp;") != std::string::npos);
  BOOST_TEST(svg.find("<b>") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(points_stay_inside_the_picture) {
  const auto svg = render_sweep_chart("t", "batch-size", {{"64", 5e5, 0.5}, {"1024", 2.4e6, 9.0}});
  // Every coordinate of the polylines lies within the 720 x 420 canvas.
  for (auto at = svg.find("points=\""); at != std::string::npos;
       at = svg.find("points=\"", at + 1)) {
    const auto end = svg.find('"', at + 8);
    std::string list = svg.substr(at + 8, end - at - 8);
    std::replace(list.begin(), list.end(), ',', ' ');
    std::istringstream in(list);
    for (double x, y; in >> x >> y;) {
      BOOST_TEST((x >= 0 && x <= 720));
      BOOST_TEST((y >= 0 && y <= 420));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_title_too_long_for_the_picture_is_squeezed_to_fit) {
  const std::string long_title =
      "promptpack bench: embedded reference endpoint (GPU-like: 40 ms a request + 200 us a prompt)";
  const auto squeezed = render_sweep_chart(long_title, "batch-size", {{"1", 1, 1}});
  BOOST_TEST(squeezed.find("textLength=\"680.0\" lengthAdjust=\"spacingAndGlyphs\">" +
                           long_title) != std::string::npos);
  BOOST_TEST(render_sweep_chart("t", "batch-size", {{"1", 1, 1}}).find("textLength") ==
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
