#pragma once
// safetensors reader: memory-mapped, validated as strictly as the reference crate; no libtorch needed.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::inference {

// Element types a safetensors file may hold.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

// "F32", "BF16", ...
const char* dtype_name(DType dtype);
// Bytes per element.
size_t dtype_size(DType dtype);

// A problem with a weights file; the message names the file, the tensor (if any) and the problem.
class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One tensor inside a mapped file (data points into the mapping; valid while the file lives).
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const std::byte* data;
  size_t nbytes;
  // Number of elements (product of shape; 1 for a scalar).
  int64_t numel() const;
};

// One .safetensors file, mapped read-only and validated on open.
class SafetensorsFile {
 public:
  // Maps and validates `path`; throws SafetensorsError.
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // The tensor called `name`, or nullptr.
  const TensorView* find(const std::string& name) const;
  // All tensors, by name.
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  // The optional __metadata__ map.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The file's path.
  const std::filesystem::path& path() const { return path_; }

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* mapping_ = nullptr;
  size_t mapped_size_ = 0;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Validates a header against the file size and returns the tensors (data pointers relative to `base`).
// Exposed for tests; `bytes` is the whole file.
std::map<std::string, TensorView> parse_safetensors(const std::byte* bytes, size_t size, const std::string& path,
                                                    std::map<std::string, std::string>* metadata);

// All weights of a model directory: model.safetensors, or the shards named by model.safetensors.index.json.
class WeightFiles {
 public:
  // Opens `dir`; validates the index (every mapped tensor present in its shard, none in two shards).
  static WeightFiles open(const std::filesystem::path& dir);
  // The tensor called `name`, or nullptr.
  const TensorView* find(const std::string& name) const;
  // The file a tensor lives in (for messages).
  std::string file_of(const std::string& name) const;
  // Every tensor name.
  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, const TensorView*>> index_;
};

}  // namespace chorus::inference
