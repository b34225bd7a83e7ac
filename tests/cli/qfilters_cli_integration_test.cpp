// `chorus calibrate qfilters` as other tools call it, against the independent float64 reference
// (shared/oracle/kv_scores_reference.py qfilters_calibrate in --model mode, which runs its own forward):
// the written file must be the official layout (tensor "q_filters" [layers, kv_heads, head_dim] F32 = -filters,
// validated by the reference's safetensors reader) and every filter must point the reference's way.
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>

namespace chorus::testing {
namespace {

using nlohmann::json;
using Sequences = std::vector<std::vector<int64_t>>;

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

std::string join(const std::vector<int64_t>& ids) {
  std::string text;
  for (auto id : ids) {
    if (!text.empty()) text.push_back(',');
    text += std::to_string(id);
  }
  return text;
}

// Flattens nested JSON number lists.
std::vector<double> flat(const json& j) {
  std::vector<double> out;
  if (!j.is_array()) return {j.get<double>()};
  for (const auto& e : j) {
    auto part = flat(e);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class QFiltersCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    make_tiny_model(model_.path(), {"--arch", "llama", "--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads",
                                    "2", "--intermediate", "128", "--vocab", "256", "--std", "0.1"});
    std::mt19937 rng(11);
    std::uniform_int_distribution<int64_t> dist(0, 255);
    for (int n : {40, 33, 25}) {
      std::vector<int64_t> seq;
      for (int i = 0; i < n; ++i) seq.push_back(dist(rng));
      sequences_.push_back(seq);
    }
    write_tokens(tokens_file_, sequences_);
  }

  static void write_tokens(const std::filesystem::path& path, const Sequences& sequences) {
    std::ofstream(path) << json(sequences).dump();
  }

  // The reference's calibration on `calib` (every position a sample), as JSON.
  json reference(const Sequences& calib) {
    const auto file = tmp_ / "calib.json";
    write_tokens(file, calib);
    return json::parse(run_oracle("kv_scores_reference.py",
                                  {"qfilters_calibrate", "--model", model_.path().string(), "--tokens",
                                   join(calib[0]), "--calib-tokens-file", file.string(), "--n-samples", "100000"}));
  }

  // The file as the reference's safetensors reader sees it (validated): {"__metadata__", "tensors"}.
  static json read_safetensors(const std::filesystem::path& file) {
    return json::parse(run_oracle("safetensors_io.py", {"to-json", file.string()}));
  }

  // Runs the calibration with `extra` options; returns the min cosine(ours, reference) over layers and kv heads
  // and checks the stored tensor is exactly -filters of the reference (within float32 rounding).
  double compare(const std::vector<std::string>& extra, const Sequences& calib, const std::string& label) {
    const auto out = tmp_ / (label + ".safetensors");
    std::vector<std::string> args = {"calibrate", "qfilters", "--model", model_.path().string(), "--tokens-file",
                                     tokens_file_.string(), "--svd-samples", "100000", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = chorus(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return 0;
    EXPECT_EQ(r.out, out.string() + "\n");
    EXPECT_NE(r.err.find("2 layers"), std::string::npos) << r.err;
    auto file = read_safetensors(out);
    const auto& t = file["tensors"]["q_filters"];
    EXPECT_EQ(t["dtype"], "F32");
    EXPECT_EQ(t["shape"], json({2, 2, 16}));
    const auto ours = flat(t["data"]);
    auto ref = reference(calib);
    const auto filters = flat(ref["filters"]);
    const auto stored = flat(ref["q_filters_stored"]);
    EXPECT_EQ(ours.size(), filters.size());
    if (ours.size() != filters.size()) return 0;
    double min_cos = 2, max_stored_delta = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
      max_stored_delta = std::max(max_stored_delta, std::abs(ours[i] - stored[i]));
      EXPECT_EQ(stored[i], -filters[i]);
    }
    const size_t d = 16;
    for (size_t row = 0; row < ours.size() / d; ++row) {  // (layer, kv head) rows; ours are stored = -filters
      double dot = 0, a = 0, b = 0;
      for (size_t k = row * d; k < (row + 1) * d; ++k) {
        dot += -ours[k] * filters[k];
        a += ours[k] * ours[k];
        b += filters[k] * filters[k];
      }
      const double cos = dot / std::sqrt(a * b);
      EXPECT_GE(cos, 0.999) << label << " layer " << row / 2 << " kv head " << row % 2;
      min_cos = std::min(min_cos, cos);
    }
    EXPECT_LE(max_stored_delta, 1e-4) << label;
    std::printf("[%s] min cosine(ours, reference) = %.9f, max|stored - reference q_filters_stored| = %.3g\n",
                label.c_str(), min_cos, max_stored_delta);
    return min_cos;
  }

  TempDir model_{"qfilters-model"};
  TempDir tmp_{"qfilters-cli"};
  std::filesystem::path tokens_file_ = tmp_ / "tokens.json";
  Sequences sequences_;
};

TEST_F(QFiltersCli, MatchesTheReferenceCalibrationInTheOfficialLayout) {
  compare({}, sequences_, "whole");
  const auto out = tmp_ / "whole.safetensors";
  ASSERT_TRUE(std::filesystem::exists(out));
  auto file = read_safetensors(out);
  const auto& meta = file["__metadata__"];
  EXPECT_EQ(meta["format"], "q_filters");
  EXPECT_EQ(meta["convention"], "score = -(q_filters . k) = filters . k, highest kept");
  EXPECT_EQ(meta["model"], model_.path().string());
  EXPECT_EQ(meta["num_sequences"], "3");
  EXPECT_EQ(meta["seq_len"], "2048");
  EXPECT_EQ(meta["svd_samples"], "100000");
  EXPECT_EQ(meta["seed"], "0");
  EXPECT_EQ(meta["tokens"], "98");
  // The raw layout: u64 header length, header padded so the data starts 8-aligned, 2*2*16 float32 of data.
  const auto bytes = read_bytes(out);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 2 * 2 * 16 * 4);
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "whole.safetensors.tmp"));
}

TEST_F(QFiltersCli, WindowsOfSeqLenAndNumSequences) {
  // --seq-len 16 cuts the lists 40/33/25 into 16,16,8 | 16,16 (a trailing 1 is dropped) | 16,9.
  Sequences windows;
  for (const auto& seq : sequences_)
    for (size_t start = 0; start + 2 <= seq.size(); start += 16)
      windows.emplace_back(seq.begin() + static_cast<std::ptrdiff_t>(start),
                           seq.begin() + static_cast<std::ptrdiff_t>(std::min(seq.size(), start + 16)));
  ASSERT_EQ(windows.size(), 7u);
  compare({"--seq-len", "16"}, windows, "seq16");
  auto meta = read_safetensors(tmp_ / "seq16.safetensors")["__metadata__"];
  EXPECT_EQ(meta["num_sequences"], "7");
  EXPECT_EQ(meta["tokens"], "97");
  // At most --num-sequences windows, in order.
  compare({"--seq-len", "16", "--num-sequences", "4"}, Sequences(windows.begin(), windows.begin() + 4), "seq16x4");
  meta = read_safetensors(tmp_ / "seq16x4.safetensors")["__metadata__"];
  EXPECT_EQ(meta["num_sequences"], "4");
  EXPECT_EQ(meta["tokens"], "56");
}

TEST_F(QFiltersCli, SampledRowsAreReproducibleForASeed) {
  auto run = [&](const std::string& seed, const std::string& name) {
    const auto out = tmp_ / name;
    auto r = chorus({"calibrate", "qfilters", "--model", model_.path().string(), "--tokens-file",
                     tokens_file_.string(), "--svd-samples", "30", "--seed", seed, "--out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("98 tokens (30 sampled)"), std::string::npos) << r.err;
    return read_bytes(out);
  };
  const auto a = run("3", "a.safetensors");
  EXPECT_EQ(a, run("3", "b.safetensors"));
  EXPECT_NE(a, run("4", "c.safetensors"));
  EXPECT_EQ(read_safetensors(tmp_ / "a.safetensors")["__metadata__"]["seed"], "3");
}

TEST_F(QFiltersCli, BadInputsExitOneWithAMessageNamingTheProblem) {
  const std::string model = model_.path().string();
  auto expect_error = [&](std::vector<std::string> args, const std::string& message) {
    std::vector<std::string> all = {"calibrate", "qfilters"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = chorus(all);
    EXPECT_EQ(r.exit_code, 1) << message << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  };
  const std::string out = (tmp_ / "f.safetensors").string();
  const std::string tokens = tokens_file_.string();

  const auto no_dir = tmp_ / "no-such-dir" / "f.safetensors";
  expect_error({"--model", model, "--tokens-file", tokens, "--out", no_dir.string()},
               "--out " + no_dir.string() + ": directory " + (tmp_ / "no-such-dir").string() + " does not exist");
  expect_error({"--model", model, "--tokens-file", tokens, "--out", tmp_.path().string()}, "is a directory");

  std::ofstream(tmp_ / "broken.json") << "[[1, 2, 3], [4, 5";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "broken.json").string(), "--out", out},
               "--tokens-file " + (tmp_ / "broken.json").string() + ": not valid JSON");
  std::ofstream(tmp_ / "object.json") << R"({"ids": [1, 2, 3]})";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "object.json").string(), "--out", out},
               "expected a JSON list of lists of token ids");
  std::ofstream(tmp_ / "strings.json") << R"([[1, 2, "x"]])";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "strings.json").string(), "--out", out},
               "sequence 0, position 2: \"x\" is not a non-negative integer token id");
  std::ofstream(tmp_ / "negative.json") << "[[1, -2, 3]]";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "negative.json").string(), "--out", out},
               "sequence 0, position 1: -2 is not a non-negative integer token id");
  std::ofstream(tmp_ / "short.json") << "[[1, 2, 3], [4]]";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "short.json").string(), "--out", out},
               "sequence 1 has 1 token(s); each sequence needs at least 2");
  expect_error({"--model", model, "--tokens-file", (tmp_ / "absent.json").string(), "--out", out},
               "absent.json: cannot be read");

  std::ofstream(tmp_ / "vocab.json") << "[[1, 2, 3], [4, 999, 5]]";
  expect_error({"--model", model, "--tokens-file", (tmp_ / "vocab.json").string(), "--out", out},
               "token id 999 (sequence 1, position 1) is out of the model's vocab (vocab_size 256)");

  // The random test model has no tokenizer.json: text cannot be encoded.
  std::ofstream(tmp_ / "text.txt") << "Some calibration text.";
  expect_error({"--model", model, "--text-file", (tmp_ / "text.txt").string(), "--out", out},
               "tokenizer.json: missing, so --text-file cannot be encoded; give token ids with --tokens-file");
  expect_error({"--model", model, "--out", out}, "exactly one of --text-file or --tokens-file");
  expect_error({"--model", (tmp_ / "nope").string(), "--tokens-file", tokens, "--out", out},
               "--model " + (tmp_ / "nope").string() + ": not a directory");
  expect_error({"--model", model, "--tokens-file", tokens, "--seq-len", "1", "--out", out},
               "--seq-len 1: must be at least 2");
  expect_error({"--model", model, "--tokens-file", tokens, "--svd-samples", "0", "--out", out},
               "--svd-samples 0: must be at least 1");
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace chorus::testing
