#include "tests/support/oracle.h"

#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <fstream>
#include <stdexcept>

namespace chorus::testing {
namespace {
const char* kPython = "/usr/bin/python3";
}

bool oracle_available(std::string* why) {
  if (!std::filesystem::exists(shared_dir() / "oracle" / "hf_llama_reference.py")) {
    if (why) *why = "missing " + (shared_dir() / "oracle").string();
    return false;
  }
  auto r = run_process({kPython, "-c", "import numpy"});
  if (r.exit_code != 0) {
    if (why) *why = "/usr/bin/python3 with numpy is not installed (run scripts/setup): " + r.err;
    return false;
  }
  return true;
}

std::string run_oracle(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kPython, (shared_dir() / "oracle" / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error(script + " failed (" + std::to_string(r.exit_code) + "): " + r.err);
  return r.out;
}

void make_tiny_model(const std::filesystem::path& out, const std::vector<std::string>& args) {
  std::vector<std::string> all = args;
  all.push_back("--out");
  all.push_back(out.string());
  run_oracle("make_tiny_model.py", all);
}

nlohmann::json reference_logits(const std::filesystem::path& model, const std::vector<int64_t>& ids, int greedy) {
  TempDir tmp("oracle");
  std::string list;
  for (auto id : ids) {
    if (!list.empty()) list.push_back(',');
    list.append(std::to_string(id));
  }
  auto out = tmp / "ref.json";
  std::vector<std::string> args = {model.string(), "--tokens", list, "--out", out.string()};
  if (greedy > 0) {
    args.push_back("--greedy");
    args.push_back(std::to_string(greedy));
  }
  run_oracle("hf_llama_reference.py", args);
  std::ifstream in(out);
  return nlohmann::json::parse(in);
}

}  // namespace chorus::testing
