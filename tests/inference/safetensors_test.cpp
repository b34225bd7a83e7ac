// safetensors validation: every malformed file is refused with a message naming the file, tensor and problem;
// values read back equal the reference reader's (shared/oracle/safetensors_io.py).
#include "inference/model.h"
#include "inference/safetensors.h"
#include "tests/support/oracle.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

namespace chorus::inference {
namespace {

using chorus::testing::TempDir;

// Builds a file image: 8-byte length, header text, then `data_bytes` zero bytes.
std::vector<std::byte> image(const std::string& header, size_t data_bytes) {
  std::vector<std::byte> out(8 + header.size() + data_bytes, std::byte{0});
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

std::string error_of(const std::vector<std::byte>& bytes) {
  try {
    parse_safetensors(bytes.data(), bytes.size(), "w.safetensors", nullptr);
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ParsesValidHeader) {
  auto bytes = image(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                     R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}})", 22);
  std::map<std::string, std::string> meta;
  auto tensors = parse_safetensors(bytes.data(), bytes.size(), "w.safetensors", &meta);
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(meta["format"], "pt");
  EXPECT_EQ(tensors["a"].numel(), 4);
  EXPECT_EQ(tensors["b"].dtype, DType::BF16);
  EXPECT_EQ(tensors["b"].nbytes, 6u);
}

TEST(Safetensors, RefusesMalformedFilesWithPreciseMessages) {
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  struct Case {
    std::vector<std::byte> bytes;
    std::string expected;
  };
  std::vector<Case> cases = {
      {std::vector<std::byte>(5), "shorter than the 8-byte header"},
      {[] { auto b = image("{}", 0); b[6] = std::byte{1}; return b; }(), "header too large"},
      {[&] { auto b = image("{" + ok_entry + "}", 8); b.resize(20); return b; }(), "truncated file"},
      {image("[1,2]", 0), "does not start with '{'"},
      {image("{\"a\": ", 0), "not valid JSON"},
      {image("{" + ok_entry + "," + ok_entry + "}", 8), "duplicate key 'a'"},
      {image(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2), "tensor 'a': unknown dtype \"F8\""},
      {image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "tensor 'a': shape"},
      {image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "tensor 'a': missing field 'data_offsets'"},
      {image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "tensor 'a': size mismatch"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin 8 > end 0"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "out of range"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlaps"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "hole of 4 bytes"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12), "4 trailing bytes"},
      {[] { auto b = image(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", 2); b.back() = std::byte{2}; return b; }(),
       "BOOL tensor holds a byte other than 0 or 1"},
      {image(R"({"__metadata__":{"x":1}})", 0), "__metadata__['x'] must be a string"},
  };
  for (const auto& c : cases) {
    auto message = error_of(c.bytes);
    EXPECT_NE(message.find("w.safetensors: "), std::string::npos) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << message;
  }
}

TEST(Safetensors, ModelDirectoryErrorsNameTheFile) {
  TempDir dir("st");
  try {
    WeightFiles::open(dir.path());
    FAIL();
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("neither model.safetensors nor model.safetensors.index.json"), std::string::npos);
  }
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"a": "missing.safetensors"}})";
  try {
    WeightFiles::open(dir.path());
    FAIL();
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("shard 'missing.safetensors' listed in weight_map does not exist"), std::string::npos)
        << e.what();
  }
}

TEST(Safetensors, TruncatedCheckpointIsAClearModelError) {
  std::string why;
  if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << why;
  TempDir dir("st");
  chorus::testing::make_tiny_model(dir.path(), {"--arch", "llama", "--layers", "1", "--hidden", "32", "--heads", "2",
                                                "--kv-heads", "1", "--intermediate", "64", "--vocab", "64"});
  auto file = dir / "model.safetensors";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
  try {
    Model::load(dir.path());
    FAIL() << "a truncated checkpoint loaded";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated file?"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, Bf16ValuesEqualReferenceReader) {
  std::string why;
  if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << why;
  TempDir dir("st");
  chorus::testing::make_tiny_model(dir.path(), {"--arch", "llama", "--layers", "1", "--hidden", "32", "--heads", "2",
                                                "--kv-heads", "1", "--intermediate", "64", "--vocab", "64",
                                                "--dtype", "bf16"});
  auto ref = nlohmann::json::parse(
      chorus::testing::run_oracle("safetensors_io.py", {"to-json", (dir / "model.safetensors").string()}));
  auto file = SafetensorsFile::open(dir / "model.safetensors");
  const auto* view = file->find("model.norm.weight");
  ASSERT_NE(view, nullptr);
  ASSERT_EQ(view->dtype, DType::BF16);
  auto values = ref["tensors"]["model.norm.weight"]["data"];
  const auto* raw = reinterpret_cast<const uint16_t*>(view->data);
  for (int64_t i = 0; i < view->numel(); ++i) {
    uint32_t bits = static_cast<uint32_t>(raw[i]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    EXPECT_EQ(static_cast<double>(f), values[i].get<double>()) << i;
  }
}

}  // namespace
}  // namespace chorus::inference
