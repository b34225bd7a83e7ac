// `chorus train tokenizer` as a user runs it: train on a text file, then `chorus tokenize` / `chorus detokenize`
// with the written directory; and the one-line errors.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace chorus::testing {
namespace {

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

std::string corpus() {
  static const char* const words[] = {"the", "agent", "calls", "a", "tool", "with", "JSON", "arguments", "and",
                                      "reads", "café", "日本語", "result", "quickly", "🙂", "42", "3.14", "(ok)"};
  std::string out;
  uint32_t state = 11;
  for (int i = 0; i < 3000; ++i) {
    state = state * 1664525u + 1013904223u;
    out += words[(state >> 8) % 18];
    out += (i % 17 == 16) ? ".\n" : " ";
  }
  return out;
}

size_t line_count(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(TrainTokenizerCli, TrainsThenTokenizesHeldOutText) {
  TempDir tmp("train-tok");
  write_file(tmp / "a.txt", corpus());
  write_file(tmp / "b.txt", "<|im_start|>user\nhello there<|im_end|>\n");
  const auto out = tmp / "tok";
  auto trained = chorus({"train", "tokenizer", "--text", (tmp / "a.txt").string(), "--text", (tmp / "b.txt").string(),
                         "--vocab-size", "320", "--min-frequency", "2", "--out", out.string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_EQ(line_count(trained.out), 1u) << trained.out;
  EXPECT_NE(trained.out.find("vocab 320"), std::string::npos) << trained.out;
  EXPECT_NE(trained.out.find("bytes/token"), std::string::npos) << trained.out;
  ASSERT_TRUE(std::filesystem::exists(out / "tokenizer.json"));
  auto config = nlohmann::json::parse(read_file(out / "tokenizer_config.json"));
  EXPECT_EQ(config["eos_token"], "<|im_end|>");

  const std::string held_out = "<|im_start|>assistant\nThe tool result: 1234 — naïve 🤖 text!<|im_end|>";
  auto tokenized = chorus({"tokenize", "--model", out.string(), "--text", held_out});
  ASSERT_EQ(tokenized.exit_code, 0) << tokenized.err;
  auto ids = nlohmann::json::parse(tokenized.out)["ids"];
  ASSERT_GT(ids.size(), 3u);
  auto doc = nlohmann::json::parse(read_file(out / "tokenizer.json"));
  EXPECT_EQ(ids.front(), doc["added_tokens"][1]["id"]);  // <|im_start|>
  EXPECT_EQ(ids.back(), doc["added_tokens"][2]["id"]);   // <|im_end|>
  std::string csv;
  for (const auto& id : ids) {
    if (!csv.empty()) csv.push_back(',');
    csv += id.dump();
  }
  auto decoded = chorus({"detokenize", "--model", out.string(), "--ids", csv});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(decoded.out, held_out);

  // Same input, same file.
  auto again = chorus({"train", "tokenizer", "--text", (tmp / "a.txt").string(), "--text", (tmp / "b.txt").string(),
                       "--vocab-size", "320", "--out", (tmp / "tok2").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(tmp / "tok2/tokenizer.json"), read_file(out / "tokenizer.json"));

  // Without --chat-template the Chorus template (the one the curriculum is rendered with) is written.
  ASSERT_TRUE(config["chat_template"].is_string()) << config.dump();
  EXPECT_NE(config["chat_template"].get<std::string>().find("<tool_call>"), std::string::npos);
}

TEST(TrainTokenizerCli, CustomSpecialTokensAndChatTemplate) {
  TempDir tmp("train-tok");
  write_file(tmp / "a.txt", corpus());
  write_file(tmp / "t.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
  auto trained = chorus({"train", "tokenizer", "--text", (tmp / "a.txt").string(), "--vocab-size", "300", "--special",
                         "<s>", "--special", "<|im_end|>", "--chat-template", (tmp / "t.jinja").string(), "--out",
                         (tmp / "tok").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  auto doc = nlohmann::json::parse(read_file(tmp / "tok/tokenizer.json"));
  ASSERT_EQ(doc["added_tokens"].size(), 2u);
  EXPECT_EQ(doc["added_tokens"][0]["content"], "<s>");
  EXPECT_EQ(doc["added_tokens"][1]["id"], 299);
  auto config = nlohmann::json::parse(read_file(tmp / "tok/tokenizer_config.json"));
  EXPECT_EQ(config["chat_template"], "{% for m in messages %}{{ m.content }}{% endfor %}");
  EXPECT_EQ(config["eos_token"], "<|im_end|>");
  EXPECT_TRUE(config["pad_token"].is_null());  // <|endoftext|> is not among the special tokens
}

TEST(TrainTokenizerCli, ErrorsAreOneLineAndExitOne) {
  TempDir tmp("train-tok");
  write_file(tmp / "a.txt", corpus());
  auto expect_error = [](const ProcessResult& r, const std::string& needle) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("chorus train tokenizer: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  };
  expect_error(chorus({"train", "tokenizer", "--text", (tmp / "missing.txt").string(), "--vocab-size", "4096",
                       "--out", (tmp / "o").string()}),
               "missing.txt: no such file");
  expect_error(chorus({"train", "tokenizer", "--text", (tmp / "a.txt").string(), "--vocab-size", "260", "--out",
                       (tmp / "o").string()}),
               "at least 263");
  write_file(tmp / "file", "x");
  expect_error(chorus({"train", "tokenizer", "--text", (tmp / "a.txt").string(), "--vocab-size", "4096", "--out",
                       (tmp / "file/sub").string()}),
               "cannot create the output directory");
  EXPECT_FALSE(std::filesystem::exists(tmp / "o"));  // nothing is created when the input is bad
}

}  // namespace
}  // namespace chorus::testing
