// The trainable Llama (training/llama-trainer) and its loop (training/train-loop): the exported model is the
// engine's architecture (inference::Model and the Python reference give the same logits), gradients match finite
// differences, training overfits and learns to copy, the loss mask counts only targets, seeded runs repeat, and a
// resumed run continues the same trajectory.
#include "inference/model.h"
#include "tests/support/oracle.h"
#include "tests/support/temp-dir.h"
#include "training/llama-trainer.h"
#include "training/target-loss.h"
#include "training/train-loop.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace chorus::training {
namespace {

using chorus::testing::TempDir;

LlamaTrainerConfig tiny_config(bool tied = false, bool bias = false) {
  LlamaTrainerConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  c.tie_word_embeddings = tied;
  c.attention_bias = bias;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

std::vector<int64_t> sequence(int64_t n, uint32_t seed) {
  std::vector<int64_t> ids;
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    ids.push_back(static_cast<int64_t>((s >> 8) % 64));
  }
  return ids;
}

// Randomises biases and norms too, so the comparison exercises every parameter.
void perturb(LlamaTrainer& m) {
  torch::NoGradGuard g;
  torch::manual_seed(3);
  for (auto& [name, t] : m.named_parameters())
    if (t.dim() == 1) t.add_(torch::randn_like(t) * 0.1);
}

std::vector<TrainExample> fixed_examples() {
  std::vector<TrainExample> out;
  for (uint32_t k = 0; k < 4; ++k) {
    TrainExample e;
    e.ids = sequence(12 + k * 3, 100 + k);
    e.mask.assign(e.ids.size(), 1);
    e.mask[0] = 0;
    out.push_back(e);
  }
  return out;
}

class ExportMatchesEngine : public ::testing::TestWithParam<std::pair<bool, bool>> {};

TEST_P(ExportMatchesEngine, LogitsEqualInferenceModelAndReference) {
  const auto [tied, bias] = GetParam();
  LlamaTrainer m(tiny_config(tied, bias), 7);
  perturb(m);
  TempDir dir("trainer-export");
  m.save_hf(dir.path(), torch::kFloat32);
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;

  auto ids = sequence(20, 5);
  torch::Tensor ours;
  {
    torch::NoGradGuard g;
    ours = m.forward(torch::tensor(ids).unsqueeze(0))[0];
  }
  auto model = inference::Model::load(dir.path());
  EXPECT_EQ(model->parameter_count(), m.config().parameter_count());
  EXPECT_EQ(model->config().architecture_name, bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
  EXPECT_EQ(model->config().eos_token_ids, std::vector<int64_t>{2});
  auto cache = model->new_cache();
  auto engine = model->forward(ids, cache);
  const double delta = (engine - ours).abs().max().item<double>();
  EXPECT_LE(delta, 1e-5) << "tied=" << tied << " bias=" << bias;

  // Packed rows compute what the examples compute alone.
  {
    torch::NoGradGuard g;
    TrainExample a{sequence(7, 1), std::vector<uint8_t>(7, 1)}, b{sequence(9, 2), std::vector<uint8_t>(9, 1)};
    auto packed = make_batch({&a, &b}, 32, true);
    ASSERT_EQ(packed.ids.size(0), 1);
    auto logits = m.forward(packed.ids, packed.positions, packed.segments)[0];
    auto alone = m.forward(torch::tensor(a.ids).unsqueeze(0))[0];  // b (longer) is laid first
    EXPECT_LE((logits.narrow(0, 9, 7) - alone).abs().max().item<double>(), 1e-5);
  }

  std::string why;
  if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << "reference check skipped: " << why;
  auto ref = chorus::testing::reference_logits(dir.path(), ids)["logits"];
  double ref_delta = 0;
  auto acc = ours.accessor<float, 2>();
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t j = 0; j < 64; ++j)
      ref_delta = std::max(ref_delta, std::abs(static_cast<double>(acc[static_cast<int64_t>(t)][j]) - ref[t][j].get<double>()));
  EXPECT_LE(ref_delta, 1e-4);
}

// Rows longer than one attention query block (128): a long sequence still matches the engine, and packed rows
// whose examples start mid-block (keys skipped before the example) compute what each example computes alone.
TEST(LlamaTrainer, LongAndPackedRowsMatchAcrossQueryBlocks) {
  auto config = tiny_config();
  config.max_position_embeddings = 512;
  LlamaTrainer m(config, 11);
  perturb(m);
  TempDir dir("trainer-long");
  m.save_hf(dir.path(), torch::kFloat32);
  torch::NoGradGuard g;
  auto ids = sequence(300, 9);
  auto ours = m.forward(torch::tensor(ids).unsqueeze(0))[0];
  auto model = inference::Model::load(dir.path());
  auto cache = model->new_cache();
  EXPECT_LE((model->forward(ids, cache) - ours).abs().max().item<double>(), 1e-5);

  std::vector<TrainExample> examples;
  for (int64_t n : {100, 150, 60, 120, 200}) {
    TrainExample e{sequence(n, static_cast<uint32_t>(n)), std::vector<uint8_t>(static_cast<size_t>(n), 1)};
    examples.push_back(e);
  }
  std::vector<const TrainExample*> group;
  for (const auto& e : examples) group.push_back(&e);
  auto packed = make_batch(group, 256, true);
  ASSERT_GE(packed.ids.size(0), 2);
  auto logits = m.forward(packed.ids, packed.positions, packed.segments);
  auto seg = packed.segments.contiguous();
  auto packed_ids = packed.ids.contiguous();
  std::set<size_t> seen;
  for (int64_t r = 0; r < seg.size(0); ++r) {
    int64_t t = 0;
    while (t < seg.size(1) && seg[r][t].item<int64_t>() >= 0) {
      // Which example starts here: the one whose tokens these are (every example's sequence differs).
      size_t k = 0;
      while (k < examples.size() &&
             (seen.count(k) || t + static_cast<int64_t>(examples[k].ids.size()) > seg.size(1) ||
              !torch::equal(packed_ids[r].narrow(0, t, static_cast<int64_t>(examples[k].ids.size())),
                            torch::tensor(examples[k].ids))))
        ++k;
      ASSERT_LT(k, examples.size()) << "row " << r << " position " << t << " holds no example whole";
      seen.insert(k);
      const int64_t n = static_cast<int64_t>(examples[k].ids.size());
      auto alone = m.forward(torch::tensor(examples[k].ids).unsqueeze(0))[0];
      EXPECT_LE((logits[r].narrow(0, t, n) - alone).abs().max().item<double>(), 1e-5) << "example " << k;
      t += n;
    }
  }
  EXPECT_EQ(seen.size(), examples.size());
  EXPECT_EQ(packed.tokens, 630);
}

// Rows packed with different layouts are attended row by row, and only counted predictions go through the
// lm_head: the packed loss and its gradients equal those of the examples scored alone (target-weighted mean).
TEST(LlamaTrainer, PackedLossAndGradientsEqualTheExamplesAlone) {
  auto config = tiny_config();
  config.max_position_embeddings = 512;
  LlamaTrainer m(config, 12);
  perturb(m);
  std::vector<TrainExample> examples;
  for (int64_t n : {300, 90, 140, 200, 40}) {
    TrainExample e{sequence(n, static_cast<uint32_t>(n) + 7),
                   std::vector<uint8_t>(static_cast<size_t>(n), 0)};
    for (int64_t t = n / 3; t < n; t += 2) e.mask[static_cast<size_t>(t)] = 1;  // scattered targets
    examples.push_back(e);
  }
  std::vector<const TrainExample*> group;
  for (const auto& e : examples) group.push_back(&e);
  const auto packed = make_batch(group, 320, true);
  ASSERT_GE(packed.ids.size(0), 2);
  auto grads = [&](const torch::Tensor& loss) {
    for (auto& p : m.parameters()) p.mutable_grad() = torch::Tensor();
    loss.backward();
    std::vector<torch::Tensor> out;
    for (auto& p : m.parameters()) out.push_back(p.grad().clone());
    return out;
  };
  for (auto& p : m.parameters()) p.requires_grad_(true);
  auto packed_loss = m.loss(packed);
  const double packed_value = packed_loss.item<double>();
  auto packed_grads = grads(packed_loss);

  torch::Tensor sum;
  for (const auto& e : examples) {
    auto alone = make_batch({&e}, 320, false);
    auto part = m.loss(alone) * static_cast<double>(alone.targets) / static_cast<double>(packed.targets);
    sum = sum.defined() ? sum + part : part;
  }
  EXPECT_NEAR(packed_value, sum.item<double>(), 1e-5);
  auto alone_grads = grads(sum);
  for (size_t i = 0; i < packed_grads.size(); ++i)
    EXPECT_LE((packed_grads[i] - alone_grads[i]).abs().max().item<double>(), 1e-5)
        << m.named_parameters()[i].first;
}

// Packing is first-fit decreasing: 700, 500, 700, 500 tokens fill two rows of 1,280 (laid in order, greedily, they
// would take three), and every token and target is kept.
TEST(LlamaTrainer, PackingFillsRowsFirstFitDecreasing) {
  std::vector<TrainExample> examples;
  for (int64_t n : {700, 500, 700, 500}) examples.push_back({sequence(n, 1), std::vector<uint8_t>(static_cast<size_t>(n), 1)});
  std::vector<const TrainExample*> group;
  for (const auto& e : examples) group.push_back(&e);
  const auto packed = make_batch(group, 1280, true);
  EXPECT_EQ(packed.ids.size(0), 2);
  EXPECT_EQ(packed.ids.size(1), 1200);
  EXPECT_EQ(packed.tokens, 2400);
  EXPECT_EQ(packed.targets, 2396);  // each example's first token is predicted by nothing
  EXPECT_EQ(make_batch(group, 1280, false).ids.size(0), 4);
}

INSTANTIATE_TEST_SUITE_P(Variants, ExportMatchesEngine,
                         ::testing::Values(std::pair{false, false}, std::pair{true, false}, std::pair{false, true}));

TEST(LlamaTrainer, Bf16ExportAndCheckpointRoundTrip) {
  LlamaTrainer m(tiny_config(), 11);
  TempDir dir("trainer-bf16");
  m.save_hf(dir / "bf16", torch::kBFloat16);
  auto config = nlohmann::json::parse(std::ifstream(dir / "bf16" / "config.json"));
  EXPECT_EQ(config["torch_dtype"], "bfloat16");
  EXPECT_EQ(config["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(config["model_type"], "llama");
  auto model = inference::Model::load(dir / "bf16");
  EXPECT_EQ(model->checkpoint_dtype(), "BF16");

  m.save_hf(dir / "f32", torch::kFloat32);
  auto back = LlamaTrainer::load_checkpoint(dir / "f32");
  EXPECT_EQ(back.config().bos_token_id, std::optional<int64_t>(1));
  ASSERT_EQ(back.named_parameters().size(), m.named_parameters().size());
  for (size_t i = 0; i < m.named_parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(back.named_parameters()[i].second, m.named_parameters()[i].second))
        << m.named_parameters()[i].first;
}

TEST(LlamaTrainer, OverfitsFixedSequences) {
  LlamaTrainer m(tiny_config(), 1);
  TrainOptions o;
  o.steps = 120;
  o.batch = 4;
  o.seq_len = 64;
  o.lr = 1e-2;
  o.warmup = 10;
  o.threads = 1;
  double last = 0;
  o.on_step = [&](const StepInfo& s) { last = s.loss; };
  const auto start = std::chrono::steady_clock::now();
  auto result = train(m, fixed_examples(), {}, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.last_step, 120);
  auto final = evaluate(m, fixed_examples(), o);
  std::printf("overfit: last step loss %.4f, final eval loss %.4f, %.2f s\n", last, final.loss, seconds);
  EXPECT_LT(final.loss, 0.05);
}

// The backward pass (blocked attention over packed rows longer than a query block, GQA, RoPE, RMSNorm, tied
// embeddings) agrees with central finite differences of the loss, per parameter tensor along a random direction.
TEST(LlamaTrainer, GradientsMatchFiniteDifferences) {
  auto config = tiny_config(/*tied=*/true, /*bias=*/true);
  config.max_position_embeddings = 512;
  LlamaTrainer m(config, 5);
  {
    torch::NoGradGuard g;
    torch::manual_seed(4);
    for (auto& [name, t] : m.named_parameters()) t.add_(torch::randn_like(t) * (t.dim() == 2 ? 0.2 : 0.1));
  }
  std::vector<TrainExample> examples;
  for (int64_t n : {90, 170, 60, 140}) {
    TrainExample e{sequence(n, static_cast<uint32_t>(n) + 1), std::vector<uint8_t>(static_cast<size_t>(n), 1)};
    for (size_t i = 0; i < e.mask.size(); i += 3) e.mask[i] = 0;
    examples.push_back(e);
  }
  std::vector<const TrainExample*> group;
  for (const auto& e : examples) group.push_back(&e);
  auto batch = make_batch(group, 256, true, torch::kCPU, 0.25f);
  ASSERT_GE(batch.ids.size(1), 200);  // more than one 128-query block
  auto loss = m.loss(batch);
  loss.backward();
  torch::manual_seed(8);
  for (const auto& [name, t] : m.named_parameters()) {
    torch::NoGradGuard g;
    auto direction = torch::randn_like(t);
    direction /= direction.norm();
    const double analytic = (t.grad() * direction).sum().item<double>();
    const double eps = 1e-2;
    t.add_(direction * eps);
    const double plus = m.loss(batch).item<double>();
    t.add_(direction * (-2 * eps));
    const double minus = m.loss(batch).item<double>();
    t.add_(direction * eps);
    const double numeric = (plus - minus) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 0.03 * std::abs(numeric) + 2e-4) << name;
  }
}

// Training can learn induction: a 2-layer model copies random strings it has never seen ("a b c SEP a b c"),
// which every copying task of the curriculum (tool arguments, results, passkeys) needs. A broken backward pass,
// mask or optimizer leaves the copy loss near log(vocab).
TEST(LlamaTrainer, LearnsToCopyRandomStrings) {
  LlamaTrainerConfig c;
  c.vocab_size = 128;
  c.hidden_size = 64;
  c.intermediate_size = 192;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 128;
  uint32_t state = 12345;
  auto draw = [&](uint32_t n) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % n;
  };
  auto copy_example = [&] {
    TrainExample e;
    const uint32_t length = 6 + draw(18);
    std::vector<int64_t> s;
    for (uint32_t i = 0; i < length; ++i) s.push_back(3 + draw(125));
    e.ids.push_back(1);
    e.ids.insert(e.ids.end(), s.begin(), s.end());
    e.ids.push_back(2);
    e.ids.insert(e.ids.end(), s.begin(), s.end());
    e.mask.assign(e.ids.size(), 0);
    for (size_t i = length + 2; i < e.ids.size(); ++i) e.mask[i] = 1;
    return e;
  };
  std::vector<TrainExample> train_set, held_out;
  for (int i = 0; i < 12000; ++i) train_set.push_back(copy_example());
  for (int i = 0; i < 64; ++i) held_out.push_back(copy_example());
  LlamaTrainer m(c, 1);
  TrainOptions o;
  o.steps = 900;
  o.batch = 16;
  o.seq_len = 512;
  o.lr = 3e-3;
  o.warmup = 50;
  o.threads = 1;
  const double before = evaluate(m, held_out, o).loss;
  train(m, train_set, {}, o);
  const double after = evaluate(m, held_out, o).loss;
  // Greedy copying of the held-out strings, token by token from the model's own predictions.
  torch::NoGradGuard g;
  int64_t right = 0, total = 0;
  for (const auto& e : held_out) {
    const size_t half = (e.ids.size() - 2) / 2;
    std::vector<int64_t> ids(e.ids.begin(), e.ids.begin() + static_cast<std::ptrdiff_t>(half + 2));
    for (size_t i = 0; i < half; ++i) {
      auto logits = m.forward(torch::tensor(ids).unsqueeze(0))[0][-1];
      ids.push_back(logits.argmax().item<int64_t>());
    }
    for (size_t i = 0; i < half; ++i) right += ids[half + 2 + i] == e.ids[half + 2 + i];
    total += static_cast<int64_t>(half);
  }
  std::printf("copy: held-out loss %.3f -> %.3f, greedy copy %.1f%% of %lld tokens\n", before, after,
              100.0 * static_cast<double>(right) / static_cast<double>(total), static_cast<long long>(total));
  EXPECT_GT(before, 4.0);  // log(125) = 4.8: nothing to copy with yet
  EXPECT_LT(after, 0.5);
  EXPECT_GE(right, total * 8 / 10);  // chance is 1/125
}

TEST(LlamaTrainer, LossCountsOnlyMaskedTargets) {
  LlamaTrainer m(tiny_config(), 2);
  torch::NoGradGuard g;
  auto ids = torch::tensor(sequence(16, 9)).unsqueeze(0);
  auto mask = torch::zeros({1, 16}, torch::kInt64);
  mask.narrow(1, 5, 6).fill_(1);  // targets: tokens 5..10
  auto loss = m.loss(ids, mask).item<double>();

  // The mean cross entropy of predicting tokens 5..10 from positions 4..9, computed by hand.
  auto logp = torch::log_softmax(m.forward(ids)[0], -1);
  double manual = 0;
  for (int64_t t = 5; t <= 10; ++t) manual -= logp[t - 1][ids[0][t].item<int64_t>()].item<double>();
  EXPECT_NEAR(loss, manual / 6, 1e-5);

  // Tokens after the last target are never context for a target: changing them changes nothing.
  auto changed = ids.clone();
  changed.narrow(1, 11, 5).fill_(63);
  EXPECT_EQ(m.loss(changed, mask).item<double>(), loss);
  // A masked target token itself does not count, but it is context for later targets: changing token 3 (mask 0,
  // before the targets) changes the loss, changing token 11+ (after) does not; and masking all gives 0.
  auto context = ids.clone();
  context[0][3] = (ids[0][3].item<int64_t>() + 1) % 64;
  EXPECT_NE(m.loss(context, mask).item<double>(), loss);
  EXPECT_EQ(m.loss(ids, torch::zeros_like(mask)).item<double>(), 0.0);

  // Batched with padding: the same loss as the row alone.
  TrainExample e{sequence(16, 9), std::vector<uint8_t>(16, 0)};
  for (int t = 5; t <= 10; ++t) e.mask[t] = 1;
  TrainExample other{sequence(5, 4), std::vector<uint8_t>(5, 0)};
  auto batch = make_batch({&e, &other}, 32, false);
  EXPECT_EQ(batch.targets, 6);
  EXPECT_NEAR(m.loss(batch).item<double>(), loss, 1e-6);
}

std::vector<double> run_losses(int64_t steps, uint64_t seed, const std::filesystem::path& checkpoint_dir = {},
                               int64_t checkpoint_every = 0, int64_t stop_after = 0) {
  LlamaTrainer m(tiny_config(), seed);
  TrainOptions o;
  o.steps = steps;
  o.batch = 2;
  o.seq_len = 32;
  o.lr = 5e-3;
  o.warmup = 3;
  o.seed = seed;
  o.threads = 1;
  o.checkpoint_dir = checkpoint_dir;
  o.checkpoint_every = checkpoint_every;
  o.stop_after = stop_after;
  std::vector<double> losses;
  o.on_step = [&](const StepInfo& s) { losses.push_back(s.loss); };
  train(m, fixed_examples(), {}, o);
  return losses;
}

TEST(LlamaTrainer, SameSeedSameLosses) {
  auto a = run_losses(5, 42), b = run_losses(5, 42), c = run_losses(5, 43);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.back(), c.back());
}

TEST(LlamaTrainer, ResumeContinuesTheSameTrajectory) {
  TempDir dir("trainer-resume");
  auto full = run_losses(10, 5);
  auto first = run_losses(10, 5, dir / "ckpt", 5, 5);  // interrupted after step 5 (its checkpoint)
  ASSERT_TRUE(std::filesystem::exists(dir / "ckpt" / "optimizer.pt"));
  ASSERT_TRUE(std::filesystem::exists(dir / "ckpt" / "trainer_state.json"));

  auto m = LlamaTrainer::load_checkpoint(dir / "ckpt");
  TrainOptions o;
  o.steps = 10;
  o.batch = 2;
  o.seq_len = 32;
  o.lr = 5e-3;
  o.warmup = 3;
  o.seed = 5;
  o.threads = 1;
  o.resume_from = dir / "ckpt";
  std::vector<double> rest;
  o.on_step = [&](const StepInfo& s) { rest.push_back(s.loss); };
  auto result = train(m, fixed_examples(), {}, o);
  EXPECT_EQ(result.first_step, 6);
  ASSERT_EQ(rest.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(first[i], full[i]);
    EXPECT_EQ(rest[i], full[5 + i]) << "step " << 6 + i;
  }
}

TEST(TrainLoop, ScheduleWarmsUpThenDecaysToTenPercent) {
  TrainOptions o;
  o.steps = 100;
  o.warmup = 10;
  o.lr = 1e-3;
  EXPECT_NEAR(learning_rate(o, 1), 1e-4, 1e-12);
  EXPECT_NEAR(learning_rate(o, 10), 1e-3, 1e-12);
  EXPECT_NEAR(learning_rate(o, 55), 0.55e-3, 1e-9);
  EXPECT_NEAR(learning_rate(o, 100), 1e-4, 1e-12);
}

TEST(TrainLoop, ReadsJsonlAndRejectsBadLines) {
  TempDir dir("trainer-jsonl");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  };
  auto ok = read_examples_jsonl(write("ok.jsonl", "{\"ids\":[1,2,3],\"mask\":[0,1,1]}\n\n{\"ids\":[4]}\n"), 64);
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[0].mask, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(ok[1].mask, (std::vector<uint8_t>{1}));
  EXPECT_EQ(read_examples_jsonl(write("task.jsonl", "{\"ids\":[1,2],\"task\":\"recall\"}\n"), 64)[0].task, "recall");
  auto message = [&](const std::string& text) {
    try {
      read_examples_jsonl(write("bad.jsonl", text), 64);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{\"ids\":[1,2]}\nnot json\n").find("bad.jsonl:2: not valid JSON"), std::string::npos);
  EXPECT_NE(message("{\"ids\":[1,2],\"mask\":[1]}\n").find("mask has 1 entries"), std::string::npos);
  EXPECT_NE(message("{\"ids\":[1,64]}\n").find("outside the vocabulary"), std::string::npos);
  EXPECT_NE(message("").find("no examples"), std::string::npos);
  EXPECT_NE(message("{\"ids\":[1],\"task\":3}\n").find("task must be a string"), std::string::npos);
}

TEST(TargetLoss, SplitsTheLossByTaskAndByPositionInsideTargetRuns) {
  LlamaTrainer m(tiny_config(), 3);
  std::vector<TrainExample> examples(3);
  examples[0] = {sequence(10, 1), {0, 0, 1, 1, 1, 0, 1, 1, 0, 1}, "copy"};
  examples[1] = {sequence(8, 2), {1, 1, 1, 1, 0, 0, 1, 1}, "recall"};
  examples[2] = {sequence(6, 3), {0, 1, 0, 1, 1, 1}, "copy"};
  // Reference: each target token's loss alone, through LlamaTrainer::loss with a one-token mask.
  auto token_loss = [&](const TrainExample& e, size_t t) {
    auto ids = torch::tensor(e.ids, torch::kInt64).unsqueeze(0);
    auto mask = torch::zeros_like(ids);
    mask[0][static_cast<int64_t>(t)] = 1;
    return m.loss(ids, mask).item<double>();
  };
  // Expected buckets with 2 positions: [0] first token of each run, [1] the rest (t = 0 starts a run unscored).
  std::map<std::string, std::array<std::vector<double>, 2>> expected;
  const std::vector<std::vector<int>> bucket = {{-1, -1, 0, 1, 1, -1, 0, 1, -1, 0}, {-1, 1, 1, 1, -1, -1, 0, 1},
                                                {-1, 0, -1, 0, 1, 1}};
  for (size_t i = 0; i < examples.size(); ++i)
    for (size_t t = 0; t < bucket[i].size(); ++t)
      if (bucket[i][t] >= 0) {
        const double v = token_loss(examples[i], t);
        expected[examples[i].task][static_cast<size_t>(bucket[i][t])].push_back(v);
        expected["all"][static_cast<size_t>(bucket[i][t])].push_back(v);
      }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  const auto report = score_targets(m, examples, 2, 64);
  ASSERT_EQ(report.rows.size(), 3u);
  EXPECT_EQ(report.rows[0].task, "all");
  EXPECT_EQ(report.rows[1].task, "copy");
  EXPECT_EQ(report.rows[2].task, "recall");
  EXPECT_EQ(report.rows[0].examples, 3);
  EXPECT_EQ(report.rows[1].examples, 2);
  for (const auto& row : report.rows) {
    const auto& want = expected[row.task];
    ASSERT_EQ(row.position_count, (std::vector<int64_t>{static_cast<int64_t>(want[0].size()),
                                                         static_cast<int64_t>(want[1].size())})) << row.task;
    EXPECT_EQ(row.targets, row.position_count[0] + row.position_count[1]);
    EXPECT_NEAR(row.position_loss[0], mean(want[0]), 1e-4) << row.task;
    EXPECT_NEAR(row.position_loss[1], mean(want[1]), 1e-4) << row.task;
    std::vector<double> both = want[0];
    both.insert(both.end(), want[1].begin(), want[1].end());
    EXPECT_NEAR(row.loss, mean(both), 1e-4) << row.task;
  }
  // Cutting to seq_len drops the later targets; the table names every column.
  EXPECT_EQ(score_targets(m, examples, 2, 4).rows[0].targets, 2 + 3 + 2);
  EXPECT_NE(report.table().find("2+"), std::string::npos) << report.table();
  EXPECT_EQ(report.to_json()[2]["task"], "recall");
  EXPECT_THROW(score_targets(m, examples, 0, 64), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::training
