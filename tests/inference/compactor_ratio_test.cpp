// Compactor's quality model f(r, b), the fit of b = alpha * NLL + beta, and the closed-form keep ratio.
#include "inference/compactor-ratio.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace chorus::inference {
namespace {

// The paper's form, evaluated directly (fine for moderate b away from 0).
double direct(double r, double b) { return (std::exp(b * (r - 1)) - std::exp(-b)) / (1 - std::exp(-b)); }

const std::vector<double> kBs = {-45, -10, -1, -1e-6, -1e-12, 0, 1e-12, 1e-6, 1, 10, 45};

TEST(CompactorQuality, IsOneAtFullAndZeroAtNothingKept) {
  for (double b : kBs) {
    EXPECT_EQ(compactor_quality(1.0, b), 1.0) << b;
    EXPECT_EQ(compactor_quality(0.0, b), 0.0) << b;
  }
}

TEST(CompactorQuality, IncreasesWithTheKeptFraction) {
  for (double b : kBs) {
    double previous = 0;
    for (int i = 1; i <= 200; ++i) {
      const double f = compactor_quality(i / 200.0, b);
      EXPECT_GE(f, previous) << "b=" << b << " r=" << i / 200.0;
      EXPECT_LE(f, 1.0);
      previous = f;
    }
  }
}

TEST(CompactorQuality, MatchesThePaperFormAndTendsToRAsBGoesToZero) {
  for (double b : {-5.0, -0.5, 0.3, 2.0, 8.0})
    for (double r : {0.05, 0.3, 0.5, 0.9}) EXPECT_NEAR(compactor_quality(r, b), direct(r, b), 1e-12) << b << " " << r;
  for (double r : {0.1, 0.5, 0.8}) {
    EXPECT_DOUBLE_EQ(compactor_quality(r, 0.0), r);
    EXPECT_NEAR(compactor_quality(r, 1e-7), r, 1e-7);
    EXPECT_NEAR(compactor_quality(r, -1e-7), r, 1e-7);
    // Continuous across the small-b switch.
    EXPECT_NEAR(compactor_quality(r, 0.999e-9), compactor_quality(r, 1.001e-9), 1e-12);
  }
  // Large |b| stays finite: quality collapses (b > 0) or saturates (b < 0).
  EXPECT_NEAR(compactor_quality(0.5, 1000), 0.0, 1e-200);
  EXPECT_NEAR(compactor_quality(0.5, -1000), 1.0, 1e-12);
}

TEST(CompactorQuality, DerivativeInBMatchesTheAnalyticForm) {
  // d/db of expm1(br)/expm1(b) = (r e^{br} expm1(b) - expm1(br) e^{b}) / expm1(b)^2.
  for (double b : {-3.0, -0.5, 0.7, 4.0})
    for (double r : {0.2, 0.6}) {
      const double g = std::expm1(b), gr = std::expm1(b * r);
      const double exact = (r * std::exp(b * r) * g - gr * std::exp(b)) / (g * g);
      EXPECT_NEAR(compactor_quality_db(r, b), exact, 1e-8) << b << " " << r;
    }
  // At b = 0 the derivative is r(r - 1)/2.
  EXPECT_NEAR(compactor_quality_db(0.4, 0.0), 0.4 * (0.4 - 1) / 2, 1e-8);
}

std::vector<RatioSample> synthetic(double alpha, double beta, const std::vector<double>& nlls,
                                   const std::vector<double>& ratios, double noise = 0, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, noise > 0 ? noise : 1);
  std::vector<RatioSample> out;
  for (double x : nlls)
    for (double r : ratios) {
      double q = compactor_quality(r, alpha * x + beta);
      if (noise > 0) q = std::clamp(q + gauss(rng), 0.0, 1.0);
      out.push_back({r, x, q});
    }
  return out;
}

const std::vector<double> kRatios = {0.03125, 0.0625, 0.125, 0.25, 0.5, 0.75, 1.0};

TEST(FitCompactorRatio, RecoversAlphaBetaFromNoiselessSamples) {
  struct Case {
    double alpha, beta;
  };
  for (auto [alpha, beta] : {Case{1.5, -4.0}, Case{-2.0, 3.0}, Case{0.8, 0.5}, Case{-0.3, -6.0}, Case{4.0, -12.0}}) {
    const auto samples = synthetic(alpha, beta, {2.0, 2.7, 3.5, 4.1, 5.0}, kRatios);
    const auto fit = fit_compactor_ratio(samples);
    EXPECT_NEAR(fit.alpha, alpha, 1e-6) << alpha << " " << beta;
    EXPECT_NEAR(fit.beta, beta, 1e-6) << alpha << " " << beta;
    EXPECT_LT(fit.rmse, 1e-9);
    EXPECT_EQ(fit.samples, static_cast<int64_t>(samples.size()));
    EXPECT_TRUE(fit.alpha_identified);
  }
}

TEST(FitCompactorRatio, ApproximatelyRecoversAlphaBetaFromNoisySamples) {
  std::vector<double> nlls;
  for (int i = 0; i < 40; ++i) nlls.push_back(2.0 + 3.0 * i / 39.0);
  const double alpha = 1.2, beta = -2.5;  // b from -0.1 to 3.5
  const auto samples = synthetic(alpha, beta, nlls, kRatios, /*noise=*/0.02, /*seed=*/7);
  const auto fit = fit_compactor_ratio(samples);
  EXPECT_NEAR(fit.alpha, alpha, 0.15);
  EXPECT_NEAR(fit.beta, beta, 0.5);
  EXPECT_GT(fit.rmse, 0.01);
  EXPECT_LT(fit.rmse, 0.03);
  // What matters downstream: the chosen keep ratio is close to the true one.
  for (double x : {2.5, 3.5, 4.5})
    EXPECT_NEAR(compactor_keep_ratio(fit, x, 0.9), compactor_keep_ratio_for_b(alpha * x + beta, 0.9), 0.03) << x;
}

TEST(FitCompactorRatio, OneContextNllFitsBetaOnly) {
  const auto samples = synthetic(0.0, 2.5, {3.0}, kRatios);
  const auto fit = fit_compactor_ratio(samples);
  EXPECT_FALSE(fit.alpha_identified);
  EXPECT_EQ(fit.alpha, 0.0);
  EXPECT_NEAR(fit.beta, 2.5, 1e-6);
}

TEST(FitCompactorRatio, FlatQualityStaysFiniteWithinTheBound) {
  // Compression never hurts: quality 1 everywhere pushes b toward -infinity; the fit stops at the bound.
  std::vector<RatioSample> samples;
  for (double x : {3.0, 4.0})
    for (double r : {0.125, 0.25, 0.5, 1.0}) samples.push_back({r, x, 1.0});
  const auto fit = fit_compactor_ratio(samples);
  EXPECT_TRUE(std::isfinite(fit.alpha) && std::isfinite(fit.beta));
  EXPECT_LE(std::abs(fit.b(3.0)), kCompactorMaxB + 1e-9);
  EXPECT_LE(std::abs(fit.b(4.0)), kCompactorMaxB + 1e-9);
  EXPECT_LT(fit.rmse, 1e-3);
}

TEST(FitCompactorRatio, RejectsBadSamples) {
  EXPECT_THROW(fit_compactor_ratio({}), std::invalid_argument);
  EXPECT_THROW(fit_compactor_ratio({{1.5, 3.0, 1.0}}), std::invalid_argument);
  EXPECT_THROW(fit_compactor_ratio({{0.5, 3.0, -0.1}}), std::invalid_argument);
  EXPECT_THROW(fit_compactor_ratio({{0.5, std::nan(""), 0.5}}), std::invalid_argument);
}

TEST(CompactorKeepRatio, ClosedFormReachesTauExactly) {
  for (double b : {-40.0, -8.0, -1.0, -1e-3, 1e-3, 0.5, 2.0, 9.0, 40.0})
    for (double tau : {0.5, 0.8, 0.9, 0.99}) {
      const double r = compactor_keep_ratio_for_b(b, tau);
      ASSERT_GT(r, 0.0);
      ASSERT_LE(r, 1.0);
      EXPECT_NEAR(compactor_quality(r, b), tau, 1e-10) << "b=" << b << " tau=" << tau;
      // The smallest such r: a little less falls short.
      if (r > 1e-6) {
        EXPECT_LT(compactor_quality(r * (1 - 1e-6), b), tau);
      }
      // Agrees with the paper's expression.
      EXPECT_NEAR(r, 1 + std::log(tau * (1 - std::exp(-b)) + std::exp(-b)) / b, 1e-9);
    }
}

TEST(CompactorKeepRatio, UsesTheFitAndHandlesTheLimits) {
  RatioFit fit;
  fit.alpha = 2.0, fit.beta = -6.0;  // b = 0 at NLL 3
  EXPECT_DOUBLE_EQ(compactor_keep_ratio(fit, 3.0, 0.9), 0.9);
  EXPECT_NEAR(compactor_keep_ratio(fit, 3.0 + 1e-8, 0.9), 0.9, 1e-6);
  EXPECT_DOUBLE_EQ(compactor_keep_ratio_for_b(0.0, 0.7), 0.7);
  EXPECT_EQ(compactor_keep_ratio_for_b(-5.0, 1.0), 1.0);
  EXPECT_EQ(compactor_keep_ratio_for_b(5.0, 1.0), 1.0);
  // Harder contexts (higher b) need more kept.
  EXPECT_LT(compactor_keep_ratio(fit, 2.0, 0.9), compactor_keep_ratio(fit, 4.0, 0.9));
  EXPECT_THROW(compactor_keep_ratio_for_b(1.0, 0.0), std::invalid_argument);
  EXPECT_THROW(compactor_keep_ratio_for_b(1.0, 1.5), std::invalid_argument);
  // Very robust contexts keep almost nothing but still a positive fraction.
  const double r = compactor_keep_ratio_for_b(-1e6, 0.5);
  EXPECT_GT(r, 0.0);
  EXPECT_LT(r, 1e-5);
}

}  // namespace
}  // namespace chorus::inference
