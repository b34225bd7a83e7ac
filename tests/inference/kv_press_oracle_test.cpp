// KV-cache presses against the independent float64 reference (shared/oracle/kv_scores_reference.py in
// --model mode, which runs the reference's own forward): the engine's forward feeds the presses, and
// scores must agree within 1e-4 (relative to max(1, max|score|)), kept sets exactly wherever the reference's
// kept_margin exceeds twice the measured score deviation (so a different set would be a real bug).
#include "inference/kv-press.h"
#include "inference/kv-select.h"
#include "inference/model.h"
#include "inference/press-scoring.h"
#include "inference/qfilters-calibration.h"
#include "inference/qfilters-file.h"
#include "tests/support/oracle.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

namespace chorus::inference {
namespace {

using chorus::testing::TempDir;
using nlohmann::json;

struct Variant {
  const char* name;
  std::vector<std::string> args;
  int tokens;
};

std::vector<Variant> variants() {
  const std::vector<std::string> common = {"--hidden", "64", "--intermediate", "128", "--vocab", "256", "--std", "0.1"};
  auto make = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  return {
      {"llama_gqa_4_2", make({"--arch", "llama", "--layers", "2", "--heads", "4", "--kv-heads", "2"}), 80},
      {"qwen2_mha_4_4", make({"--arch", "qwen2", "--layers", "3", "--heads", "4", "--kv-heads", "4"}), 72},
      {"llama_mqa_4_1", make({"--arch", "llama", "--layers", "2", "--heads", "4", "--kv-heads", "1"}), 66},
  };
}

torch::Tensor to_tensor(const json& j) {  // [H][T] or [H][T][d] numbers -> float64 tensor
  std::vector<double> flat;
  std::vector<int64_t> shape;
  const json* cur = &j;
  while (cur->is_array()) {
    shape.push_back(static_cast<int64_t>(cur->size()));
    if (cur->empty()) break;
    cur = &(*cur)[0];
  }
  std::function<void(const json&)> walk = [&](const json& x) {
    if (x.is_array())
      for (const auto& e : x) walk(e);
    else
      flat.push_back(x.get<double>());
  };
  walk(j);
  return torch::tensor(flat, torch::kFloat64).reshape(shape);
}

std::vector<int64_t> row(const torch::Tensor& kept, int64_t h) {
  auto r = kept[h].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

// Writes `t` as tensor "q_filters" (F32) in a safetensors file, as make_filters.py's hub upload stores it.
void write_qfilters_file(const std::filesystem::path& path, const torch::Tensor& t) {
  auto f = t.to(torch::kFloat32).contiguous();
  const size_t nbytes = static_cast<size_t>(f.numel()) * sizeof(float);
  json header = {{"q_filters", {{"dtype", "F32"}, {"shape", f.sizes().vec()}, {"data_offsets", {0, nbytes}}}}};
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text += ' ';
  std::ofstream out(path, std::ios::binary);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.write(reinterpret_cast<const char*>(f.data_ptr<float>()), static_cast<std::streamsize>(nbytes));
}

class KvPressOracle : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    std::string why;
    if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << why;
    const Variant& v = GetParam();
    chorus::testing::make_tiny_model(dir_.path(), v.args);
    std::mt19937 rng(5);
    std::uniform_int_distribution<int64_t> dist(0, 255);
    for (int i = 0; i < v.tokens; ++i) ids_.push_back(dist(rng));
    for (size_t i = 0; i < ids_.size(); ++i) tokens_ += (i ? "," : "") + std::to_string(ids_[i]);
    model_ = Model::load(dir_.path());
    auto cache = model_->new_cache();
    const int64_t L = model_->config().num_layers;
    queries_.resize(static_cast<size_t>(L));
    prerope_.resize(static_cast<size_t>(L));
    model_->forward(ids_, cache, true, [&](const LayerActivations& a, KvCache&) {
      queries_[static_cast<size_t>(a.layer)] = a.queries.clone();
      prerope_[static_cast<size_t>(a.layer)] = a.keys_pre_rope.clone();
    });
    for (int64_t l = 0; l < L; ++l) {
      PressInput in;
      in.layer = l;
      in.keys = cache.keys(l).clone();
      in.values = cache.values(l).clone();
      in.queries = queries_[static_cast<size_t>(l)];
      in.prerope_keys = prerope_[static_cast<size_t>(l)];
      in.positions = cache.positions(l).clone();
      inputs_.push_back(in);
    }
  }

  json oracle(const std::string& method, int64_t layer, std::vector<std::string> extra) {
    std::vector<std::string> args = {method, "--model", dir_.path().string(), "--tokens", tokens_,
                                      "--layer", std::to_string(layer)};
    args.insert(args.end(), extra.begin(), extra.end());
    return json::parse(chorus::testing::run_oracle("kv_scores_reference.py", args));
  }

  // Compares engine scores and kept sets with the reference's; returns the max |score delta|.
  double check(const std::string& label, const torch::Tensor& engine_scores, int64_t keep_count, const json& ref) {
    auto ref_scores = to_tensor(ref["scores"]);
    auto mine = engine_scores.to(torch::kFloat64);
    EXPECT_EQ(mine.sizes(), ref_scores.sizes()) << label;
    if (mine.sizes() != ref_scores.sizes()) return INFINITY;
    const double scale = std::max(1.0, ref_scores.abs().max().item<double>());
    const double tol = 1e-4 * scale;
    const double delta = (mine - ref_scores).abs().max().item<double>();
    EXPECT_LE(delta, tol) << label;
    // The selection rule itself, on the reference's own scores: identical kept sets, ties included.
    auto ref_kept = ref["kept"];
    auto from_ref = select_kept(ref_scores, keep_count);
    auto engine_kept = select_kept(engine_scores, keep_count);
    int compared = 0, skipped = 0;
    for (int64_t h = 0; h < ref_scores.size(0); ++h) {
      auto want = ref_kept[static_cast<size_t>(h)].get<std::vector<int64_t>>();
      EXPECT_EQ(row(from_ref, h), want) << label << " head " << h << ": tie rule";
      const auto& margin = ref["kept_margin"][static_cast<size_t>(h)];
      // A margin above twice the engine's own max deviation forces the same kept set.
      if (margin.is_null() || margin.get<double>() > 2.0 * delta + 1e-9 * scale) {
        EXPECT_EQ(row(engine_kept, h), want) << label << " head " << h;
        ++compared;
      } else {
        ++skipped;
      }
    }
    std::printf("[%s] max|score delta| = %.3g (tol %.3g), kept sets compared %d, near-ties skipped %d\n",
                label.c_str(), delta, tol, compared, skipped);
    return delta;
  }

  TempDir dir_{"kvpress"};
  std::vector<int64_t> ids_;
  std::string tokens_;
  std::unique_ptr<Model> model_;
  std::vector<torch::Tensor> queries_, prerope_;
  std::vector<PressInput> inputs_;
};

TEST_P(KvPressOracle, Knorm) {
  auto press = make_press("knorm");
  for (const auto& in : inputs_) {
    const int64_t K = in.keys.size(1) / 2;
    auto ref = oracle("knorm", in.layer, {"--keep-count", std::to_string(K)});
    check(std::string(GetParam().name) + " knorm L" + std::to_string(in.layer), press->score(in), K, ref);
  }
}

TEST_P(KvPressOracle, StreamingWindowAndKvpressForms) {
  PressOptions window_opts;
  window_opts.n_sink = 4;
  window_opts.window = 16;
  auto window_press = make_press("streaming_llm", window_opts);
  PressOptions ratio_opts;
  ratio_opts.n_sink = 4;
  ratio_opts.compression_ratio = 0.6;
  auto ratio_press = make_press("streaming_llm", ratio_opts);
  for (const auto& in : inputs_) {
    auto ref = oracle("streaming_llm", in.layer, {"--n-sink", "4", "--window", "16", "--keep-count", "20"});
    check(std::string(GetParam().name) + " streaming window L" + std::to_string(in.layer), window_press->score(in), 20,
          ref);
    const int64_t K = keep_count_for_compression(in.keys.size(1), 0.6);
    auto ref2 = oracle("streaming_llm", in.layer, {"--n-sink", "4", "--compression-ratio", "0.6"});
    check(std::string(GetParam().name) + " streaming kvpress L" + std::to_string(in.layer), ratio_press->score(in), K,
          ref2);
  }
}

TEST_P(KvPressOracle, SnapKv) {
  for (int64_t window : {64, 16}) {
    PressOptions opts;
    opts.snapkv_window = window;
    auto press = make_press("snapkv", opts);
    EXPECT_TRUE(press->needs_queries());
    for (const auto& in : inputs_) {
      const int64_t K = window + 8;
      auto ref = oracle("snapkv", in.layer, {"--window", std::to_string(window), "--keep-count", std::to_string(K)});
      check(std::string(GetParam().name) + " snapkv w" + std::to_string(window) + " L" + std::to_string(in.layer),
            press->score(in), K, ref);
    }
  }
}

TEST_P(KvPressOracle, QFiltersWithGivenFilters) {
  // The reference calibrates filters on the same tokens (its own forward); the engine scores with them,
  // both in the score form ("filters") and the official stored form ("q_filters_stored" = -filters).
  for (const auto& in : inputs_) {
    const int64_t K = in.keys.size(1) / 3;
    auto ref = oracle("qfilters", in.layer, {"--keep-count", std::to_string(K)});
    PressOptions opts;
    opts.filters = to_tensor(ref["filters"]);
    auto press = make_press("qfilters", opts);
    check(std::string(GetParam().name) + " qfilters L" + std::to_string(in.layer), press->score(in), K, ref);
    PressOptions stored;
    stored.filters = to_tensor(ref["q_filters_stored"]);
    stored.filters_stored = true;
    auto press2 = make_press("qfilters", stored);
    EXPECT_TRUE(torch::allclose(press2->score(in), press->score(in)));
    // The same stored filters through the official safetensors layout.
    write_qfilters_file(dir_ / "q_filters.safetensors", stored.filters);
    auto loaded = load_stored_qfilters(dir_ / "q_filters.safetensors");
    EXPECT_TRUE(torch::allclose(loaded, stored.filters, 0, 1e-6));
    stored.filters = loaded;
    EXPECT_TRUE(torch::allclose(make_press("qfilters", stored)->score(in), press->score(in), 1e-5, 1e-6));
  }
}

TEST_P(KvPressOracle, QFiltersCalibration) {
  // Every position is a calibration sample (N <= 3000), so the reference's random subset is all of them.
  auto mine = qfilters_calibrate(queries_, model_->config().num_kv_heads);
  const int64_t K = inputs_[0].keys.size(1) / 3;
  auto ref = oracle("qfilters_calibrate", 0, {"--keep-count", std::to_string(K)});
  auto ref_filters = to_tensor(ref["filters"]);
  ASSERT_EQ(mine.filters.sizes(), ref_filters.sizes());
  const double delta = (mine.filters - ref_filters).abs().max().item<double>();
  const double stored_delta = (mine.stored() - to_tensor(ref["q_filters_stored"])).abs().max().item<double>();
  EXPECT_TRUE(torch::equal(mine.signs, to_tensor(ref["signs"])));
  std::printf("[%s] qfilters calibration: max|filter delta| = %.3g, stored %.3g\n", GetParam().name, delta,
              stored_delta);
  EXPECT_LE(delta, 1e-4);
  EXPECT_LE(stored_delta, 1e-4);
  // Engine-calibrated filters score the engine's keys like the reference's filters score its own keys.
  PressOptions opts;
  opts.filters = mine.filters;
  auto press = make_press("qfilters", opts);
  for (const auto& in : inputs_) {
    auto r = oracle("qfilters", in.layer, {"--keep-count", std::to_string(K)});
    check(std::string(GetParam().name) + " qfilters(engine-calibrated) L" + std::to_string(in.layer),
          press->score(in), K, r);
  }
}

TEST_P(KvPressOracle, NonCausalAttention) {
  for (bool kvpress_padding : {true, false}) {
    PressOptions opts;
    opts.chunk_size = 32;  // T is not a multiple of 32: the last chunk is partial
    opts.kvpress_padding = kvpress_padding;
    auto press = make_press("noncausal_attn", opts);
    for (const auto& in : inputs_) {
      const int64_t K = in.keys.size(1) / 2;
      std::vector<std::string> extra = {"--chunk-size", "32", "--keep-count", std::to_string(K)};
      if (!kvpress_padding) extra.push_back("--clean-padding");
      auto ref = oracle("noncausal_attn", in.layer, extra);
      check(std::string(GetParam().name) + " noncausal_attn" + (kvpress_padding ? "" : " clean") + " L" +
                std::to_string(in.layer),
            press->score(in), K, ref);
    }
  }
}

TEST_P(KvPressOracle, LeverageWithTheReferenceSketch) {
  for (const auto& in : inputs_) {
    const int64_t K = in.keys.size(1) / 2;
    auto ref = oracle("leverage", in.layer, {"--phi-seed", std::to_string(in.layer), "--keep-count", std::to_string(K)});
    PressOptions opts;
    opts.phi = to_tensor(ref["phi"]);
    check(std::string(GetParam().name) + " leverage L" + std::to_string(in.layer), make_press("leverage", opts)->score(in),
          K, ref);
  }
}

TEST_P(KvPressOracle, Compactor) {
  for (const auto& in : inputs_) {
    const int64_t K = keep_count_for_compression(in.keys.size(1), 0.5);
    auto ref = oracle("compactor", in.layer, {"--compression-ratio", "0.5", "--chunk-size", "32"});
    PressOptions opts;
    opts.phi = to_tensor(ref["phi"]);
    opts.compression_ratio = 0.5;
    opts.chunk_size = 32;
    check(std::string(GetParam().name) + " compactor L" + std::to_string(in.layer),
          make_press("compactor", opts)->score(in), K, ref);
  }
}

TEST_P(KvPressOracle, LeverageEigWithTheReferenceSketch) {
  // Paper Alg. 1 (exact leverage by eigendecomposition): raw scores sum to the rank of the sketched keys.
  for (const auto& in : inputs_) {
    const int64_t K = in.keys.size(1) / 2;
    auto ref = oracle("leverage", in.layer, {"--phi-seed", std::to_string(in.layer), "--leverage-method", "eig",
                                             "--keep-count", std::to_string(K)});
    PressOptions opts;
    opts.phi = to_tensor(ref["phi"]);
    opts.leverage_method = "eig";
    check(std::string(GetParam().name) + " leverage(eig) L" + std::to_string(in.layer),
          make_press("leverage", opts)->score(in), K, ref);
    auto raw = eig_leverage(in.prerope_keys, opts.phi);
    auto ref_raw = to_tensor(ref["raw_leverage"]);
    EXPECT_LE((raw - ref_raw).abs().max().item<double>(), 1e-4) << "raw eig leverage L" << in.layer;
    const double rank = static_cast<double>(std::min(in.keys.size(2), opts.phi.size(2)));
    EXPECT_NEAR(raw.sum(1).min().item<double>(), rank, 1e-6);
    EXPECT_NEAR(raw.sum(1).max().item<double>(), rank, 1e-6);
    const double ridge_gap = (raw - ridge_leverage(in.prerope_keys, opts.phi)).abs().max().item<double>();
    EXPECT_GT(ridge_gap, 0.0);  // the exact and the ridge (kvpress) forms are different numbers
    std::printf("[%s leverage(eig) L%lld] raw sums = rank %g; max|eig - ridge| = %.3g\n", GetParam().name,
                static_cast<long long>(in.layer), rank, ridge_gap);
  }
}

TEST_P(KvPressOracle, CompactorEig) {
  for (const auto& in : inputs_) {
    const int64_t K = keep_count_for_compression(in.keys.size(1), 0.5);
    auto ref = oracle("compactor", in.layer,
                      {"--compression-ratio", "0.5", "--chunk-size", "32", "--leverage-method", "eig"});
    PressOptions opts;
    opts.phi = to_tensor(ref["phi"]);
    opts.compression_ratio = 0.5;
    opts.chunk_size = 32;
    opts.leverage_method = "eig";
    check(std::string(GetParam().name) + " compactor(eig) L" + std::to_string(in.layer),
          make_press("compactor", opts)->score(in), K, ref);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, KvPressOracle, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(KvPressRegistry, NamesAndErrors) {
  auto names = press_names();
  for (const char* n : {"knorm", "streaming_llm", "snapkv", "qfilters", "noncausal_attn", "random", "leverage", "compactor"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_THROW(make_press("nope"), std::invalid_argument);
  EXPECT_THROW(make_press("qfilters"), std::invalid_argument);  // filters are required
  EXPECT_THROW(make_press("leverage"), std::invalid_argument);  // the sketch is required
  PressOptions bad_method;
  bad_method.phi = torch::zeros({8, 4});
  bad_method.leverage_method = "qr";
  EXPECT_THROW(make_press("leverage", bad_method), std::invalid_argument);
  EXPECT_THROW(make_press("compactor", bad_method), std::invalid_argument);
  EXPECT_EQ(make_press("knorm")->name(), "knorm");
  EXPECT_FALSE(make_press("knorm")->needs_queries());
  // The random baseline is reproducible for a seed and layer, and differs across layers.
  PressInput in;
  in.keys = torch::zeros({2, 50, 8});
  PressOptions opts;
  opts.seed = 3;
  auto a = make_press("random", opts)->score(in);
  EXPECT_TRUE(torch::equal(a, make_press("random", opts)->score(in)));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 50}));
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LT(a.max().item<float>(), 1.0f);
  in.layer = 1;
  EXPECT_FALSE(torch::equal(a, make_press("random", opts)->score(in)));
}

}  // namespace
}  // namespace chorus::inference
