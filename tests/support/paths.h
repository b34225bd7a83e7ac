#pragma once
// Where tests find shared fixtures, their own data, and the built chorus binary.
#include <filesystem>
#include <string>

namespace chorus::testing {

// ../shared (oracle/, fixtures/) beside the checkout.
inline std::filesystem::path shared_dir() { return CHORUS_SHARED_DIR; }
// tests/data in the checkout.
inline std::filesystem::path test_data_dir() { return CHORUS_TEST_DATA_DIR; }
// The checkout's root (examples/, models/, scripts/).
inline std::filesystem::path repo_dir() {
  return std::filesystem::path(CHORUS_TEST_DATA_DIR).parent_path().parent_path().lexically_normal();
}
// The built `chorus` program.
inline std::filesystem::path chorus_binary() { return CHORUS_BINARY; }

}  // namespace chorus::testing
