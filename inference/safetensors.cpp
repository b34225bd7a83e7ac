#include "inference/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

namespace chorus::inference {
namespace {

constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct DTypeInfo {
  const char* name;
  DType dtype;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {"F64", DType::F64, 8},  {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2},
    {"I64", DType::I64, 8},  {"I32", DType::I32, 4}, {"I16", DType::I16, 2}, {"I8", DType::I8, 1},
    {"U64", DType::U64, 8},  {"U32", DType::U32, 4}, {"U16", DType::U16, 2}, {"U8", DType::U8, 1},
    {"BOOL", DType::BOOL, 1},
};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw SafetensorsError(path + ": " + problem);
}

bool is_nonneg_int(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

}  // namespace

const char* dtype_name(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

size_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::map<std::string, TensorView> parse_safetensors(const std::byte* bytes, size_t size, const std::string& path,
                                                    std::map<std::string, std::string>* metadata) {
  if (size < 8) fail(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  if (n > kMaxHeaderSize) fail(path, "header too large (" + std::to_string(n) + " bytes; limit 100000000)");
  if (8 + n > size)
    fail(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                   " bytes): truncated file?");
  const char* header = reinterpret_cast<const char*>(bytes + 8);
  if (n == 0 || header[0] != '{') fail(path, "header does not start with '{'");

  // Parse, rejecting duplicate top-level keys (nlohmann would silently keep the last one).
  std::set<std::string> seen;
  std::string duplicate;
  nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1) {
      auto key = parsed.get<std::string>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(header, header + n, cb);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(path, "duplicate key '" + duplicate + "' in JSON header");
  if (!doc.is_object()) fail(path, "header is not a JSON object");

  const size_t data_start = 8 + n;
  const size_t data_len = size - data_start;
  std::map<std::string, TensorView> tensors;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;
  for (auto& [name, info] : doc.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail(path, "__metadata__ must be a map of strings to strings");
      for (auto& [k, v] : info.items()) {
        if (!v.is_string()) fail(path, "__metadata__['" + k + "'] must be a string");
        if (metadata) (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!info.is_object()) fail(path, where + ": entry must be an object with dtype, shape, data_offsets");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!info.contains(field)) fail(path, where + ": missing field '" + field + "'");
    const auto& dt = info["dtype"];
    const DTypeInfo* dinfo = nullptr;
    if (dt.is_string())
      for (const auto& d : kDTypes)
        if (dt.get<std::string>() == d.name) dinfo = &d;
    if (!dinfo) fail(path, where + ": unknown dtype " + dt.dump() + " (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)");
    const auto& shape = info["shape"];
    if (!shape.is_array()) fail(path, where + ": shape must be an array of non-negative integers");
    TensorView view{name, dinfo->dtype, {}, nullptr, 0};
    uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!is_nonneg_int(d)) fail(path, where + ": shape " + shape.dump() + " must hold non-negative integers");
      view.shape.push_back(d.get<int64_t>());
      numel *= d.get<uint64_t>();
    }
    const auto& off = info["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !is_nonneg_int(off[0]) || !is_nonneg_int(off[1]))
      fail(path, where + ": data_offsets must be [begin, end] with non-negative integers");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end) fail(path, where + ": data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
    if (end - begin != numel * dinfo->size)
      fail(path, where + ": size mismatch: data_offsets span " + std::to_string(end - begin) + " bytes but shape " +
                     shape.dump() + " of " + dinfo->name + " needs " + std::to_string(numel * dinfo->size));
    if (end > data_len)
      fail(path, where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     "] out of range of the data section (" + std::to_string(data_len) + " bytes): truncated file?");
    view.data = bytes + data_start + begin;
    view.nbytes = end - begin;
    if (dinfo->dtype == DType::BOOL)
      for (size_t i = 0; i < view.nbytes; ++i)
        if (static_cast<uint8_t>(view.data[i]) > 1) fail(path, where + ": BOOL tensor holds a byte other than 0 or 1");
    spans.emplace_back(begin, end, name);
    tensors.emplace(name, std::move(view));
  }
  std::sort(spans.begin(), spans.end());
  uint64_t cursor = 0;
  for (const auto& [begin, end, name] : spans) {
    if (begin < cursor) fail(path, "tensor '" + name + "' overlaps the previous tensor");
    if (begin > cursor)
      fail(path, "tensor '" + name + "': hole of " + std::to_string(begin - cursor) + " bytes before its data");
    cursor = end;
  }
  if (cursor != data_len)
    fail(path, std::to_string(data_len - cursor) + " trailing bytes after the last tensor");
  return tensors;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path.string(), std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path.string(), std::string("cannot stat: ") + std::strerror(errno));
  }
  file->mapped_size_ = static_cast<size_t>(st.st_size);
  if (file->mapped_size_ > 0) {
    void* p = mmap(nullptr, file->mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail(path.string(), std::string("cannot map: ") + std::strerror(errno));
    }
    file->mapping_ = p;
  }
  ::close(fd);
  file->tensors_ = parse_safetensors(static_cast<const std::byte*>(file->mapping_), file->mapped_size_,
                                     path.string(), &file->metadata_);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) munmap(mapping_, mapped_size_);
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

WeightFiles WeightFiles::open(const std::filesystem::path& dir) {
  WeightFiles w;
  const auto index_path = dir / "model.safetensors.index.json";
  const auto single_path = dir / "model.safetensors";
  if (std::filesystem::exists(index_path)) {
    std::ifstream in(index_path);
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(index_path.string(), std::string("not valid JSON: ") + e.what());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      fail(index_path.string(), "missing or malformed 'weight_map' (must map tensor names to file names)");
    std::map<std::string, std::string> weight_map;
    std::map<std::string, size_t> shard_ids;
    for (auto& [name, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) fail(index_path.string(), "weight_map['" + name + "'] must be a file name");
      auto s = shard.get<std::string>();
      if (s.find('/') != std::string::npos || s == ".." || s.empty())
        fail(index_path.string(), "shard file name '" + s + "' must be a plain file name");
      weight_map[name] = s;
      if (!shard_ids.count(s)) {
        if (!std::filesystem::exists(dir / s))
          fail(index_path.string(), "shard '" + s + "' listed in weight_map does not exist");
        shard_ids[s] = w.files_.size();
        w.files_.push_back(SafetensorsFile::open(dir / s));
      }
    }
    for (const auto& [shard, id] : shard_ids) {
      for (const auto& [name, view] : w.files_[id]->tensors()) {
        auto it = weight_map.find(name);
        if (it == weight_map.end() || it->second != shard)
          fail((dir / shard).string(), "tensor '" + name + "' is not mapped to this shard in model.safetensors.index.json");
        if (w.index_.count(name)) fail((dir / shard).string(), "tensor '" + name + "' also present in another shard");
        w.index_[name] = {id, &view};
      }
    }
    for (const auto& [name, shard] : weight_map)
      if (!w.index_.count(name))
        fail(index_path.string(), "tensor '" + name + "' is listed in weight_map but absent from " + shard);
    return w;
  }
  if (!std::filesystem::exists(single_path))
    fail(dir.string(), "neither model.safetensors nor model.safetensors.index.json found");
  w.files_.push_back(SafetensorsFile::open(single_path));
  for (const auto& [name, view] : w.files_[0]->tensors()) w.index_[name] = {0, &view};
  return w;
}

const TensorView* WeightFiles::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.second;
}

std::string WeightFiles::file_of(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? std::string() : files_[it->second.first]->path().string();
}

std::vector<std::string> WeightFiles::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : index_) out.push_back(name);
  return out;
}

}  // namespace chorus::inference
