// Compression wired into the engine: prefill compression of a context (kvpress style) and the capped
// decode-time cache (Q-Filters rule), on a random GQA model. Checks what a user relies on: ratio 1 changes
// nothing, memory shrinks by the ratio, only the context is compressed, the cap holds, the cached per-entry
// scores give the same evictions as rescoring, and the eviction rule equals the reference's.
#include "inference/continuation-nll.h"
#include "inference/generator.h"
#include "inference/kv-compressor.h"
#include "inference/kv-evictor.h"
#include "inference/kv-select.h"
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

namespace chorus::inference {
namespace {

using chorus::testing::TempDir;

std::vector<int64_t> random_ids(int n, unsigned seed, int vocab = 256) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int64_t>(rng() % vocab));
  return ids;
}

CompressionSettings prefill(const std::string& method, double keep, int64_t first = 0, int64_t last = 0,
                            HeadSelection selection = HeadSelection::per_head) {
  CompressionSettings s;
  s.method = method;
  s.keep_ratio = keep;
  s.protect_first = first;
  s.protect_last = last;
  s.selection = selection;
  return s;
}

StreamingSettings capped(const std::string& method, int64_t max_entries, int64_t window, int64_t first = 0) {
  StreamingSettings s;
  s.method = method;
  s.max_entries = max_entries;
  s.window = window;
  s.protect_first = first;
  return s;
}

class KvCompression : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!chorus::testing::oracle_available(&why)) return;
    dir_ = new TempDir("kvc");
    chorus::testing::make_tiny_model(dir_->path(), {"--arch", "llama", "--layers", "3", "--hidden", "64", "--heads",
                                                    "4", "--kv-heads", "2", "--intermediate", "128", "--vocab", "256",
                                                    "--std", "0.1", "--dtype", "f32", "--seed", "7"});
    model_ = Model::load(dir_->path()).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "oracle (/usr/bin/python3 + numpy, shared/oracle) unavailable";
  }
  static std::vector<int64_t> greedy(const std::vector<int64_t>& context, const std::vector<int64_t>& question,
                                     const LayerObserver& prefill, const LayerObserver& decode, KvCache* out = nullptr) {
    auto cache = model_->new_cache();
    model_->forward(context, cache, true, prefill);
    GenerationRequest r;
    r.prompt = question;
    r.sampling.temperature = 0;
    r.max_new_tokens = 24;
    r.observer = decode;
    auto ids = generate(*model_, nullptr, cache, r).ids;
    if (out) *out = std::move(cache);
    return ids;
  }
  static TempDir* dir_;
  static Model* model_;
};

TempDir* KvCompression::dir_ = nullptr;
Model* KvCompression::model_ = nullptr;

TEST_F(KvCompression, RatioOneAndAnUnreachedCapGenerateExactlyTheUncompressedOutput) {
  const auto context = random_ids(120, 1), question = random_ids(8, 2);
  const auto plain = greedy(context, question, nullptr, nullptr);
  for (const std::string method : {"knorm", "snapkv", "streaming", "random"}) {
    PrefillCompressor compressor(prefill(method, 1.0));
    EXPECT_EQ(greedy(context, question, compressor.observer(), nullptr), plain) << method;
  }
  StreamingEvictor evictor(capped("knorm", 1000, 8));
  EXPECT_EQ(greedy(context, question, evictor.observer(), evictor.observer()), plain);
  EXPECT_EQ(evictor.evicted(), 0);
}

TEST_F(KvCompression, CompressionChangesWhatIsGenerated) {
  const auto context = random_ids(160, 3), question = random_ids(8, 4);
  PrefillCompressor compressor(prefill("knorm", 0.125));
  EXPECT_NE(greedy(context, question, compressor.observer(), nullptr), greedy(context, question, nullptr, nullptr));
}

TEST_F(KvCompression, BytesShrinkByTheRatioAndOnlyTheContextIsCompressed) {
  const auto context = random_ids(256, 5), question = random_ids(10, 6);
  for (double keep : {0.5, 0.25, 0.125}) {
    auto full = model_->new_cache(), cache = model_->new_cache();
    model_->forward(context, full, true);
    PrefillCompressor compressor(prefill("knorm", keep, 4, 4));
    model_->forward(context, cache, true, compressor.observer());
    EXPECT_EQ(cache.bytes() * static_cast<int64_t>(1 / keep), full.bytes()) << keep;
    model_->forward(question, cache, true);  // the question is appended whole
    for (int64_t l = 0; l < cache.num_layers(); ++l) {
      EXPECT_EQ(cache.size(l), static_cast<int64_t>(256 * keep) + 10);
      auto pos = cache.positions(l);
      // Sinks, recent context tokens and the whole question are kept, with their original positions.
      for (int64_t p : {0, 1, 2, 3, 252, 253, 254, 255, 256, 265})
        EXPECT_TRUE((pos == p).any(1).all().item<bool>()) << "layer " << l << " position " << p;
    }
    EXPECT_EQ(cache.seen_tokens(), 266);
  }
}

TEST_F(KvCompression, SharedSelectionKeepsTheSamePositionsInEveryHead) {
  auto cache = model_->new_cache();
  PrefillCompressor compressor(prefill("knorm", 0.5, 0, 0, HeadSelection::shared));
  model_->forward(random_ids(64, 7), cache, true, compressor.observer());
  for (int64_t l = 0; l < cache.num_layers(); ++l) {
    auto pos = cache.positions(l);
    EXPECT_TRUE(pos[0].equal(pos[1]));
    EXPECT_EQ(pos.size(1), 32);
  }
}

TEST_F(KvCompression, TheCapHoldsDuringDecodingAndTheWindowIsKept) {
  StreamingEvictor evictor(capped("knorm", 48, 8, 2));
  KvCache cache = model_->new_cache();
  greedy(random_ids(100, 8), random_ids(4, 9), evictor.observer(), evictor.observer(), &cache);
  const int64_t seen = cache.seen_tokens();
  EXPECT_EQ(seen, 100 + 4 + 23);  // the last generated token is not fed back
  for (int64_t l = 0; l < cache.num_layers(); ++l) {
    EXPECT_EQ(cache.size(l), 48);
    auto pos = cache.positions(l);
    for (int64_t p : {int64_t{0}, int64_t{1}, seen - 8, seen - 1})
      EXPECT_TRUE((pos == p).any(1).all().item<bool>()) << "layer " << l << " position " << p;
  }
  EXPECT_EQ(evictor.evicted(), (seen - 48) * 3);
}

TEST_F(KvCompression, StreamingKeepsSinksAndTheNewestEntries) {
  StreamingEvictor evictor(capped("streaming", 32, 4, 4));
  KvCache cache = model_->new_cache();
  greedy(random_ids(90, 10), random_ids(3, 11), evictor.observer(), evictor.observer(), &cache);
  const int64_t seen = cache.seen_tokens();
  std::vector<int64_t> expected = {0, 1, 2, 3};
  for (int64_t p = seen - 28; p < seen; ++p) expected.push_back(p);
  auto want = torch::tensor(expected, torch::kInt64);
  for (int64_t l = 0; l < cache.num_layers(); ++l)
    for (int64_t h = 0; h < cache.num_kv_heads(); ++h) EXPECT_TRUE(cache.positions(l)[h].equal(want));
}

TEST_F(KvCompression, CachedPerEntryScoresEvictLikeRescoringEveryStep) {
  // The evictor keeps knorm/qfilters scores of retained entries; rescoring the whole cache must agree.
  auto knorm = make_press("knorm");
  LayerObserver rescoring = [&](const LayerActivations& a, KvCache& kv) {
    if (kv.size(a.layer) <= 40) return;
    PressInput in;
    in.layer = a.layer;
    in.keys = kv.keys(a.layer);
    kv.retain(a.layer, window_protected_evict(knorm->score(in), 40, 6));
  };
  StreamingEvictor evictor(capped("knorm", 40, 6));
  KvCache a = model_->new_cache(), b = model_->new_cache();
  const auto context = random_ids(70, 12), question = random_ids(5, 13);
  EXPECT_EQ(greedy(context, question, evictor.observer(), evictor.observer(), &a),
            greedy(context, question, rescoring, rescoring, &b));
  for (int64_t l = 0; l < a.num_layers(); ++l) EXPECT_TRUE(a.positions(l).equal(b.positions(l)));
}

TEST_F(KvCompression, MethodsThatNeedQueriesCannotEvictWhileDecoding) {
  for (const std::string method : {"snapkv", "compactor", "noncausal_attn"}) {
    try {
      auto settings = capped(method, 32, 4);
      settings.press.phi = torch::randn({16, 8}, torch::kFloat64);  // compactor's sketch (head_dim 16)
      StreamingEvictor evictor(settings);
      ADD_FAILURE() << method << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("cannot evict during decoding"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(StreamingEvictor(capped("knorm", 8, 8)), std::invalid_argument);
  EXPECT_THROW(PrefillCompressor(prefill("knorm", 0)), std::invalid_argument);
}

TEST_F(KvCompression, ContinuationNllAtRatioOneEqualsTheFullForward) {
  const auto ids = random_ids(80, 14);
  const std::vector<int64_t> context(ids.begin(), ids.begin() + 50), continuation(ids.begin() + 50, ids.end());
  auto cache = model_->new_cache();
  auto logits = torch::log_softmax(model_->forward(ids, cache).to(torch::kFloat64), -1);
  double expected = 0;
  for (size_t i = 50; i < ids.size(); ++i) expected -= logits[static_cast<int64_t>(i) - 1][ids[i]].item<double>();
  auto fresh = model_->new_cache();
  auto r = continuation_nll(*model_, fresh, context, continuation);
  EXPECT_EQ(r.tokens, 30);
  EXPECT_NEAR(r.total_nll, expected, 1e-6 * std::abs(expected));
  StreamingEvictor evictor(capped("knorm", 32, 4));
  auto capped = model_->new_cache();
  auto c = continuation_nll(*model_, capped, context, continuation, nullptr, &evictor);
  EXPECT_NE(c.total_nll, r.total_nll);
  EXPECT_EQ(c.max_entries, 32);
  EXPECT_GT(c.compression_seconds, 0);
}

TEST(WindowProtectedEvict, EqualsTheReferenceRule) {
  std::string why;
  if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << why;
  // Scores with ties (rounded) so the tie rule is exercised too.
  auto scores = (torch::rand({3, 50}, torch::kFloat64) * 8).round();
  std::vector<std::vector<double>> rows(3);
  for (int h = 0; h < 3; ++h)
    for (int t = 0; t < 50; ++t) rows[static_cast<size_t>(h)].push_back(scores[h][t].item<double>());
  const std::string script =
      "import json, sys; sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True\n"
      "import numpy as np, kv_scores_reference as r\n"
      "s = np.asarray(json.loads(sys.argv[2]))\n"
      "print(json.dumps([[k.tolist() for k in r.window_protected_evict(s, m, w)] for m, w in [(30, 5), (49, 0), (50, 10), (60, 3)]]))\n";
  auto res = chorus::testing::run_process({"/usr/bin/python3", "-c", script,
                                           (chorus::testing::shared_dir() / "oracle").string(),
                                           nlohmann::json(rows).dump()});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto ref = nlohmann::json::parse(res.out);
  const std::vector<std::pair<int64_t, int64_t>> cases = {{30, 5}, {49, 0}, {50, 10}, {60, 3}};
  for (size_t c = 0; c < cases.size(); ++c) {
    auto kept = window_protected_evict(scores, cases[c].first, cases[c].second);
    for (int h = 0; h < 3; ++h) {
      auto row = kept[h];
      std::vector<int64_t> ours(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
      EXPECT_EQ(ours, ref[c][static_cast<size_t>(h)].get<std::vector<int64_t>>()) << "case " << c << " head " << h;
    }
  }
}

}  // namespace
}  // namespace chorus::inference

namespace chorus::inference {
namespace {

TEST(LowestScored, IsTheEntrySelectKeptDropsTiesIncluded) {
  for (int trial = 0; trial < 50; ++trial) {
    auto scores = (torch::rand({3, 20}, torch::kFloat64) * 4).round();  // many ties
    const int64_t first = trial % 3, last = trial % 5;
    auto kept = select_kept(scores, 19, true, first, last);
    auto drop = lowest_scored(scores, first, last);
    for (int64_t h = 0; h < 3; ++h) {
      auto row = kept[h];
      EXPECT_FALSE((row == drop[h]).any().item<bool>()) << "trial " << trial;
      EXPECT_EQ(row.size(0), 19);
    }
  }
  EXPECT_THROW(lowest_scored(torch::zeros({1, 4}), 2, 2), std::invalid_argument);
}

TEST(KvCacheRemoveOne, EqualsRetainingEverythingElse) {
  KvCache a(1, 3, 4), b(1, 3, 4);
  auto k = torch::randn({3, 10, 4}), v = torch::randn({3, 10, 4});
  auto pos = torch::arange(10, torch::kInt64);
  a.append(0, k, v, pos);
  b.append(0, k, v, pos);
  auto drop = torch::tensor(std::vector<int64_t>{0, 5, 9}, torch::kInt64);
  const auto stamp = a.edit_stamp(0);
  a.remove_one(0, drop);
  EXPECT_NE(a.edit_stamp(0), stamp);
  auto all = torch::arange(10, torch::kInt64).unsqueeze(0).expand({3, 10});
  b.retain(0, all.masked_select(all.ne(drop.unsqueeze(1))).view({3, 9}));
  EXPECT_TRUE(a.keys(0).equal(b.keys(0)));
  EXPECT_TRUE(a.values(0).equal(b.values(0)));
  EXPECT_TRUE(a.positions(0).equal(b.positions(0)));
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_NE(a.edit_stamp(0), b.edit_stamp(0));
  const auto appended = a.edit_stamp(0);
  a.append(0, k.narrow(1, 0, 1), v.narrow(1, 0, 1), torch::tensor(std::vector<int64_t>{10}, torch::kInt64));
  EXPECT_EQ(a.edit_stamp(0), appended);  // appends keep what an observer saw
  EXPECT_THROW(a.remove_one(0, torch::tensor(std::vector<int64_t>{0, 10, 1}, torch::kInt64)), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::inference
