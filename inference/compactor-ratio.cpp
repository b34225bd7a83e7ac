#include "inference/compactor-ratio.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace chorus::inference {
namespace {

// Below this |b|, f is r to first order in b (the exact forms divide two tiny expm1 values).
constexpr double kTinyB = 1e-9;

// The fit works on the values of b at the lowest and highest context NLL, each M tanh(theta) so that |b| <= M at
// every sample (b is linear in the NLL, so its extremes are at those two) without a constrained solver.
struct Problem {
  const std::vector<RatioSample>& samples;
  std::vector<double> w;  // (context_nll - lowest) / (highest - lowest); 0 for every sample when they are equal
  double bound = kCompactorMaxB;
  double b_at(size_t i, double b_lo, double b_hi) const { return b_lo + (b_hi - b_lo) * w[i]; }
  double to_b(double theta) const { return bound * std::tanh(theta); }
  double to_theta(double b) const { return std::atanh(b / bound); }
  double sum_squares(double b_lo, double b_hi) const {
    double sse = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const double e = compactor_quality(samples[i].keep_ratio, b_at(i, b_lo, b_hi)) - samples[i].quality;
      sse += e * e;
    }
    return sse;
  }
};

// Candidate values of b for the grid-search start (both signs, fine near 0, inside the bound).
std::vector<double> b_grid() {
  std::vector<double> g = {0.0};
  for (double v : {0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 49.0}) {
    g.push_back(v);
    g.push_back(-v);
  }
  return g;
}

}  // namespace

double compactor_quality(double r, double b) {
  r = std::clamp(r, 0.0, 1.0);
  if (r == 0.0) return 0.0;
  if (r == 1.0) return 1.0;
  if (std::abs(b) < kTinyB) return r * (1.0 + b * (r - 1.0) / 2.0);
  // b > 0: e^{b(r-1)} (1 - e^{-br}) / (1 - e^{-b}); b < 0: (e^{br} - 1) / (e^{b} - 1). Neither overflows.
  if (b > 0) return std::exp(b * (r - 1.0)) * std::expm1(-b * r) / std::expm1(-b);
  return std::expm1(b * r) / std::expm1(b);
}

double compactor_quality_db(double r, double b) {
  const double h = 1e-5 * std::max(1.0, std::abs(b));
  return (compactor_quality(r, b + h) - compactor_quality(r, b - h)) / (2 * h);
}

RatioFit fit_compactor_ratio(const std::vector<RatioSample>& samples) {
  if (samples.empty()) throw std::invalid_argument("fit_compactor_ratio: no samples");
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (!(s.keep_ratio >= 0 && s.keep_ratio <= 1) || !(s.quality >= 0 && s.quality <= 1) || !std::isfinite(s.context_nll))
      throw std::invalid_argument("fit_compactor_ratio: sample " + std::to_string(i) +
                                  " needs keep_ratio and quality in [0, 1] and a finite context_nll");
    lo = std::min(lo, s.context_nll);
    hi = std::max(hi, s.context_nll);
  }
  const double spread = hi - lo;
  const bool identified = spread > 1e-9 * std::max(1.0, std::abs(hi));
  Problem p{samples, {}};
  p.w.reserve(samples.size());
  for (const auto& s : samples) p.w.push_back(identified ? (s.context_nll - lo) / spread : 0.0);

  // Start: the best pair (b at the lowest NLL, b at the highest) on a grid; one b when alpha is not identified.
  const auto grid = b_grid();
  double b_lo = 0, b_hi = 0, sse = std::numeric_limits<double>::infinity();
  for (double g_lo : grid)
    for (double g_hi : identified ? grid : std::vector<double>{g_lo}) {
      const double e = p.sum_squares(g_lo, g_hi);
      if (e < sse) sse = e, b_lo = g_lo, b_hi = g_hi;
    }

  // Levenberg-Marquardt on theta = atanh(b / bound) at both ends (one theta when alpha is not identified).
  double t1 = p.to_theta(b_lo), t2 = p.to_theta(b_hi);
  RatioFit fit;
  double lambda = 1e-3;
  for (int it = 0; it < 1000 && sse > 1e-30; ++it) {
    fit.iterations = it + 1;
    const double s1 = p.bound * (1 - std::tanh(t1) * std::tanh(t1)), s2 = p.bound * (1 - std::tanh(t2) * std::tanh(t2));
    double A11 = 0, A12 = 0, A22 = 0, g1 = 0, g2 = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const double b = p.b_at(i, b_lo, b_hi);
      const double e = compactor_quality(samples[i].keep_ratio, b) - samples[i].quality;
      const double d = compactor_quality_db(samples[i].keep_ratio, b);
      const double j1 = identified ? d * (1 - p.w[i]) * s1 : d * s1, j2 = identified ? d * p.w[i] * s2 : 0.0;
      A11 += j1 * j1, A12 += j1 * j2, A22 += j2 * j2;
      g1 += j1 * e, g2 += j2 * e;
    }
    if (std::abs(g1) + std::abs(g2) < 1e-300) break;
    bool accepted = false;
    double step = 0;
    while (lambda < 1e16) {
      const double M11 = A11 + lambda * (A11 + 1e-12), M22 = A22 + lambda * (A22 + 1e-12);
      double d1 = 0, d2 = 0;
      if (identified) {
        const double det = M11 * M22 - A12 * A12;
        if (!(det > 0) || !std::isfinite(det)) {
          lambda *= 4;
          continue;
        }
        d1 = -(M22 * g1 - A12 * g2) / det;
        d2 = -(M11 * g2 - A12 * g1) / det;
      } else {
        d1 = -g1 / M11;
      }
      const double n1 = t1 + d1, n2 = identified ? t2 + d2 : n1;
      const double nb_lo = p.to_b(n1), nb_hi = p.to_b(n2);
      const double e = p.sum_squares(nb_lo, nb_hi);
      if (std::isfinite(e) && e < sse) {
        step = std::abs(nb_lo - b_lo) + std::abs(nb_hi - b_hi);
        const double gain = sse - e;
        t1 = n1, t2 = n2, b_lo = nb_lo, b_hi = nb_hi, sse = e;
        lambda = std::max(lambda / 3, 1e-12);
        accepted = true;
        if (gain <= 1e-15 * sse) step = 0;  // no longer improving
        break;
      }
      lambda *= 4;
    }
    if (!accepted || step <= 1e-13 * (std::abs(b_lo) + std::abs(b_hi) + 1e-13)) break;
  }

  fit.alpha_identified = identified;
  fit.alpha = identified ? (b_hi - b_lo) / spread : 0.0;
  fit.beta = b_lo - fit.alpha * lo;
  fit.samples = static_cast<int64_t>(samples.size());
  // RMSE in the caller's parameters (alpha, beta), as a user of the fit would see it.
  double total = 0;
  for (const auto& s : samples) {
    const double e = compactor_quality(s.keep_ratio, fit.b(s.context_nll)) - s.quality;
    total += e * e;
  }
  fit.rmse = std::sqrt(total / static_cast<double>(samples.size()));
  return fit;
}

double compactor_keep_ratio_for_b(double b, double tau) {
  if (!(tau > 0 && tau <= 1)) throw std::invalid_argument("tau must be in (0, 1], got " + std::to_string(tau));
  if (tau == 1.0) return 1.0;
  double r;
  if (std::abs(b) < kTinyB) r = tau;
  // b > 0: 1 + ln(1 - (1 - tau)(1 - e^{-b})) / b; b < 0: ln(1 + tau (e^{b} - 1)) / b (the same value, no overflow).
  else if (b > 0) r = 1.0 + std::log1p((1.0 - tau) * std::expm1(-b)) / b;
  else r = std::log1p(tau * std::expm1(b)) / b;
  if (!std::isfinite(r)) r = 1.0;
  return std::clamp(r, std::numeric_limits<double>::min(), 1.0);
}

double compactor_keep_ratio(const RatioFit& fit, double context_nll, double tau) {
  return compactor_keep_ratio_for_b(fit.b(context_nll), tau);
}

}  // namespace chorus::inference
