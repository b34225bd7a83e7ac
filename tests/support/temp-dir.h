#pragma once
// A temporary directory removed (recursively) when the object goes away.
#include <filesystem>
#include <string>

namespace chorus::testing {

class TempDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp) named chorus-<prefix>-XXXXXX.
  explicit TempDir(const std::string& prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // path() / name.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path` (binary, replacing it).
void write_file(const std::filesystem::path& path, const std::string& text);
// The whole content of `path` ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

}  // namespace chorus::testing
