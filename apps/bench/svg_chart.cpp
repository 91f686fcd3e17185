// Draws the sweep chart by hand: two polylines, gridlines with round tick values, and a legend.
#include "bench/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace promptpack::bench {
namespace {

constexpr double width = 720, height = 420;
constexpr double left = 90, right = 90, top = 50, bottom = 60;
constexpr double plot_w = width - left - right, plot_h = height - top - bottom;

std::string number(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

std::string coordinate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Labels and titles come from the command line: escaped so that they stay text.
std::string xml_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An axis top that is a round number (1, 2 or 5 times a power of ten) at or above `max`.
double nice_ceiling(double max) {
  if (max <= 0) return 1;
  const double power = std::pow(10, std::floor(std::log10(max)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

std::string polyline(const std::vector<chart_point>& points, double chart_point::*field,
                     double axis_top, const char* colour) {
  std::string out = "<polyline fill=\"none\" stroke=\"" + std::string(colour) +
                    "\" stroke-width=\"2.5\" points=\"";
  std::string dots;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double x = left + (points.size() == 1 ? plot_w / 2
                                                : plot_w * static_cast<double>(i) /
                                                      static_cast<double>(points.size() - 1));
    const double y = top + plot_h * (1 - points[i].*field / axis_top);
    out += coordinate(x) + "," + coordinate(y) + " ";
    dots += "<circle cx=\"" + coordinate(x) + "\" cy=\"" + coordinate(y) + "\" r=\"4\" fill=\"" +
            colour + "\"/>\n";
  }
  return out + "\"/>\n" + dots;
}

}  // namespace

std::string render_sweep_chart(const std::string& title, const std::string& swept,
                               const std::vector<chart_point>& points) {
  double max_rate = 0, max_p99 = 0;
  for (const auto& p : points) {
    max_rate = std::max(max_rate, p.throughput);
    max_p99 = std::max(max_p99, p.p99_ms);
  }
  const double rate_top = nice_ceiling(max_rate), p99_top = nice_ceiling(max_p99);
  constexpr const char* rate_colour = "#1f6feb";
  constexpr const char* p99_colour = "#d1242f";

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coordinate(width) +
                    "\" height=\"" + coordinate(height) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // A title wider than the picture (a long URL, a latency model) is squeezed to fit rather than
  // cut at both sides: sans-serif at 16 px averages about 9 px a character.
  constexpr double title_room = width - 40;
  const std::string squeeze =
      static_cast<double>(title.size()) * 9 > title_room
          ? " textLength=\"" + coordinate(title_room) + "\" lengthAdjust=\"spacingAndGlyphs\""
          : "";
  svg += "<text x=\"" + coordinate(width / 2) +
         "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\"" + squeeze + ">" + xml_text(title) +
         "</text>\n";
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = top + plot_h * (1 - tick / 4.0);
    svg += "<line x1=\"" + coordinate(left) + "\" x2=\"" + coordinate(left + plot_w) + "\" y1=\"" +
           coordinate(y) + "\" y2=\"" + coordinate(y) + "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + coordinate(left - 8) + "\" y=\"" + coordinate(y + 4) +
           "\" text-anchor=\"end\" fill=\"" + rate_colour + "\">" + number(rate_top * tick / 4) +
           "</text>\n";
    svg += "<text x=\"" + coordinate(left + plot_w + 8) + "\" y=\"" + coordinate(y + 4) +
           "\" fill=\"" + p99_colour + "\">" + number(p99_top * tick / 4) + "</text>\n";
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double x = left + (points.size() == 1 ? plot_w / 2
                                                : plot_w * static_cast<double>(i) /
                                                      static_cast<double>(points.size() - 1));
    svg += "<text x=\"" + coordinate(x) + "\" y=\"" + coordinate(top + plot_h + 20) +
           "\" text-anchor=\"middle\">" + xml_text(points[i].label) + "</text>\n";
  }
  svg += "<text x=\"" + coordinate(left + plot_w / 2) + "\" y=\"" + coordinate(height - 12) +
         "\" text-anchor=\"middle\">" + xml_text(swept) + "</text>\n";
  svg += "<text x=\"20\" y=\"" + coordinate(top + plot_h / 2) + "\" fill=\"" + rate_colour +
         "\" transform=\"rotate(-90 20 " + coordinate(top + plot_h / 2) +
         ")\" text-anchor=\"middle\">prompts/s</text>\n";
  svg += "<text x=\"" + coordinate(width - 20) + "\" y=\"" + coordinate(top + plot_h / 2) +
         "\" fill=\"" + p99_colour + "\" transform=\"rotate(90 " + coordinate(width - 20) + " " +
         coordinate(top + plot_h / 2) + ")\" text-anchor=\"middle\">p99 latency (ms)</text>\n";
  svg += polyline(points, &chart_point::throughput, rate_top, rate_colour);
  svg += polyline(points, &chart_point::p99_ms, p99_top, p99_colour);
  svg += "</svg>\n";
  return svg;
}

}  // namespace promptpack::bench
