#pragma once
// Scoring building blocks shared by several presses (leverage, non-causal attention, Compactor); float64.
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace chorus::inference {

// (x - mean) / max(std, 1e-6) over all elements together, unbiased std (kvpress, as torch.std).
torch::Tensor zscore_global(const torch::Tensor& x);
// kvpress ridge leverage of pre-RoPE keys [n_kv, S, d] with sketch phi [d, k] or [n_kv, d, k]: X centred over
// the sequence, Xs = X phi, diag(Xs (Xs^T Xs + c I)^-1 Xs^T) clamped at 0, c = 1e-2 raised x10 (5 tries)
// while any head's Cholesky fails. Raw, not z-scored: [n_kv, S].
torch::Tensor ridge_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi);
// Exact leverage of the same centred, sketched keys (paper Alg. 1): G = Xs^T Xs = V S^2 V^T per head, eigenvalues
// <= max(S, k) * eps64 * max dropped, U = Xs V S^-1, lev_i = ||U_i||^2 (sums to the rank). Raw: [n_kv, S].
torch::Tensor eig_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi);
// ridge_leverage for method "kvpress", eig_leverage for "eig"; throws std::invalid_argument for any other name.
torch::Tensor sketched_leverage(const torch::Tensor& prerope_keys, const torch::Tensor& phi, const std::string& method);
// Throws std::invalid_argument naming `press` unless `method` is "kvpress" or "eig".
void check_leverage_method(const std::string& press, const std::string& method);
// kvpress NonCausalAttnPress.score on queries [n_heads, S, d], keys/values [n_kv, S, d]; z-scored [n_kv, S].
torch::Tensor noncausal_attn_zscores(const torch::Tensor& queries, const torch::Tensor& keys,
                                     const torch::Tensor& values, int64_t chunk_size, bool kvpress_padding);

}  // namespace chorus::inference
