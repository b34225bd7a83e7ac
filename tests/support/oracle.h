#pragma once
// Runs the independent Python references in ../shared/oracle with Debian's /usr/bin/python3 + numpy.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace chorus::testing {

// True when /usr/bin/python3 with numpy and ../shared/oracle are present; else `why` says what is missing.
bool oracle_available(std::string* why);
// Runs `script` (a file name in shared/oracle) with arguments; throws with its stderr when it fails.
std::string run_oracle(const std::string& script, const std::vector<std::string>& args);
// make_tiny_model.py with `args` (e.g. {"--arch", "llama", ...}) writing into `out`.
void make_tiny_model(const std::filesystem::path& out, const std::vector<std::string>& args);
// hf_llama_reference.py on `ids` with `greedy` new tokens; returns its JSON.
nlohmann::json reference_logits(const std::filesystem::path& model, const std::vector<int64_t>& ids, int greedy = 0);

}  // namespace chorus::testing
