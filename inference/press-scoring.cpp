#include "inference/press-scoring.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace chorus::inference {

torch::Tensor zscore_global(const torch::Tensor& x) {
  if (x.numel() < 2) throw std::invalid_argument("z-score needs at least 2 scores");
  auto s = x.to(torch::kFloat64);
  return (s - s.mean()) / s.std().clamp_min(1e-6);
}

namespace {

// The centred pre-RoPE keys times the sketch, Xs [n_kv, S, k], float64 on the CPU.
torch::Tensor sketch_keys(const torch::Tensor& prerope_keys, const torch::Tensor& phi) {
  auto k = prerope_keys.to(torch::kCPU, torch::kFloat64);
  auto p = phi.to(torch::kCPU, torch::kFloat64);
  const int64_t n_kv = k.size(0), d = k.size(2);
  if (p.dim() == 2) p = p.unsqueeze(0).expand({n_kv, p.size(0), p.size(1)});
  if (p.dim() != 3 || p.size(0) != n_kv || p.size(1) != d)
    throw std::invalid_argument("leverage: phi must be [d, k] or [n_kv, d, k]");
  auto x = k - k.mean(1, true);
  return torch::matmul(x, p);
}

}  // namespace

torch::Tensor ridge_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi) {
  auto xs = sketch_keys(prerope_keys, phi);         // [n_kv, S, k]
  auto g = torch::matmul(xs.transpose(1, 2), xs);   // [n_kv, k, k]
  g = 0.5 * (g + g.transpose(1, 2));
  auto eye = torch::eye(xs.size(2), torch::kFloat64);
  double c = 1e-2;
  bool ok = false;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto info = std::get<1>(torch::linalg_cholesky_ex(g + c * eye));
    if (info.eq(0).all().item<bool>()) {
      ok = true;
      break;
    }
    c *= 10.0;
  }
  if (!ok) throw std::runtime_error("leverage: Cholesky failed after 5 tries");
  auto y = torch::linalg_solve(g + c * eye, xs.transpose(1, 2));  // [n_kv, k, S]
  return (xs * y.transpose(1, 2)).sum(-1).clamp_min(0.0);
}

torch::Tensor eig_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi) {
  auto xs = sketch_keys(prerope_keys, phi);  // [n_kv, S, k]
  const int64_t n_kv = xs.size(0), S = xs.size(1), kdim = xs.size(2);
  const double tol = static_cast<double>(std::max(S, kdim)) * std::numeric_limits<double>::epsilon();
  auto out = torch::zeros({n_kv, S}, torch::kFloat64);
  for (int64_t h = 0; h < n_kv; ++h) {
    auto x = xs[h];
    auto g = torch::matmul(x.t(), x);
    auto [w, v] = torch::linalg_eigh(0.5 * (g + g.t()));
    const double wmax = w.numel() ? w.max().item<double>() : 0.0;
    if (wmax <= 0) continue;  // all keys equal: nothing has leverage
    auto keep = w.gt(tol * wmax).nonzero().squeeze(1);
    auto u = torch::matmul(x, v.index_select(1, keep)) / w.index_select(0, keep).sqrt();
    out[h].copy_((u * u).sum(1));
  }
  return out;
}

void check_leverage_method(const std::string& press, const std::string& method) {
  if (method != "kvpress" && method != "eig")
    throw std::invalid_argument(press + ": leverage_method '" + method + "': expected kvpress or eig");
}

torch::Tensor sketched_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi, const std::string& method) {
  check_leverage_method("leverage", method);
  return method == "eig" ? eig_leverage(prerope_keys, phi) : ridge_leverage(prerope_keys, phi);
}

torch::Tensor noncausal_attn_zscores(const torch::Tensor& queries, const torch::Tensor& keys,
                                     const torch::Tensor& values, int64_t chunk, bool kvpress_padding) {
  if (chunk <= 0) throw std::invalid_argument("noncausal_attn: chunk_size must be > 0");
  auto q = queries.to(torch::kFloat64);
  auto k = keys.to(torch::kFloat64);
  auto v = values.to(torch::kFloat64);
  const int64_t n_kv = k.size(0), S = k.size(1), nh = q.size(0);
  if (nh % n_kv != 0) throw std::invalid_argument("noncausal_attn: query heads not a multiple of kv heads");
  if (q.size(1) != S) throw std::invalid_argument("noncausal_attn: queries must cover every key (prefill)");
  const int64_t group = nh / n_kv;
  auto kr = k.repeat_interleave(group, 0);
  std::vector<torch::Tensor> parts;
  for (int64_t lo = 0; lo < S; lo += chunk) {
    const int64_t len = std::min(chunk, S - lo);
    auto dots = torch::matmul(q.narrow(1, lo, len), kr.narrow(1, lo, len).transpose(1, 2));  // [nh, len, len]
    if (len < chunk && kvpress_padding) {
      const int64_t pad = chunk - len;
      auto padded = torch::zeros({nh, chunk, chunk}, torch::kFloat64);
      padded.narrow(1, 0, len).narrow(2, 0, len).copy_(dots);
      padded.narrow(2, len, pad).fill_(-1e-9);  // padded key columns, padded rows included
      padded.narrow(1, len, pad).narrow(2, 0, len).zero_();  // padded query rows are zeros over real keys
      parts.push_back(torch::softmax(padded, -1).sum(1).narrow(1, 0, len));
    } else {
      parts.push_back(torch::softmax(dots, -1).sum(1));
    }
  }
  auto a = torch::cat(parts, 1).reshape({n_kv, group, S}).mean(1);
  auto s = a * v.norm(2, {-1});
  s = torch::avg_pool1d(s.unsqueeze(0), {3}, {1}, {1}, false, true).squeeze(0);
  if (s.numel() < 2) throw std::invalid_argument("noncausal_attn: z-score needs at least 2 scores");
  return zscore_global(s);
}

}  // namespace chorus::inference
