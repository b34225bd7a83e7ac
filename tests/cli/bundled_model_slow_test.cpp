// The bundled model, models/chorus-tiny: its layout is the one the issue promised, and its quality on the held-out
// split is still what its model card states (eval.json and eval_unseen_words.json beside it, written by
// scripts/train-chorus-tiny). A change to
// the engine, the chat template, the tokenizer or the curriculum's held-out split that costs the model its skills
// fails here. About a minute on 2 cores.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

namespace chorus::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kModel = repo_dir() / "models" / "chorus-tiny";

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in, nullptr, false);
}

TEST(BundledModel, HasTheHuggingFaceLayoutWithinTheSizeLimits) {
  for (const char* file : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                           "tokenizer_config.json", "q_filters.safetensors", "MODEL_CARD.md", "loss.svg", "eval.json",
                           "eval_unseen_words.json"})
    EXPECT_TRUE(fs::is_regular_file(kModel / file)) << file;
  EXPECT_LE(fs::file_size(kModel / "model.safetensors"), 40u << 20);
  auto info = run_chorus({"model", "info", "--model", kModel.string()});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const json summary = json::parse(info.out);
  EXPECT_EQ(summary["dtype"], "BF16");
  EXPECT_LE(summary["parameters"].get<int64_t>(), 20'000'000);
  EXPECT_TRUE(summary["has_tokenizer"].get<bool>());
  // The chat template renders tool calls in the Qwen2.5/Hermes format the model was trained on.
  EXPECT_NE(read_json(kModel / "tokenizer_config.json")["chat_template"].get<std::string>().find("<tool_call>"),
            std::string::npos);
}

// The same measurements as the card's (200 held-out tool questions, 20 passkeys per length; the same questions with
// unseen operation words, eval_unseen_words.json), with a margin for floating-point differences between CPUs, where
// greedy decoding can flip a near-tie: 3 points (6 questions) of the tool metrics, one passkey of 20.
TEST(BundledModel, KeepsTheQualityItsModelCardStates) {
  constexpr double kMargin = 0.03, kPasskeyMargin = 0.05 + 1e-9;
  for (const auto& [questions, file] : {std::pair<std::string, std::string>{"held-out", "eval.json"},
                                        {"unseen-words", "eval_unseen_words.json"}}) {
    SCOPED_TRACE(questions);
    const json card = read_json(kModel / file);
    ASSERT_TRUE(card.is_object()) << "models/chorus-tiny/" << file;
    ASSERT_EQ(card["split"], questions);
    const std::string passkeys = std::to_string(card["passkey"].empty() ? 0 : card["passkey"][0]["examples"].get<int>());
    auto r = run_chorus({"train", "eval", "--model", kModel.string(), "--questions", questions, "--tool-examples", "200",
                         "--passkey-examples", passkeys, "--passkey-lengths", "256,1024,2048", "--json", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json now = json::parse(r.out);
    EXPECT_EQ(now["split"], questions);
    for (const char* metric : {"format_valid", "right_call", "answer_states_result"})
      EXPECT_GE(now[metric].get<double>(), card[metric].get<double>() - kMargin) << metric << "\n" << r.out;
    // Calls held to the tools' schemas (the local provider's default) parse: only one cut off by max_tokens can fail.
    EXPECT_TRUE(now["constrained_tool_calls"].get<bool>());
    EXPECT_GE(now["format_valid"].get<double>(), 0.99) << r.out;
    ASSERT_EQ(now["passkey"].size(), card["passkey"].size()) << r.out;
    for (size_t i = 0; i < card["passkey"].size(); ++i) {
      if (card["passkey"][i]["accuracy"].is_null()) continue;
      EXPECT_GE(now["passkey"][i]["accuracy"].get<double>(),
                card["passkey"][i]["accuracy"].get<double>() - kPasskeyMargin)
          << "passkey at " << card["passkey"][i]["length"] << " tokens\n" << r.out;
    }
  }
  // --unconstrained measures the model alone, and says so.
  auto alone = run_chorus({"train", "eval", "--model", kModel.string(), "--unconstrained", "--tool-examples", "4",
                           "--passkey-examples", "0", "--quiet"});
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_NE(alone.out.find("unconstrained tool calls"), std::string::npos) << alone.out;
  // The question sets are named; another name is refused with the list.
  auto unknown = run_chorus({"train", "eval", "--model", kModel.string(), "--questions", "held_out"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("held-out"), std::string::npos) << unknown.err;
}

// --failures N lists up to N misses of each kind, each with its curriculum task: every miss the rates count, when N
// is large enough, and none with 0.
TEST(BundledModel, TrainEvalListsEveryMissWhenAskedTo) {
  auto eval = [](const char* failures) {
    auto r = run_chorus({"train", "eval", "--model", kModel.string(), "--tool-examples", "24", "--passkey-examples",
                         "2", "--passkey-lengths", "256", "--json", "--quiet", "--failures", failures});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  };
  const json all = eval("1000");
  ASSERT_TRUE(all.is_object());
  std::map<std::string, int64_t> listed;
  for (const auto& f : all["failures"]) {
    listed[f["kind"].get<std::string>()] += 1;
    EXPECT_FALSE(f["task"].get<std::string>().empty()) << f.dump();
  }
  const auto misses = [&](const char* metric) {
    return 24 - static_cast<int64_t>(std::lround(all[metric].get<double>() * 24));
  };
  EXPECT_EQ(listed["format"], misses("format_valid"));
  EXPECT_EQ(listed["format"] + listed["call"], misses("right_call"));
  EXPECT_EQ(listed["answer"], misses("answer_states_result"));
  EXPECT_EQ(listed["passkey"], 2 - static_cast<int64_t>(std::lround(all["passkey"][0]["accuracy"].get<double>() * 2)));
  EXPECT_TRUE(eval("0")["failures"].empty());
  EXPECT_NE(run_chorus({"train", "eval", "--model", kModel.string(), "--failures", "-1"}).exit_code, 0);
}

// What was not measured is null in the JSON and absent from the table, not 0%; a required minimum on it fails.
TEST(BundledModel, TrainEvalReportsOnlyWhatItMeasured) {
  const std::vector<std::string> passkeys_only = {"train", "eval", "--model", kModel.string(), "--tool-examples", "0",
                                                  "--passkey-examples", "1", "--passkey-lengths", "256", "--quiet"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = passkeys_only;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_chorus(args);
  };
  auto as_json = with({"--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json j = json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << as_json.out;
  for (const char* metric : {"format_valid", "right_call", "exact_arguments", "answer_states_result"})
    EXPECT_TRUE(j[metric].is_null()) << metric << ": " << j[metric];
  ASSERT_EQ(j["passkey"].size(), 1u);
  EXPECT_TRUE(j["passkey"][0]["accuracy"].is_number());
  auto table = with({});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.find("tool-call format"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("| passkey at 256 tokens (full cache) |"), std::string::npos) << table.out;
  auto required = with({"--min-call", "0.5"});
  EXPECT_EQ(required.exit_code, 1);
  EXPECT_NE(required.err.find("right_call was not measured"), std::string::npos) << required.err;
}

}  // namespace
}  // namespace chorus::testing
