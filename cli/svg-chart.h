#pragma once
// A small hand-written SVG line chart: one polyline (+ point markers) and a legend entry per series.
#include <string>
#include <utility>
#include <vector>

namespace chorus::cli {

// One line: (x, y) points, drawn in the order given after sorting by x.
struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log2_x = true;  // x on a log2 axis (ticks at powers of two); x values must then be > 0
  std::vector<ChartSeries> series;
  int width = 760;
  int height = 440;
};

// The chart as a standalone SVG document (XML). Series without points get a legend entry only; points with a
// non-finite coordinate (or x <= 0 on a log axis) are skipped.
std::string render_svg(const LineChart& chart);

// `text` with &, <, >, " and ' escaped for XML.
std::string xml_escape(const std::string& text);

}  // namespace chorus::cli
