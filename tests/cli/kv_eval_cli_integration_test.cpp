// `chorus kv eval` as other tools call it: the perplexity and passkey harness on tiny random models. Random
// models cannot retrieve a pass key, so these tests check the mechanics: the shared baseline, KV bytes per
// ratio, capped caches, per-cell errors, the written files and the one-line errors.
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace chorus::testing {
namespace {

using nlohmann::json;

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Two documents of deterministic pseudo-random ids below 256.
json id_documents() {
  json docs = json::array();
  uint64_t x = 12345;
  for (int d = 0; d < 2; ++d) {
    json ids = json::array();
    for (int i = 0; i < 250; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      ids.push_back(static_cast<int64_t>((x >> 33) % 256));
    }
    docs.push_back(ids);
  }
  return docs;
}

class KvEvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    make_tiny_model(dir_ / "model", {"--arch", "llama", "--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads",
                                     "2", "--intermediate", "128", "--vocab", "256", "--std", "0.1"});
    std::ofstream(dir_ / "ids.json") << id_documents().dump();
  }
  std::vector<std::string> perplexity_args(const std::string& methods, const std::string& ratios) {
    return {"kv", "eval", "--model", (dir_ / "model").string(), "--task", "perplexity", "--methods", methods,
            "--ratios", ratios, "--data", (dir_ / "ids.json").string(), "--context-tokens", "200",
            "--continuation-tokens", "40"};
  }
  TempDir dir_{"kv-eval-cli"};
};

TEST_F(KvEvalCli, PerplexitySharesTheBaselineAndScalesKvBytes) {
  auto args = perplexity_args("knorm,streaming,snapkv,compactor,random", "1,2,4,8");
  args.insert(args.end(), {"--json", "--out", (dir_ / "out").string()});
  auto r = chorus(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["task"], "perplexity");
  EXPECT_EQ(j["methods"], json({"knorm", "streaming", "snapkv", "compactor", "random"}));
  EXPECT_EQ(j["ratios"], json({1.0, 2.0, 4.0, 8.0}));
  const auto& base = j["baseline"];
  EXPECT_EQ(base["windows"], 2);  // one window per document (250 tokens >= 200 + 40)
  EXPECT_EQ(base["tokens"], 80);
  EXPECT_EQ(base["context_tokens"], 200);
  const double full = base["kv_bytes"].get<double>(), base_ppl = base["perplexity"].get<double>();
  EXPECT_GT(base_ppl, 1.0);
  ASSERT_EQ(j["results"].size(), 20u);
  std::map<std::pair<std::string, double>, json> cell;
  for (const auto& row : j["results"]) {
    ASSERT_FALSE(row.contains("error")) << row.dump();
    cell[{row["method"], row["ratio"]}] = row;
    const double ratio = row["ratio"], share = row["scoring_share"];
    EXPECT_EQ(row["keep_ratio"].get<double>(), 1.0 / ratio);
    EXPECT_GE(share, 0.0);
    EXPECT_LT(share, 1.0);
    if (ratio == 1.0) {
      // The full cache is computed once: every method's ratio-1 row is the baseline itself.
      EXPECT_EQ(row["perplexity"].get<double>(), base_ppl) << row.dump();
      EXPECT_EQ(row["kv_bytes"].get<double>(), full);
      EXPECT_EQ(row["kv_bytes_ratio"].get<double>(), 1.0);
      EXPECT_EQ(row["capped"], false);
      continue;
    }
    // KV bytes follow the kept entries: int(200 / R) of 200 per head (sinks and window count toward it).
    const double kept = std::floor(200.0 / ratio);
    EXPECT_NEAR(row["kv_bytes_ratio"].get<double>(), kept / 200.0, 1e-12) << row.dump();
    EXPECT_NEAR(row["kv_bytes"].get<double>(), full * kept / 200.0, 1e-6);
    EXPECT_NEAR(row["kv_bytes_ratio"].get<double>(), 1.0 / ratio, 1.0 / 200.0);
    const std::string method = row["method"];
    const bool can_evict = method == "knorm" || method == "streaming" || method == "random";
    EXPECT_EQ(row["capped"], can_evict) << method;
    if (can_evict) {
      EXPECT_EQ(row["kv_bytes_final"].get<double>(), row["kv_bytes"].get<double>()) << method;
      EXPECT_EQ(row["max_entries"], static_cast<int64_t>(kept)) << method;
    } else {
      EXPECT_GT(row["kv_bytes_final"].get<double>(), row["kv_bytes"].get<double>()) << method;  // grew
      EXPECT_EQ(row["max_entries"], static_cast<int64_t>(kept) + 39) << method;
    }
  }
  const std::pair<std::string, double> knorm4{"knorm", 4.0};
  EXPECT_NE(cell[knorm4]["perplexity"].get<double>(), base_ppl);

  // Files: the same JSON, the table, and an SVG with one line per method.
  auto written = json::parse(read_file(dir_ / "out" / "results.json"));
  EXPECT_EQ(written, j);
  const auto md = read_file(dir_ / "out" / "results.md");
  EXPECT_NE(md.find("| method | ratio | keep | perplexity |"), std::string::npos) << md;
  EXPECT_NE(md.find("| knorm | 4 | 0.250 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| full cache | 1 |"), std::string::npos) << md;
  const auto svg = read_file(dir_ / "out" / "chart.svg");
  EXPECT_NE(svg.find("lower is better"), std::string::npos);
  auto xml = run_process({"/usr/bin/python3", "-c",
                          "import sys, xml.etree.ElementTree as E\n"
                          "root = E.parse(sys.argv[1]).getroot()\n"
                          "ns = '{http://www.w3.org/2000/svg}'\n"
                          "lines = root.findall('.//' + ns + 'polyline') + root.findall('.//' + ns + 'path')\n"
                          "print(root.tag == ns + 'svg', len(lines), ','.join(l.get('data-name', '') for l in lines))\n",
                          (dir_ / "out" / "chart.svg").string()});
  ASSERT_EQ(xml.exit_code, 0) << xml.err;
  EXPECT_EQ(xml.out, "True 5 knorm,streaming,snapkv,compactor,random\n");
}

TEST_F(KvEvalCli, TablePrintsByDefaultAndAFailingCellDoesNotStopTheRun) {
  // Ratio 16 keeps 12 of 200 entries, not more than --sinks 4 + --window 16: that cell fails, the others run.
  auto r = chorus(perplexity_args("knorm,snapkv", "1,16,2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| method | ratio | keep | perplexity | KV bytes | KV vs full | scoring share | capped |"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| knorm | 16 | 0.062 | error: ratio 16 keeps 12 of 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| knorm | 2 | 0.500 |"), std::string::npos) << r.out;

  auto args = perplexity_args("knorm,snapkv", "1,16,2");
  args.push_back("--json");
  auto j = json::parse(chorus(args).out);
  ASSERT_EQ(j["results"].size(), 6u);
  EXPECT_TRUE(j["results"][1].contains("error"));
  EXPECT_EQ(j["results"][1]["ratio"], 16.0);
  EXPECT_TRUE(j["results"][2].contains("perplexity"));
  // A smaller window makes ratio 16 possible.
  args.insert(args.end(), {"--window", "4"});
  auto small = json::parse(chorus(args).out);
  EXPECT_FALSE(small["results"][1].contains("error")) << small["results"][1].dump();
}

TEST_F(KvEvalCli, BadInputsGiveOneLineErrors) {
  auto expect_error = [](const ProcessResult& r, const std::string& part) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("chorus kv eval: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  auto unknown = chorus(perplexity_args("knorm,bogus", "1,2"));
  expect_error(unknown, "unknown method 'bogus'");
  EXPECT_NE(unknown.err.find("knorm"), std::string::npos);
  EXPECT_NE(unknown.err.find("snapkv"), std::string::npos);
  expect_error(chorus(perplexity_args("knorm", "1,0.5")), "--ratios: 0.5 is not a compression ratio >= 1");
  expect_error(chorus(perplexity_args("qfilters", "1,2")), "qfilters needs filters");

  std::ofstream(dir_ / "bad.json") << R"({"ids": [1, 2]})";
  auto args = perplexity_args("knorm", "1,2");
  args[11] = (dir_ / "bad.json").string();
  expect_error(chorus(args), "bad.json: expected a JSON list of token ids");
  std::ofstream(dir_ / "big.json") << "[1, 2, 999]";
  args[11] = (dir_ / "big.json").string();
  expect_error(chorus(args), "token id 999 is out of range (vocab_size 256)");
  std::ofstream(dir_ / "text.txt") << "plain text";
  args[11] = (dir_ / "text.txt").string();
  expect_error(chorus(args), "no tokenizer.json");
  std::ofstream(dir_ / "short.json") << "[1, 2, 3]";
  args[11] = (dir_ / "short.json").string();
  expect_error(chorus(args), "the longest document has 3 tokens");

  expect_error(chorus({"kv", "eval", "--model", (dir_ / "model").string(), "--task", "passkey", "--methods", "knorm",
                       "--ratios", "1,2"}),
               "the passkey task needs the model's tokenizer");
}

// Passkey (and text perplexity) with a real tokenizer: the Llama 3 tokenizer from shared/fixtures on a tiny
// random model with its vocabulary.
class KvEvalPasskeyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    const auto tokenizer = shared_dir() / "fixtures" / "tokenizers" / "llama3";
    if (!std::filesystem::exists(tokenizer / "tokenizer.json")) GTEST_SKIP() << "missing " << tokenizer;
    model_ = dir_ / "model";
    make_tiny_model(model_, {"--arch", "llama", "--layers", "2", "--hidden", "32", "--heads", "4", "--kv-heads", "2",
                             "--intermediate", "64", "--vocab", "128256", "--tie", "--std", "0.1"});
    std::filesystem::copy_file(tokenizer / "tokenizer.json", model_ / "tokenizer.json");
    std::filesystem::copy_file(tokenizer / "tokenizer_config.json", model_ / "tokenizer_config.json");
  }
  TempDir dir_{"kv-eval-passkey"};
  std::filesystem::path model_;
};

TEST_F(KvEvalPasskeyCli, GeneratedPromptsFillTheLengthDepthGrid) {
  auto r = chorus({"kv", "eval", "--model", model_.string(), "--task", "passkey", "--methods", "knorm,snapkv",
                   "--ratios", "1,2", "--lengths", "96", "--depths", "0,1", "--samples", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  const auto& base = j["baseline"];
  EXPECT_EQ(base["prompts"], 2);
  ASSERT_EQ(base["by_length_depth"].size(), 2u);
  EXPECT_EQ(base["by_length_depth"][0]["length"], 96);
  EXPECT_EQ(base["by_length_depth"][1]["depth"], 1.0);
  ASSERT_EQ(base["outputs"].size(), 2u);
  EXPECT_EQ(base["outputs"][0]["answer"].get<std::string>().size(), 5u);
  ASSERT_EQ(j["results"].size(), 4u);
  for (const auto& row : j["results"]) {
    ASSERT_FALSE(row.contains("error")) << row.dump();
    const double accuracy = row["accuracy"];
    EXPECT_GE(accuracy, 0.0);
    EXPECT_LE(accuracy, 1.0);
    EXPECT_EQ(row["by_length_depth"].size(), 2u);
    if (row["ratio"] == 1.0) {
      EXPECT_EQ(row["accuracy"], base["accuracy"]);
    } else {
      // The context (>= 96 tokens) is halved; the question is not compressed.
      EXPECT_NEAR(row["kv_bytes_ratio"].get<double>(), 0.5, 0.01) << row.dump();
    }
  }
}

// --chat asks in the model's chat template: the same prompts gain the template's header (Llama 3.1: its system
// turn and the user header) in the compressed context; a model without a chat template is a one-line error.
TEST_F(KvEvalPasskeyCli, ChatWrapsThePromptInTheModelsTemplate) {
  std::vector<std::string> args = {"kv", "eval", "--model", model_.string(), "--task", "passkey", "--methods", "knorm",
                                   "--ratios", "1", "--lengths", "64", "--depths", "0.5", "--samples", "1", "--json"};
  auto plain = chorus(args);
  args.push_back("--chat");
  auto chat = chorus(args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  const double plain_bytes = json::parse(plain.out)["baseline"]["kv_bytes"];
  const double chat_bytes = json::parse(chat.out)["baseline"]["kv_bytes"];
  EXPECT_GT(chat_bytes, plain_bytes) << plain.out << chat.out;

  std::filesystem::remove(model_ / "tokenizer_config.json");
  auto none = chorus(args);
  EXPECT_EQ(none.exit_code, 1) << none.out;
  EXPECT_NE(none.err.find("no 'chat_template'"), std::string::npos) << none.err;
}

TEST_F(KvEvalPasskeyCli, AnswerFoundInTheOutputCountsAsCorrect) {
  // A random model answers nonsense; an answer equal to its greedy output must be scored correct.
  const std::string context = "The pass key is 12345. Remember it. 12345 is the pass key. The grass is green.";
  auto line = [&](const std::string& answer) {
    return json{{"context", context}, {"question", "What is the pass key? The pass key is"}, {"answer", answer}}.dump();
  };
  std::ofstream(dir_ / "first.jsonl") << line("12345") << "\n";
  std::vector<std::string> args = {"kv", "eval", "--model", model_.string(), "--task", "passkey", "--methods", "knorm",
                                   "--ratios", "1", "--json", "--window", "2", "--data", (dir_ / "first.jsonl").string()};
  auto first = chorus(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string output = json::parse(first.out)["baseline"]["outputs"][0]["output"];
  if (output.empty()) GTEST_SKIP() << "the random model stopped at once";
  std::ofstream(dir_ / "second.jsonl") << line(output) << "\n";
  args.back() = (dir_ / "second.jsonl").string();
  auto second = chorus(args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto j = json::parse(second.out);
  EXPECT_EQ(j["baseline"]["accuracy"], 1.0) << j["baseline"].dump();
  EXPECT_EQ(j["results"][0]["accuracy"], 1.0);
}

TEST_F(KvEvalPasskeyCli, TextDataIsEncodedWithTheTokenizerAndBosStartsEachWindow) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "The quick brown fox jumps over the lazy dog near the river bank. ";
  std::ofstream(dir_ / "text.txt") << text;
  auto r = chorus({"kv", "eval", "--model", model_.string(), "--task", "perplexity", "--methods", "knorm,streaming",
                   "--ratios", "1,2", "--data", (dir_ / "text.txt").string(), "--context-tokens", "64",
                   "--continuation-tokens", "16", "--max-windows", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["baseline"]["windows"], 3);
  EXPECT_EQ(j["baseline"]["tokens"], 48);
  EXPECT_EQ(j["baseline"]["context_tokens"], 64);
  for (const auto& row : j["results"]) EXPECT_FALSE(row.contains("error")) << row.dump();
}

}  // namespace
}  // namespace chorus::testing
