// `chorus train data` with the real calculator and calendar tools: every tool call succeeds (the command fails on
// a tool error), the JSONL is well formed and deterministic, and the corpus for the tokenizer needs no tokenizer.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace chorus::testing {
namespace {

std::string tokenizer_dir() { return (shared_dir() / "fixtures/tokenizers/qwen2-style").string(); }

TEST(TrainDataCli, RealToolsNoErrorsWellFormedAndDeterministic) {
  TempDir tmp("train-data");
  const std::vector<std::string> args = {"train", "data", "--tokenizer-dir", tokenizer_dir(), "--count", "400",
                                         "--seed", "5", "--passkey-lengths", "256,1024", "--eval-count", "100"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  auto r = run_chorus(with({"--out", (tmp / "a.jsonl").string(), "--eval-out", (tmp / "eval.jsonl").string(),
                            "--text-out", (tmp / "a.txt").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;  // a tool error would fail the command
  EXPECT_NE(r.out.find("0 errors"), std::string::npos) << r.out;
  const std::string a = read_file(tmp / "a.jsonl");
  std::istringstream lines(a);
  std::string line;
  std::set<std::string> tasks;
  size_t n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j["ids"].size(), j["mask"].size());
    EXPECT_LE(j["ids"].size(), 2304u);
    size_t masked = 0;
    for (const auto& m : j["mask"]) masked += m.get<int>();
    EXPECT_GT(masked, 0u);
    tasks.insert(j["task"].get<std::string>());
    ++n;
  }
  EXPECT_EQ(n, 400u);
  EXPECT_EQ(tasks, (std::set<std::string>{"calculator", "calendar", "chat", "multi", "passkey"}));
  const std::string text = read_file(tmp / "a.txt");
  EXPECT_NE(text.find("<tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": "), std::string::npos);
  EXPECT_NE(text.find("{\"name\": \"calendar\", \"arguments\": {\"operation\": "), std::string::npos);
  EXPECT_EQ(text.find("\"error\""), std::string::npos);
  const std::string eval = read_file(tmp / "eval.jsonl");
  EXPECT_EQ(std::count(eval.begin(), eval.end(), '\n'), 100);

  // Same seed: byte-identical; other seed: different.
  r = run_chorus(with({"--out", (tmp / "b.jsonl").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(tmp / "b.jsonl"), a);
  auto other = with({"--out", (tmp / "c.jsonl").string()});
  other[7] = "6";  // --seed
  r = run_chorus(other);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(tmp / "c.jsonl"), a);
  EXPECT_NE(eval.substr(0, 2000), a.substr(0, 2000));
}

TEST(TrainDataCli, CorpusWithoutTokenizerThenTrainTokenizer) {
  TempDir tmp("train-data-corpus");
  auto r = run_chorus({"train", "data", "--corpus-out", (tmp / "corpus.txt").string(), "--count", "300",
                       "--passkey-lengths", "256,512"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string corpus = read_file(tmp / "corpus.txt");
  EXPECT_NE(corpus.find("<|im_start|>assistant\n"), std::string::npos);
  r = run_chorus({"train", "tokenizer", "--text", (tmp / "corpus.txt").string(), "--vocab-size", "600", "--out",
                  (tmp / "tok").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The freshly trained tokenizer tokenizes the curriculum piecewise-consistently (the command checks each example).
  r = run_chorus({"train", "data", "--tokenizer-dir", (tmp / "tok").string(), "--out", (tmp / "t.jsonl").string(),
                  "--count", "200", "--passkey-lengths", "256,512"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(TrainDataCli, OneLineErrors) {
  TempDir tmp("train-data-err");
  auto r = run_chorus({"train", "data", "--out", (tmp / "x.jsonl").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--tokenizer-dir"), std::string::npos) << r.err;
  r = run_chorus({"train", "data", "--tokenizer-dir", tokenizer_dir(), "--out", (tmp / "x.jsonl").string(), "--mix",
                  "calculator=1,bogus=2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown task 'bogus'"), std::string::npos) << r.err;
  r = run_chorus({"train", "data", "--tokenizer-dir", (tmp / "none").string(), "--out", (tmp / "x.jsonl").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokenizer.json"), std::string::npos) << r.err;
  r = run_chorus({"train", "data", "--corpus-out", (tmp / "c.txt").string(), "--passkey-lengths", "900,100"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("passkey lengths"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace chorus::testing
