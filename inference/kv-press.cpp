#include "inference/kv-press.h"

#include <map>
#include <stdexcept>

namespace chorus::inference {
namespace {

std::map<std::string, KvPressFactory>& registry() {
  static std::map<std::string, KvPressFactory> factories;  // function-local: safe during static init
  return factories;
}

std::map<std::string, std::string>& aliases() {
  static std::map<std::string, std::string> names;
  return names;
}

}  // namespace

KvPress::~KvPress() = default;

bool KvPress::needs_queries() const { return false; }
bool KvPress::needs_prerope_keys() const { return false; }
bool KvPress::per_entry() const { return false; }

KvPressRegistrar::KvPressRegistrar(const std::string& name, KvPressFactory factory,
                                   const std::vector<std::string>& alias_names) {
  if (!registry().emplace(name, std::move(factory)).second) throw std::logic_error("duplicate press: " + name);
  for (const auto& alias : alias_names)
    if (!aliases().emplace(alias, name).second) throw std::logic_error("duplicate press alias: " + alias);
}

std::string canonical_press_name(const std::string& name) {
  auto it = aliases().find(name);
  return it == aliases().end() ? name : it->second;
}

std::unique_ptr<KvPress> make_press(const std::string& name, const PressOptions& options) {
  auto it = registry().find(canonical_press_name(name));
  if (it == registry().end()) {
    std::string known;
    for (const auto& [n, f] : registry()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown KV press '" + name + "' (known: " + known + ")");
  }
  return it->second(options);
}

std::vector<std::string> press_names() {
  std::vector<std::string> names;
  for (const auto& [n, f] : registry()) names.push_back(n);
  return names;
}

}  // namespace chorus::inference
