// `chorus tokenize | detokenize | chat-template | model generate` on the shared fixtures (expected outputs
// from Hugging Face's own libraries), as other programs call them.
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace chorus::testing {
namespace {

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

std::filesystem::path fixtures() { return shared_dir() / "fixtures"; }

std::vector<nlohmann::json> read_cases(const std::filesystem::path& file, size_t limit) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  std::string line;
  while (out.size() < limit && std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

class TextCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(fixtures())) GTEST_SKIP() << "missing " << fixtures();
  }
};

TEST_F(TextCli, TokenizeAndDetokenizeMatchHuggingFace) {
  const auto dir = fixtures() / "tokenizers/llama3";
  int checked = 0;
  for (const auto& c : read_cases(dir / "cases.jsonl", 200)) {
    if (c["category"] != "prose" && c["category"] != "numbers") continue;
    const std::string text = c["text"];
    if (text.empty() || text[0] == '-') continue;
    auto plain = chorus({"tokenize", "--model", dir.string(), "--text", text});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(nlohmann::json::parse(plain.out)["ids"], c["ids"]) << text;
    auto special = chorus({"tokenize", "--model", dir.string(), "--text", text, "--add-special"});
    EXPECT_EQ(nlohmann::json::parse(special.out)["ids"], c["ids_with_special"]) << text;
    std::string ids;
    for (const auto& id : c["ids"]) {
      if (!ids.empty()) ids.push_back(',');
      ids.append(id.dump());
    }
    auto decoded = chorus({"detokenize", "--model", dir.string(), "--ids", ids});
    EXPECT_EQ(decoded.out, c["decoded"].get<std::string>()) << text;
    if (++checked == 6) break;
  }
  EXPECT_EQ(checked, 6);
  auto bad = chorus({"detokenize", "--model", dir.string(), "--ids", "5,999999"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("999999 is not a token id"), std::string::npos) << bad.err;
  auto missing = chorus({"tokenize", "--model", (fixtures() / "nope").string(), "--text", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("tokenizer.json: missing"), std::string::npos) << missing.err;
}

TEST_F(TextCli, ChatTemplateRendersByteForByte) {
  // The llama3 tokenizer folder carries Llama-3.1-8B-Instruct's tokenizer_config.json and template.
  const auto model = fixtures() / "tokenizers/llama3";
  TempDir tmp("chat-cli");
  int checked = 0;
  for (const auto& c : read_cases(fixtures() / "chat_templates/meta-llama-Llama-3.1-8B-Instruct/cases.jsonl", 100)) {
    if (!c.contains("rendered") || c["rendered"].is_null()) continue;
    nlohmann::json input = c["extra_context"].is_object() ? c["extra_context"] : nlohmann::json::object();
    input["messages"] = c["messages"];
    input["tools"] = c["tools"];
    input["add_generation_prompt"] = c["add_generation_prompt"];
    std::ofstream(tmp / "input.json") << input.dump();
    auto r = chorus({"chat-template", "--model", model.string(), "--input", (tmp / "input.json").string()});
    ASSERT_EQ(r.exit_code, 0) << c["name"] << ": " << r.err;
    EXPECT_EQ(r.out, c["rendered"].get<std::string>()) << c["name"];
    if (++checked == 4) break;
  }
  EXPECT_EQ(checked, 4);
  std::ofstream(tmp / "bad.json")
      << R"({"messages": [{"role": "user", "content": "Two calls"}, {"role": "assistant", "content": null, "tool_calls": [)"
      << R"({"type": "function", "function": {"name": "t", "arguments": {}}},)"
      << R"({"type": "function", "function": {"name": "t", "arguments": {}}}]}]})";
  auto raised = chorus({"chat-template", "--model", model.string(), "--input", (tmp / "bad.json").string()});
  EXPECT_EQ(raised.exit_code, 1) << raised.out;
  EXPECT_NE(raised.err.find("This model only supports single tool-calls at once!"), std::string::npos) << raised.err;
  EXPECT_NE(raised.err.find("chorus chat-template: error:"), std::string::npos) << raised.err;
}

TEST_F(TextCli, GenerateFromChatPrompt) {
  std::string why;
  if (!oracle_available(&why)) GTEST_SKIP() << why;
  TempDir dir("gen-cli");
  make_tiny_model(dir.path(), {"--arch", "qwen2", "--layers", "1", "--hidden", "32", "--heads", "2", "--kv-heads", "1",
                               "--intermediate", "64", "--vocab", "128005"});
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(fixtures() / "tokenizers/qwen2-style" / f, dir / f);
  std::ofstream(dir / "chat.json") << R"({"messages": [{"role": "user", "content": "What is 2+2?"}]})";
  auto r = chorus({"model", "generate", "--model", dir.path().string(), "--chat", (dir / "chat.json").string(),
                   "--max-new-tokens", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].size(), 6u);
  EXPECT_EQ(j["finish_reason"], "length");
  EXPECT_GT(j["prompt_tokens"].get<int>(), 10);
  EXPECT_TRUE(j["text"].is_string());
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0);
  // Greedy is the default: the same command gives the same ids; --ids gives the same as the rendered prompt.
  auto again = chorus({"model", "generate", "--model", dir.path().string(), "--chat", (dir / "chat.json").string(),
                       "--max-new-tokens", "6"});
  EXPECT_EQ(nlohmann::json::parse(again.out)["ids"], j["ids"]);
  auto none = chorus({"model", "generate", "--model", dir.path().string(), "--max-new-tokens", "2"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("--ids, --prompt or --chat"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace chorus::testing
