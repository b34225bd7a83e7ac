#include "cli/svg-chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace chorus::cli {
namespace {

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr size_t kColorCount = sizeof(kColors) / sizeof(kColors[0]);

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

// A "nice" tick step (1, 2 or 5 x 10^k) giving about `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string render_svg(const LineChart& chart) {
  const double W = chart.width, H = chart.height;
  const double left = 80, right = 190, top = 50, bottom = 60;
  const double plot_w = W - left - right, plot_h = H - top - bottom;

  auto usable = [&](const std::pair<double, double>& p) {
    return std::isfinite(p.first) && std::isfinite(p.second) && (!chart.log2_x || p.first > 0);
  };
  auto xv = [&](double x) { return chart.log2_x ? std::log2(x) : x; };

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : chart.series)
    for (const auto& p : s.points)
      if (usable(p)) {
        x_lo = std::min(x_lo, xv(p.first));
        x_hi = std::max(x_hi, xv(p.first));
        y_lo = std::min(y_lo, p.second);
        y_hi = std::max(y_hi, p.second);
      }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (chart.log2_x) x_lo = std::floor(x_lo), x_hi = std::ceil(x_hi);
  if (x_hi - x_lo < 1e-12) x_lo -= 1, x_hi += 1;
  if (y_hi - y_lo < 1e-12 * std::max(1.0, std::abs(y_hi))) {
    const double pad = std::max(std::abs(y_hi) * 0.05, 0.5);
    y_lo -= pad, y_hi += pad;
  }
  const double y_step = nice_step(y_hi - y_lo, 5);
  y_lo = std::floor(y_lo / y_step) * y_step;
  y_hi = std::ceil(y_hi / y_step) * y_step;

  auto px = [&](double x) { return left + (xv(x) - x_lo) / (x_hi - x_lo) * plot_w; };
  auto py = [&](double y) { return top + (y_hi - y) / (y_hi - y_lo) * plot_h; };

  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W) + "\" height=\"" + num(H) +
         "\" viewBox=\"0 0 " + num(W) + " " + num(H) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" fill=\"white\"/>\n";
  svg += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" +
         xml_escape(chart.title) + "</text>\n";

  // Grid, ticks and tick labels.
  svg += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  std::string labels;
  const double x_step = chart.log2_x ? 1.0 : nice_step(x_hi - x_lo, 6);
  for (double t = chart.log2_x ? x_lo : std::ceil(x_lo / x_step) * x_step; t <= x_hi + 1e-9; t += x_step) {
    const double value = chart.log2_x ? std::exp2(t) : t;
    const double x = left + (t - x_lo) / (x_hi - x_lo) * plot_w;
    svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(top + plot_h) + "\"/>\n";
    labels += "<text x=\"" + num(x) + "\" y=\"" + num(top + plot_h + 18) + "\" text-anchor=\"middle\">" +
              tick_label(value) + "</text>\n";
  }
  for (double t = y_lo; t <= y_hi + y_step * 1e-6; t += y_step) {
    const double y = py(t);
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" + num(y) + "\"/>\n";
    labels += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + tick_label(t) + "</text>\n";
  }
  svg += "</g>\n" + labels;
  // Axes and their labels.
  svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(top + plot_h) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" +
         num(top + plot_h) + "\" stroke=\"black\"/>\n";
  svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(top + plot_h) +
         "\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(H - 16) + "\" text-anchor=\"middle\">" +
         xml_escape(chart.x_label) + "</text>\n";
  svg += "<text x=\"18\" y=\"" + num(top + plot_h / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
         num(top + plot_h / 2) + ")\">" + xml_escape(chart.y_label) + "</text>\n";

  // One polyline + markers per series, and the legend.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    const std::string color = kColors[i % kColorCount];
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : s.points)
      if (usable(p)) pts.push_back(p);
    std::sort(pts.begin(), pts.end());
    if (!pts.empty()) {
      std::string coords;
      for (const auto& p : pts) {
        if (!coords.empty()) coords.push_back(' ');
        coords += num(px(p.first)) + "," + num(py(p.second));
      }
      svg += "<polyline class=\"series\" data-name=\"" + xml_escape(s.name) + "\" fill=\"none\" stroke=\"" + color +
             "\" stroke-width=\"2\" points=\"" + coords + "\"/>\n";
      for (const auto& p : pts)
        svg += "<circle cx=\"" + num(px(p.first)) + "\" cy=\"" + num(py(p.second)) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    }
    const double ly = top + 10 + 20 * static_cast<double>(i), lx = left + plot_w + 20;
    svg += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 24) + "\" y2=\"" + num(ly) +
           "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
    svg += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(s.name) +
           (pts.empty() ? " (no data)" : "") + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace chorus::cli
