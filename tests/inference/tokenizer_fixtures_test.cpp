// Tokenizer against Hugging Face reference data: every field of both fixtures' cases.jsonl (ids without and
// with special tokens, decode with and without skip_special_tokens), per-category pass counts, and a
// throughput figure. Each tokenizer.json is loaded once for the suite.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "inference/detokenizer.h"
#include "inference/tokenizer.h"
#include "tests/support/paths.h"

namespace chorus::inference {
namespace {

struct Case {
  std::string text;
  std::string category;
  std::vector<int32_t> ids;
  std::vector<int32_t> ids_with_special;
  std::string decoded;
  std::string decoded_skip_special;
};

std::filesystem::path fixture_dir(const std::string& name) {
  return chorus::testing::shared_dir() / "fixtures" / "tokenizers" / name;
}

std::vector<Case> load_cases(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    cases.push_back({j.at("text").get<std::string>(), j.at("category").get<std::string>(),
                     j.at("ids").get<std::vector<int32_t>>(), j.at("ids_with_special").get<std::vector<int32_t>>(),
                     j.at("decoded").get<std::string>(), j.at("decoded_skip_special").get<std::string>()});
  }
  return cases;
}

// JSON-escaped (ASCII) form of a string, truncated for display.
std::string escaped(const std::string& s, size_t max_chars = 160) {
  std::string e = nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (e.size() > max_chars) e = e.substr(0, max_chars) + "...\"(" + std::to_string(s.size()) + " bytes)";
  return e;
}

std::string ids_around(const std::vector<int32_t>& ids, size_t at) {
  std::ostringstream out;
  size_t from = at > 3 ? at - 3 : 0;
  size_t to = std::min(ids.size(), at + 5);
  out << "[" << (from > 0 ? "... " : "");
  for (size_t i = from; i < to; ++i) out << (i > from ? ", " : "") << ids[i];
  out << (to < ids.size() ? " ..." : "") << "] (" << ids.size() << " ids)";
  return out.str();
}

template <typename T>
size_t first_difference(const T& a, const T& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

class TokenizerFixtures : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    tokenizers_.clear();
    cases_.clear();
  }
  void SetUp() override {
    if (!std::filesystem::exists(fixture_dir("llama3") / "tokenizer.json"))
      GTEST_SKIP() << "shared fixtures not found under " << chorus::testing::shared_dir();
  }

  // The tokenizer of a fixture folder, loaded once for the suite (with its cases).
  static const Tokenizer& tokenizer(const std::string& name) {
    auto it = tokenizers_.find(name);
    if (it != tokenizers_.end()) return *it->second;
    auto start = std::chrono::steady_clock::now();
    auto tok = std::make_unique<Tokenizer>(Tokenizer::from_file(fixture_dir(name) / "tokenizer.json"));
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ load     ] %s/tokenizer.json in %.0f ms (vocab %zu, id_end %d)\n", name.c_str(), ms,
                tok->vocab_size(), tok->id_end());
    cases_[name] = load_cases(fixture_dir(name) / "cases.jsonl");
    return *(tokenizers_[name] = std::move(tok));
  }
  static const std::vector<Case>& cases(const std::string& name) {
    tokenizer(name);
    return cases_.at(name);
  }

  // Checks every case; prints per-category counts and each failure; returns the number of failing cases.
  static size_t run_cases(const std::string& name) {
    const Tokenizer& tok = tokenizer(name);
    const std::vector<Case>& all = cases(name);
    struct Count {
      size_t total = 0, pass = 0;
    };
    std::map<std::string, Count> by_category;
    std::map<std::string, size_t> field_pass;
    size_t failures = 0;
    for (const Case& c : all) {
      bool ok = true;
      auto report = [&](const std::string& field, const std::string& detail) {
        ok = false;
        std::printf("FAIL %s [%s] %s: text %s\n  %s\n", name.c_str(), c.category.c_str(), field.c_str(),
                    escaped(c.text).c_str(), detail.c_str());
      };
      auto check_ids = [&](const std::string& field, const std::vector<int32_t>& expected,
                           const std::vector<int32_t>& got) {
        if (expected == got) {
          ++field_pass[field];
          return;
        }
        size_t at = first_difference(expected, got);
        report(field, "first difference at index " + std::to_string(at) + "\n  expected " + ids_around(expected, at) +
                          "\n  got      " + ids_around(got, at));
      };
      auto check_text = [&](const std::string& field, const std::string& expected, const std::string& got) {
        if (expected == got) {
          ++field_pass[field];
          return;
        }
        report(field, "first difference at byte " + std::to_string(first_difference(expected, got)) +
                          "\n  expected " + escaped(expected) + "\n  got      " + escaped(got));
      };
      check_ids("ids", c.ids, tok.encode(c.text, false));
      check_ids("ids_with_special", c.ids_with_special, tok.encode(c.text, true));
      check_text("decoded", c.decoded, tok.decode(c.ids, false));
      check_text("decoded_skip_special", c.decoded_skip_special, tok.decode(c.ids_with_special, true));

      // Streaming decode of the same ids must agree with decode().
      StreamingDetokenizer stream(tok);
      std::string streamed;
      for (int32_t id : c.ids) streamed += stream.feed(id);
      streamed += stream.flush();
      check_text("streamed", c.decoded, streamed);

      Count& count = by_category[c.category];
      ++count.total;
      if (ok)
        ++count.pass;
      else
        ++failures;
    }
    std::printf("[ %s ] %zu/%zu cases pass\n", name.c_str(), all.size() - failures, all.size());
    for (const auto& [field, pass] : field_pass)
      std::printf("    field %-22s %zu/%zu\n", field.c_str(), pass, all.size());
    for (const auto& [category, count] : by_category)
      std::printf("    %-16s %zu/%zu\n", category.c_str(), count.pass, count.total);
    return failures;
  }

  static inline std::map<std::string, std::unique_ptr<Tokenizer>> tokenizers_;
  static inline std::map<std::string, std::vector<Case>> cases_;
};

TEST_F(TokenizerFixtures, Llama3AllCases) {
  EXPECT_EQ(cases("llama3").size(), 656u);
  EXPECT_EQ(run_cases("llama3"), 0u);
}

TEST_F(TokenizerFixtures, Qwen2StyleAllCases) {
  EXPECT_EQ(cases("qwen2-style").size(), 656u);
  EXPECT_EQ(run_cases("qwen2-style"), 0u);
}

TEST_F(TokenizerFixtures, VocabularyQueries) {
  const Tokenizer& llama = tokenizer("llama3");
  EXPECT_EQ(llama.vocab_size(false), 128000u);
  EXPECT_EQ(llama.vocab_size(true), 128256u);
  EXPECT_EQ(llama.id_end(), 128256);
  EXPECT_EQ(llama.token_to_id("<|eot_id|>"), 128009);
  EXPECT_EQ(llama.id_to_token(128000), "<|begin_of_text|>");
  EXPECT_EQ(llama.id_to_token(9906), "Hello");
  EXPECT_TRUE(llama.is_special(128009));
  EXPECT_FALSE(llama.is_special(9906));
  EXPECT_FALSE(llama.id_to_token(999999).has_value());

  const Tokenizer& qwen = tokenizer("qwen2-style");
  EXPECT_EQ(qwen.token_to_id("<tool_call>"), 128003);
  EXPECT_FALSE(qwen.is_special(128003));
  EXPECT_TRUE(qwen.is_special(128002));
  // Llama special-token text is plain text for this tokenizer.
  EXPECT_GT(qwen.encode("<|eot_id|>", false).size(), 1u);
}

TEST_F(TokenizerFixtures, Throughput) {
  for (const char* name : {"llama3", "qwen2-style"}) {
    const Tokenizer& tok = tokenizer(name);
    const std::vector<Case>& all = cases(name);
    size_t corpus = 0;
    for (const Case& c : all) corpus += c.text.size();
    const size_t rounds = (1 << 20) / corpus + 1;
    size_t bytes = 0, tokens = 0;
    auto start = std::chrono::steady_clock::now();
    for (size_t r = 0; r < rounds; ++r)
      for (const Case& c : all) {
        tokens += tok.encode(c.text, false).size();
        bytes += c.text.size();
      }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ encode   ] %s: %.2f MB in %.3f s = %.1f MB/s, %.2f M tokens/s (one thread)\n", name, bytes / 1e6, s,
                bytes / 1e6 / s, tokens / 1e6 / s);

    // One long document (all case texts joined), so the pre-token cache sees new text only once per word.
    std::string doc;
    for (const Case& c : all) doc += c.text + "\n";
    start = std::chrono::steady_clock::now();
    size_t doc_tokens = tok.encode(doc, false).size();
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ encode   ] %s: one %.2f MB document in %.4f s = %.1f MB/s (%zu tokens)\n", name, doc.size() / 1e6, s,
                doc.size() / 1e6 / s, doc_tokens);

    std::vector<int32_t> ids;
    for (const Case& c : all) ids.insert(ids.end(), c.ids.begin(), c.ids.end());
    start = std::chrono::steady_clock::now();
    size_t out = 0;
    for (size_t r = 0; r < rounds; ++r) out += tok.decode(ids).size();
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ decode   ] %s: %.1f MB/s of text\n", name, out / 1e6 / s);
  }
}

}  // namespace
}  // namespace chorus::inference
