// `chorus train model` as a user runs it: a tiny run on generated JSONL writes a model directory that `chorus model
// info` loads, plus the loss log; bad input fails with one line and exit status 1.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace chorus::testing {
namespace {

size_t line_count(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// n examples: a short "prompt" (mask 0) then a "reply" (mask 1) that copies it, ids < 64.
std::string examples(int n, uint32_t seed) {
  std::string out;
  uint32_t s = seed;
  for (int i = 0; i < n; ++i) {
    nlohmann::json ids = nlohmann::json::array(), mask = nlohmann::json::array();
    std::vector<int64_t> prompt;
    for (int k = 0; k < 6; ++k) {
      s = s * 1664525u + 1013904223u;
      prompt.push_back(3 + static_cast<int64_t>((s >> 8) % 60));
    }
    ids.push_back(1);
    mask.push_back(0);
    for (auto p : prompt) ids.push_back(p), mask.push_back(0);
    for (auto p : prompt) ids.push_back(p), mask.push_back(1);
    ids.push_back(2);
    mask.push_back(1);
    out += nlohmann::json{{"ids", ids}, {"mask", mask}}.dump() + "\n";
  }
  return out;
}

const char* kConfig = R"({"vocab_size": 64, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128, "bos_token_id": 1,
  "eos_token_id": 2})";

TEST(TrainModelCli, TinyRunWritesALoadableModelAndLossLog) {
  TempDir tmp("train-model");
  write_file(tmp / "train.jsonl", examples(64, 1));
  write_file(tmp / "eval.jsonl", examples(8, 2));
  write_file(tmp / "config.json", kConfig);
  const auto out = tmp / "model";
  auto trained = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--eval",
                             (tmp / "eval.jsonl").string(), "--config", (tmp / "config.json").string(), "--out",
                             out.string(), "--steps", "20", "--batch", "4", "--seq-len", "64", "--lr", "3e-3",
                             "--warmup", "5", "--threads", "1", "--eval-every", "10", "--log-every", "5",
                             "--checkpoint-every", "10"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err << trained.out;
  EXPECT_NE(trained.out.find("step 20/20 loss "), std::string::npos) << trained.out;
  EXPECT_NE(trained.out.find("eval step 20 loss "), std::string::npos) << trained.out;
  EXPECT_NE(trained.out.find("trained " + out.string() + ": "), std::string::npos) << trained.out;
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "train_log.jsonl",
                        "checkpoint/optimizer.pt", "checkpoint/trainer_state.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;

  const auto log = read_file(out / "train_log.jsonl");
  EXPECT_EQ(line_count(log), 22u) << log;  // 20 steps + 2 evaluations
  std::istringstream lines(log);
  std::string line;
  std::vector<double> losses;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) losses.push_back(j["loss"].get<double>());
  }
  ASSERT_EQ(losses.size(), 20u);
  EXPECT_LT(losses.back(), losses.front());

  auto info = run_chorus({"model", "info", "--model", out.string()});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(j["dtype"], "BF16");
  EXPECT_EQ(j["layers"], 2);
  EXPECT_EQ(j["vocab_size"], 64);
  EXPECT_EQ(j["eos_token_ids"], nlohmann::json::array({2}));

  auto logits = run_chorus({"model", "logits", "--model", out.string(), "--ids", "1,5,6,7"});
  EXPECT_EQ(logits.exit_code, 0) << logits.err;

  // Resuming the checkpoint at step 20 with a longer schedule continues from step 21.
  auto resumed = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--resume",
                             (out / "checkpoint").string(), "--out", (tmp / "model2").string(), "--steps", "25",
                             "--batch", "4", "--seq-len", "64", "--threads", "1", "--dtype", "f32"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("step 21/25"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("steps 21-25"), std::string::npos) << resumed.out;

  // --init starts the next stage from the trained weights with a fresh schedule: step 1 sees the same batch as the
  // first run's step 1 (same seed), now with trained weights, so its loss is lower.
  auto staged = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--init", out.string(),
                            "--out", (tmp / "stage2").string(), "--steps", "3", "--batch", "4", "--seq-len", "64",
                            "--threads", "1", "--log-every", "1"});
  ASSERT_EQ(staged.exit_code, 0) << staged.err;
  EXPECT_NE(staged.out.find("step 1/3"), std::string::npos) << staged.out;
  const auto stage2_log = read_file(tmp / "stage2" / "train_log.jsonl");
  const auto first = nlohmann::json::parse(stage2_log.substr(0, stage2_log.find('\n')));
  EXPECT_LT(first["loss"].get<double>(), losses.front());
  auto both = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--init", out.string(),
                          "--preset", "tiny", "--out", (tmp / "stage3").string()});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("drop --config, --preset and --resume"), std::string::npos) << both.err;
}

TEST(TrainModelCli, ScoreSplitsTheHeldOutLossByTaskAndPosition) {
  TempDir tmp("train-score");
  write_file(tmp / "train.jsonl", examples(8, 1));
  write_file(tmp / "config.json", kConfig);
  // Two tasks: the copy examples, and the same lines labelled "recall".
  std::string labelled, line;
  std::istringstream lines(examples(3, 5));
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    j["task"] = "recall";
    labelled += j.dump() + "\n";
  }
  write_file(tmp / "eval.jsonl", examples(5, 2) + labelled);
  const auto model = tmp / "model";
  auto trained = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--config",
                             (tmp / "config.json").string(), "--out", model.string(), "--steps", "1", "--threads", "1"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  auto scored = run_chorus({"train", "score", "--model", model.string(), "--data", (tmp / "eval.jsonl").string(),
                            "--positions", "3", "--json", "--threads", "1"});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  const auto rows = nlohmann::json::parse(scored.out);
  ASSERT_EQ(rows.size(), 3u) << scored.out;
  EXPECT_EQ(rows[0]["task"], "all");
  EXPECT_EQ(rows[1]["task"], "");
  EXPECT_EQ(rows[2]["task"], "recall");
  // Every example has one run of 7 targets (6 copied tokens and the end id): positions 1, 2 and 3-7.
  EXPECT_EQ(rows[0]["targets"], 8 * 7);
  EXPECT_EQ(rows[0]["position_count"], (std::vector<int64_t>{8, 8, 40}));
  EXPECT_EQ(rows[2]["position_count"], (std::vector<int64_t>{3, 3, 15}));
  EXPECT_GT(rows[0]["loss"].get<double>(), 0.0);
  auto table = run_chorus({"train", "score", "--model", model.string(), "--data", (tmp / "eval.jsonl").string(),
                           "--max", "5", "--positions", "3"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("3+"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(no task)"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("recall"), std::string::npos) << table.out;  // --max 5: the copy examples only

  write_file(tmp / "big.jsonl", "{\"ids\": [1, 2, 300]}\n");
  auto bad = run_chorus({"train", "score", "--model", model.string(), "--data", (tmp / "big.jsonl").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(line_count(bad.err), 1u) << bad.err;
  EXPECT_NE(bad.err.find("chorus train score: error: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("300 is outside the vocabulary [0, 64)"), std::string::npos) << bad.err;
  auto no_model = run_chorus({"train", "score", "--model", (tmp / "none").string(), "--data",
                              (tmp / "eval.jsonl").string()});
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_EQ(line_count(no_model.err), 1u) << no_model.err;
}

TEST(TrainModelCli, TokenizerFilesAndStopIdsComeWithTheModel) {
  TempDir tmp("train-model");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "What is " + std::to_string(i) + " times 7? It is a number. ";
  write_file(tmp / "text.txt", text);
  auto tok = run_chorus({"train", "tokenizer", "--text", (tmp / "text.txt").string(), "--vocab-size", "300", "--out",
                         (tmp / "tok").string()});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  write_file(tmp / "train.jsonl", examples(16, 1));
  const auto out = tmp / "model";
  auto trained = run_chorus({"train", "model", "--data", (tmp / "train.jsonl").string(), "--preset", "tiny",
                             "--vocab-size", "320", "--tokenizer", (tmp / "tok").string(), "--out", out.string(),
                             "--steps", "2", "--batch", "4", "--seq-len", "64", "--threads", "1"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err << trained.out;
  auto tokenizer = nlohmann::json::parse(read_file(out / "tokenizer.json"));
  std::map<std::string, int64_t> ids;
  for (const auto& t : tokenizer["added_tokens"]) ids[t["content"]] = t["id"];
  const nlohmann::json stops = {ids.at("<|im_end|>"), ids.at("<|endoftext|>")};
  EXPECT_EQ(nlohmann::json::parse(read_file(out / "config.json"))["eos_token_id"], stops);
  EXPECT_EQ(nlohmann::json::parse(read_file(out / "generation_config.json"))["eos_token_id"], stops);
  EXPECT_TRUE(nlohmann::json::parse(read_file(out / "tokenizer_config.json"))["chat_template"].is_string());
  // The chat template renders with the model's own files (what the local provider uses).
  write_file(tmp / "chat.json", R"({"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": true})");
  auto rendered = run_chorus({"chat-template", "--model", out.string(), "--input", (tmp / "chat.json").string()});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  EXPECT_NE(rendered.out.find("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), std::string::npos)
      << rendered.out;
}

TEST(TrainModelCli, ANewModelTakesItsVocabularySizeFromTheTokenizer) {
  TempDir tmp("train-model-vocab");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "What is " + std::to_string(i) + " plus 9? It is a sum. ";
  write_file(tmp / "text.txt", text);
  ASSERT_EQ(run_chorus({"train", "tokenizer", "--text", (tmp / "text.txt").string(), "--vocab-size", "300", "--out",
                        (tmp / "tok").string()})
                .exit_code,
            0);
  write_file(tmp / "train.jsonl", examples(16, 1));
  write_file(tmp / "config.json", kConfig);
  auto train = [&](const std::vector<std::string>& model, const std::string& out) {
    std::vector<std::string> args = {"train", "model", "--data", (tmp / "train.jsonl").string(), "--tokenizer",
                                     (tmp / "tok").string(), "--out", (tmp / out).string(), "--steps", "1",
                                     "--batch", "2", "--seq-len", "32", "--threads", "1"};
    args.insert(args.end(), model.begin(), model.end());
    return run_chorus(args);
  };
  // The tiny preset has 512 rows; with a tokenizer of at most 300 tokens the model gets 320 (a multiple of 64 above
  // every id).
  auto sized = train({"--preset", "tiny"}, "sized");
  ASSERT_EQ(sized.exit_code, 0) << sized.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(tmp / "sized" / "config.json"))["vocab_size"], 320);
  // A vocabulary too small for the tokenizer is refused before training, naming the size it needs.
  auto small = train({"--preset", "tiny", "--vocab-size", "256"}, "small");
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.err.find("--vocab-size 256 is too small"), std::string::npos) << small.err;
  int64_t bound = 0;
  const auto tokenizer = nlohmann::json::parse(read_file(tmp / "tok" / "tokenizer.json"));
  for (const auto& [token, id] : tokenizer["model"]["vocab"].items()) bound = std::max<int64_t>(bound, id.get<int64_t>() + 1);
  for (const auto& token : tokenizer["added_tokens"]) bound = std::max<int64_t>(bound, token["id"].get<int64_t>() + 1);
  EXPECT_NE(small.err.find("give at least " + std::to_string(bound)), std::string::npos) << small.err;
  auto config = train({"--config", (tmp / "config.json").string()}, "config");
  EXPECT_EQ(config.exit_code, 1);
  EXPECT_NE(config.err.find("vocab_size 64 is too small"), std::string::npos) << config.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "small" / "model.safetensors"));
}

TEST(TrainModelCli, BadInputIsOneLineAndExitOne) {
  TempDir tmp("train-model-bad");
  write_file(tmp / "config.json", kConfig);
  write_file(tmp / "bad.jsonl", "{\"ids\": [1, 2, 3]}\n{\"ids\": [1, 2], \"mask\": [1]}\n");
  write_file(tmp / "big.jsonl", "{\"ids\": [1, 2, 300]}\n");
  auto run = [&](const std::string& data, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"train", "model", "--data", data, "--config", (tmp / "config.json").string(),
                                     "--out", (tmp / "out").string(), "--steps", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_chorus(args);
  };
  struct Case {
    ProcessResult result;
    std::string expect;
  };
  std::vector<Case> cases = {
      {run((tmp / "missing.jsonl").string()), "missing.jsonl: no such file"},
      {run((tmp / "bad.jsonl").string()), "bad.jsonl:2: mask has 1 entries, ids has 2"},
      {run((tmp / "big.jsonl").string()), "300 is outside the vocabulary [0, 64)"},
      {run((tmp / "bad.jsonl").string(), {"--dtype", "f16"}), "--dtype 'f16': expected bf16 or f32"},
      {run((tmp / "bad.jsonl").string(), {"--device", "tpu"}), "--device 'tpu'"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.result.exit_code, 1) << c.expect << "\n" << c.result.err;
    EXPECT_EQ(line_count(c.result.err), 1u) << c.result.err;
    EXPECT_NE(c.result.err.find("chorus train model: error: "), std::string::npos) << c.result.err;
    EXPECT_NE(c.result.err.find(c.expect), std::string::npos) << c.result.err;
  }
  auto no_config = run_chorus({"train", "model", "--data", (tmp / "bad.jsonl").string(), "--out", (tmp / "o").string()});
  EXPECT_EQ(no_config.exit_code, 1);
  EXPECT_NE(no_config.err.find("--config FILE or --preset NAME"), std::string::npos) << no_config.err;
}

}  // namespace
}  // namespace chorus::testing

namespace chorus::testing {
namespace {

// The (x, y) pixel coordinates of the polyline of the series named `name` in an SVG chart.
std::vector<std::pair<double, double>> series_points(const std::string& svg, const std::string& name) {
  std::vector<std::pair<double, double>> out;
  const auto at = svg.find("data-name=\"" + name + "\"");
  if (at == std::string::npos) return out;
  const auto begin = svg.find("points=\"", at) + 8, end = svg.find('"', begin);
  std::istringstream points(svg.substr(begin, end - begin));
  std::string pair;
  while (points >> pair) {
    const auto comma = pair.find(',');
    out.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return out;
}

// scripts/train-chorus-tiny appends its stages' logs into one file whose steps restart at each stage; the plot
// draws the second stage after the first instead of on top of it.
TEST(TrainPlotCli, DrawsAStagedLogStageAfterStage) {
  TempDir dir("train-plot");
  std::string log;
  for (int stage = 0; stage < 2; ++stage)
    for (int step = 1; step <= 8; ++step) {
      log += nlohmann::json{{"step", step}, {"loss", 4.0 - 2 * stage}}.dump() + "\n";
      if (step % 4 == 0) log += nlohmann::json{{"step", step}, {"eval_loss", 3.5 - 2 * stage}}.dump() + "\n";
    }
  std::ofstream(dir / "log.jsonl") << log;
  const std::string svg_file = (dir / "loss.svg").string();
  auto r = run_chorus({"train", "plot", "--log", (dir / "log.jsonl").string(), "--out", svg_file, "--smooth", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::stringstream svg;
  svg << std::ifstream(svg_file).rdbuf();
  EXPECT_NE(svg.str().find("the 2 stages one after another"), std::string::npos) << svg.str();
  std::set<double> eval_xs;
  for (const auto& p : series_points(svg.str(), "held-out loss")) eval_xs.insert(p.first);
  EXPECT_EQ(eval_xs.size(), 4u) << "four distinct steps 4, 8, 12, 16\n" << svg.str();
  // The training loss is averaged within a stage: 4 in the first, 2 in the second, never a blend of both.
  const auto train = series_points(svg.str(), "training loss (mean of 4 steps)");
  std::set<double> train_xs, train_ys;
  for (const auto& p : train) train_xs.insert(p.first), train_ys.insert(p.second);
  EXPECT_EQ(train_xs.size(), 16u) << svg.str();
  EXPECT_EQ(train_ys.size(), 2u) << svg.str();

  std::ofstream(dir / "bad.jsonl") << "{\"loss\": 1}\n";
  auto bad = run_chorus({"train", "plot", "--log", (dir / "bad.jsonl").string(), "--out", svg_file});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.jsonl:1: not a training log line"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace chorus::testing
