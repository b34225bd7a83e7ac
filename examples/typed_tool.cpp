// Declares a tool from a C++ struct (the JSON Schema is generated), registers it beside the built-in
// calculator, and calls both the way an agent does: JSON arguments in, a CallResult out.
//
//   build/examples/example_typed_tool
#include "tools/builtin-tools.h"
#include "tools/typed-tool.h"

#include <iostream>

struct ConvertArgs {
  double amount;
  std::string from;
  std::string to;
  std::optional<int> decimals;
};

template <>
struct chorus::tools::Fields<ConvertArgs> {
  static auto list() {
    return std::make_tuple(
        field(&ConvertArgs::amount, "amount", "The quantity to convert").with({{"minimum", 0}}),
        field(&ConvertArgs::from, "from", "Source unit").with({{"enum", {"km", "mi"}}}),
        field(&ConvertArgs::to, "to", "Target unit").with({{"enum", {"km", "mi"}}}),
        field(&ConvertArgs::decimals, "decimals", "Digits after the point (default 2)").with({{"maximum", 6}}));
  }
};

int main() {
  using namespace chorus::tools;
  ToolRegistry registry = make_builtin_registry();
  registry.add(make_typed_tool<ConvertArgs>("convert_distance", "Converts between kilometres and miles",
                                            [](const ConvertArgs& a) {
                                              double factor = a.from == a.to ? 1.0 : a.from == "km" ? 0.621371 : 1.609344;
                                              return nlohmann::json{{"value", a.amount * factor},
                                                                    {"unit", a.to},
                                                                    {"decimals", a.decimals.value_or(2)}};
                                            }));

  std::cout << "Generated schema:\n" << registry.find("convert_distance")->spec.parameters.dump(2) << "\n\n";
  for (const auto& [name, args] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"convert_distance", {{"amount", 42.195}, {"from", "km"}, {"to", "mi"}}},
           {"convert_distance", {{"amount", -1}, {"from", "km"}, {"to", "parsec"}}},
           {"calculator", {{"expression", "42.195 * 0.621371"}}}}) {
    auto result = registry.call(name, args);
    std::cout << name << " " << args.dump() << "\n  -> " << result.to_json().dump() << "\n";
  }
  return 0;
}
