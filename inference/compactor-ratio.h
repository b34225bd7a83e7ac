#pragma once
// Compactor's context-calibrated compression ratio (arXiv 2507.08143, section on choosing the ratio per input).
//
// Quality model: f(r, b) = (e^{b(r-1)} - e^{-b}) / (1 - e^{-b}) with r the KEPT fraction of the context in (0, 1]
// and b = alpha * NLL(c) + beta, where NLL(c) is the mean per-token NLL (nats) of the context c under the model
// with the full cache. f(1) = 1, f(0) = 0, f increases in r; b > 0 makes quality fall fast as r drops, b < 0
// makes it robust, b -> 0 gives f = r. alpha and beta are fitted on measured (r, NLL(c), quality) samples; per
// input, the smallest r with f(r, c) >= tau is used.
//
// Measured quality (what `chorus calibrate compactor-ratio` records): a context is split into a prefix (the part
// compressed to keep ratio r) and a continuation; q(r) = exp(-(NLL_r - NLL_1)) of the continuation tokens,
// clipped to [0, 1], where NLL_r is their mean NLL after the prefix was compressed to r and NLL_1 the same
// with the full cache. q(1) = 1; q falls toward 0 as compression hurts the continuation.
#include <cstdint>
#include <vector>

namespace chorus::inference {

// One calibration measurement.
struct RatioSample {
  double keep_ratio = 1;   // r: fraction of the context's KV entries kept, in (0, 1]
  double context_nll = 0;  // mean per-token NLL (nats) of the context under the full cache
  double quality = 1;      // measured quality in [0, 1] (see above)
};

// The fitted quality model b = alpha * context_nll + beta, with how well it fits.
struct RatioFit {
  double alpha = 0;              // slope of b in the context NLL
  double beta = 0;               // intercept of b
  double rmse = 0;               // root-mean-square residual f(r, b) - quality over the samples
  int64_t samples = 0;           // samples fitted
  int iterations = 0;            // Levenberg-Marquardt iterations run
  bool alpha_identified = true;  // false when all samples share one context NLL (alpha fixed at 0, only beta fitted)
  // b for a context of mean NLL `context_nll`.
  double b(double context_nll) const { return alpha * context_nll + beta; }
};

// Largest |b| the fit allows at any sample (f is flat in b beyond it: f(r) ~ e^{b(r-1)} or 1 - e^{br}).
inline constexpr double kCompactorMaxB = 50;

// f(r, b) for r in [0, 1] (r is clamped to it), computed stably for any b (b ~ 0 gives r).
double compactor_quality(double r, double b);
// df/db at (r, b) (central difference, smooth through b = 0).
double compactor_quality_db(double r, double b);
// Fits alpha, beta by least squares on f (grid-search start in b at the extreme NLLs, then Levenberg-Marquardt,
// |b| <= kCompactorMaxB); throws std::invalid_argument for no samples or a sample outside r in [0,1], q in [0,1].
RatioFit fit_compactor_ratio(const std::vector<RatioSample>& samples);
// Smallest r with f(r, b) >= tau, b = fit.b(context_nll): r = 1 + ln(tau(1 - e^{-b}) + e^{-b}) / b (b ~ 0: r = tau),
// clamped to (0, 1]; throws std::invalid_argument unless tau is in (0, 1].
double compactor_keep_ratio(const RatioFit& fit, double context_nll, double tau);
// The same for a given b.
double compactor_keep_ratio_for_b(double b, double tau);

}  // namespace chorus::inference
