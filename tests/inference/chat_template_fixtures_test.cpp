// Chat templates: every case of shared/fixtures/chat_templates/*/cases.jsonl (rendered by @huggingface/jinja)
// must render byte for byte; the raise_exception cases must raise with the expected message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "inference/chat-template.h"
#include "tests/support/paths.h"

namespace chorus::inference {
namespace {

namespace fs = std::filesystem;

fs::path templates_dir() {
  return chorus::testing::shared_dir() / "fixtures" / "chat_templates";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Escapes control characters so a diff context is readable on one line.
std::string visible(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

// Where two strings first differ, with some context from each.
std::string describe_difference(const std::string& expected, const std::string& actual) {
  size_t at = 0;
  while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
  const size_t from = at > 60 ? at - 60 : 0;
  std::ostringstream s;
  s << "first difference at byte " << at << " (expected " << expected.size() << " bytes, got "
    << actual.size() << ")\n  expected: ..." << visible(expected.substr(from, at - from)) << "[["
    << visible(expected.substr(at, 60)) << "]]\n  actual:   ..." << visible(actual.substr(from, at - from))
    << "[[" << visible(actual.substr(at, 60)) << "]]";
  return s.str();
}

struct Tally {
  int passed = 0;
  int total = 0;
};

Tally run_fixture(const std::string& model) {
  const fs::path dir = templates_dir() / model;
  const ChatTemplate chat_template(read_file(dir / "chat_template.jinja"));
  std::ifstream cases(dir / "cases.jsonl");
  Tally tally;
  std::string line;
  while (std::getline(cases, line)) {
    if (line.empty()) continue;
    const auto c = nlohmann::ordered_json::parse(line);
    ++tally.total;
    const std::string name = c["name"].get<std::string>();
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    if (!c["bos_token"].is_null()) extra["bos_token"] = c["bos_token"];
    if (!c["eos_token"].is_null()) extra["eos_token"] = c["eos_token"];
    for (const auto& [k, v] : c["extra_context"].items()) extra[k] = v;
    const bool expect_error = c["rendered"].is_null();
    try {
      const std::string actual =
          chat_template.render(c["messages"], c["tools"], c["add_generation_prompt"].get<bool>(), extra);
      if (expect_error) {
        ADD_FAILURE() << model << " / " << name << ": expected raise_exception(\"" << c.value("error", "")
                      << "\") but it rendered:\n"
                      << actual;
        continue;
      }
      const std::string expected = c["rendered"].get<std::string>();
      if (actual != expected) {
        ADD_FAILURE() << model << " / " << name << ": " << describe_difference(expected, actual);
        continue;
      }
      ++tally.passed;
    } catch (const TemplateRaisedError& e) {
      if (!expect_error) {
        ADD_FAILURE() << model << " / " << name << ": unexpected raise_exception: " << e.what();
      } else if (c.contains("error") && e.message() != c["error"].get<std::string>()) {
        ADD_FAILURE() << model << " / " << name << ": raised \"" << e.message() << "\", expected \""
                      << c["error"].get<std::string>() << "\"";
      } else {
        ++tally.passed;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << model << " / " << name << ": " << e.what();
    }
  }
  return tally;
}

class ChatTemplateFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateFixtures, AllCasesRenderByteForByte) {
  if (!fs::exists(templates_dir() / GetParam() / "cases.jsonl")) {
    GTEST_SKIP() << "no fixtures at " << templates_dir();
  }
  const Tally tally = run_fixture(GetParam());
  std::cout << GetParam() << ": " << tally.passed << "/" << tally.total << " cases pass\n";
  EXPECT_GT(tally.total, 0);
  EXPECT_EQ(tally.passed, tally.total);
}

INSTANTIATE_TEST_SUITE_P(Models, ChatTemplateFixtures,
                         ::testing::Values("meta-llama-Llama-3.1-8B-Instruct", "Qwen-Qwen2.5-7B-Instruct"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace chorus::inference
