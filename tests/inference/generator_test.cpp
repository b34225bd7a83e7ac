// Generation on a random model with a real tokenizer: stop tokens, stop strings, callbacks, seeded sampling, tool-call
// constraints.
#include "inference/generator.h"
#include "inference/tokenizer.h"
#include "inference/tool-call-constraint.h"
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chorus::inference {
namespace {

using chorus::testing::TempDir;

class Generator : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!chorus::testing::oracle_available(&why)) return;
    dir_ = new TempDir("gen");
    // A random qwen2-shaped model whose vocabulary matches the qwen2-style fixture tokenizer (128005 ids).
    chorus::testing::make_tiny_model(dir_->path(), {"--arch", "qwen2", "--layers", "2", "--hidden", "64", "--heads",
                                                    "4", "--kv-heads", "2", "--intermediate", "128", "--vocab",
                                                    "128005", "--std", "0.1"});
    model_ = Model::load(dir_->path()).release();
    tokenizer_ = new Tokenizer(Tokenizer::from_file(chorus::testing::shared_dir() /
                                                    "fixtures/tokenizers/qwen2-style/tokenizer.json"));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
    delete dir_;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "oracle (/usr/bin/python3 + numpy, shared/oracle) unavailable";
  }
  GenerationResult run(GenerationRequest request, const TokenCallback& cb = nullptr) {
    auto cache = model_->new_cache();
    if (request.prompt.empty())
      for (auto id : tokenizer_->encode("The quick brown fox", false)) request.prompt.push_back(id);
    return generate(*model_, tokenizer_, cache, request, cb);
  }
  static TempDir* dir_;
  static Model* model_;
  static Tokenizer* tokenizer_;
};

TempDir* Generator::dir_ = nullptr;
Model* Generator::model_ = nullptr;
Tokenizer* Generator::tokenizer_ = nullptr;

TEST_F(Generator, GreedyRunsToLengthAndTextMatchesDecode) {
  GenerationRequest r;
  r.sampling.temperature = 0;
  r.max_new_tokens = 12;
  auto result = run(r);
  EXPECT_EQ(result.finish_reason, "length");
  ASSERT_EQ(result.ids.size(), 12u);
  std::vector<int32_t> ids(result.ids.begin(), result.ids.end());
  EXPECT_EQ(result.text, tokenizer_->decode(ids));
  EXPECT_EQ(result.prompt_tokens, static_cast<int64_t>(tokenizer_->encode("The quick brown fox", false).size()));
}

TEST_F(Generator, StopTokenEndsGenerationAndIsKeptInIdsNotText) {
  GenerationRequest r;
  r.sampling.temperature = 0;
  r.max_new_tokens = 12;
  auto full = run(r);
  r.stop_token_ids = {full.ids[3]};
  auto stopped = run(r);
  EXPECT_EQ(stopped.finish_reason, "stop");
  ASSERT_LE(stopped.ids.size(), 4u);
  EXPECT_EQ(stopped.ids.back(), full.ids[3]);
  std::vector<int32_t> before(stopped.ids.begin(), stopped.ids.end() - 1);
  EXPECT_EQ(stopped.text, tokenizer_->decode(before));
}

TEST_F(Generator, StopStringCutsTheText) {
  GenerationRequest r;
  r.sampling.temperature = 0;
  r.max_new_tokens = 12;
  auto full = run(r);
  ASSERT_GE(full.text.size(), 8u);
  const std::string stop = full.text.substr(full.text.size() / 2, 3);
  r.stop_strings = {stop};
  auto stopped = run(r);
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(stopped.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_LT(stopped.ids.size(), full.ids.size());
}

TEST_F(Generator, CallbackSeesEveryTokenAndCanStop) {
  GenerationRequest r;
  r.sampling.temperature = 0;
  r.max_new_tokens = 12;
  std::string streamed;
  int calls = 0;
  auto result = run(r, [&](int64_t, const std::string& text) {
    streamed += text;
    return ++calls < 5;
  });
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(result.ids.size(), 5u);
  EXPECT_EQ(result.finish_reason, "stop");
  EXPECT_EQ(streamed, result.text);
}

TEST_F(Generator, SeededSamplingIsReproducible) {
  GenerationRequest r;
  r.sampling = {.temperature = 1.0, .top_p = 0.9, .seed = 1234};
  r.max_new_tokens = 10;
  auto a = run(r), b = run(r);
  EXPECT_EQ(a.ids, b.ids);
  r.sampling.seed = 99;
  auto c = run(r);
  EXPECT_NE(a.ids, c.ids);
}

// A tool-call constraint shapes what even a random model writes: started inside a call, the output is a whole
// call of the offered tool with arguments its schema takes, then </tool_call>; without it, the same draws are not.
TEST_F(Generator, ToolCallConstraintMakesEvenARandomModelWriteAValidCall) {
  auto trie = std::make_shared<const TokenTrie>(TokenTrie::of(*tokenizer_));
  const auto schema = compile_tool_call_schema({{"set_unit", nlohmann::json::parse(R"({
      "type": "object", "additionalProperties": false, "required": ["unit", "on"],
      "properties": {"unit": {"enum": ["days", "weeks"]}, "on": {"type": "boolean"}}})")}});
  for (uint64_t seed : {1, 2, 3}) {
    ToolCallConstraint constraint(trie, schema);
    constraint.begin_call();
    GenerationRequest r;
    r.sampling.temperature = 1.0;
    r.sampling.seed = seed;
    r.max_new_tokens = 800;  // whitespace runs are bounded, so a call ends well within this
    r.constraint = &constraint;
    for (auto id : tokenizer_->encode("Call the tool.<tool_call>", false)) r.prompt.push_back(id);
    const auto result = run(r);
    const size_t close = result.text.find("</tool_call>");
    ASSERT_NE(close, std::string::npos) << result.text;
    const auto call = nlohmann::json::parse(result.text.substr(0, close), nullptr, false);
    ASSERT_TRUE(call.is_object()) << result.text;
    EXPECT_EQ(call.value("name", ""), "set_unit");
    const auto arguments = call.value("arguments", nlohmann::json());
    ASSERT_TRUE(arguments.is_object()) << result.text;
    EXPECT_EQ(arguments.size(), 2u) << result.text;
    const std::string unit = arguments.value("unit", "");
    EXPECT_TRUE(unit == "days" || unit == "weeks") << result.text;
    EXPECT_TRUE(arguments.value("on", nlohmann::json()).is_boolean()) << result.text;

    r.constraint = nullptr;
    r.max_new_tokens = 60;
    const auto free = run(r);
    EXPECT_FALSE(nlohmann::json::parse(free.text.substr(0, free.text.find("</tool_call>")), nullptr, false).is_object())
        << free.text;
  }
}

TEST_F(Generator, RejectsEmptyPromptAndBadIds) {
  auto cache = model_->new_cache();
  GenerationRequest r;
  EXPECT_THROW(generate(*model_, tokenizer_, cache, r), std::invalid_argument);
  r.prompt = {5, 200000};
  EXPECT_THROW(generate(*model_, tokenizer_, cache, r), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::inference
