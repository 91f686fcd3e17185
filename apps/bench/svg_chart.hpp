// A self-contained SVG line chart of a sweep: throughput and p99 latency against the swept value.
#pragma once

#include <string>
#include <vector>

namespace promptpack::bench {

struct chart_point {
  std::string label;      ///< the swept value as shown on the x axis
  double throughput = 0;  ///< prompts/s, left axis
  double p99_ms = 0;      ///< right axis
};

/// An SVG document (no script, no external reference) with both curves, their axes and a
/// legend. Points are evenly spaced in the order given, as sweeps are usually geometric.
std::string render_sweep_chart(const std::string& title, const std::string& swept,
                               const std::vector<chart_point>& points);

}  // namespace promptpack::bench
