// Typed tools: the schema generated from a struct, and conversion of validated arguments into the struct.
#include "tools/tool-registry.h"
#include "tools/typed-tool.h"

#include <gtest/gtest.h>

namespace {

struct Point {
  double x = 0;
  double y = 0;
};

struct PlotArgs {
  std::string title;
  std::vector<Point> points;
  std::optional<int> width;
  bool grid = false;
  std::map<std::string, std::string> labels;
};

}  // namespace

template <>
struct chorus::tools::Fields<Point> {
  static auto list() { return std::make_tuple(field(&Point::x, "x", "X"), field(&Point::y, "y", "Y")); }
};

template <>
struct chorus::tools::Fields<PlotArgs> {
  static auto list() {
    return std::make_tuple(field(&PlotArgs::title, "title", "Plot title").with({{"minLength", 1}}),
                           field(&PlotArgs::points, "points", "Points to draw"),
                           field(&PlotArgs::width, "width", "Width in pixels").with({{"minimum", 10}}),
                           field(&PlotArgs::grid, "grid", "Draw a grid"),
                           field(&PlotArgs::labels, "labels", "Point labels"));
  }
};

namespace chorus::tools {
namespace {

TEST(TypedTool, GeneratesSchemaFromStruct) {
  auto schema = schema_of<PlotArgs>();
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["additionalProperties"], false);
  EXPECT_EQ(schema["required"], nlohmann::json({"title", "points", "grid", "labels"}));
  EXPECT_EQ(schema["properties"]["title"], nlohmann::json({{"type", "string"}, {"description", "Plot title"}, {"minLength", 1}}));
  EXPECT_EQ(schema["properties"]["width"]["type"], "integer");
  EXPECT_EQ(schema["properties"]["width"]["minimum"], 10);
  EXPECT_EQ(schema["properties"]["points"]["items"]["properties"]["x"]["type"], "number");
  EXPECT_EQ(schema["properties"]["labels"]["additionalProperties"]["type"], "string");
  EXPECT_EQ(schema_of<unsigned>()["minimum"], 0);
}

TEST(TypedTool, ConvertsValidatedArgumentsAndRunsHandler) {
  ToolRegistry registry;
  registry.add(make_typed_tool<PlotArgs>("plot", "Describes a plot", [](const PlotArgs& a) {
    double sum = 0;
    for (const auto& p : a.points) sum += p.x * p.y;
    return nlohmann::json{{"title", a.title}, {"sum", sum}, {"width", a.width.value_or(-1)}, {"grid", a.grid},
                          {"labels", a.labels.size()}};
  }));
  auto result = registry.call("plot", {{"title", "t"},
                                       {"points", {{{"x", 2}, {"y", 3}}, {{"x", 1}, {"y", 4}}}},
                                       {"grid", true},
                                       {"labels", {{"a", "first"}}}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["sum"], 10.0);
  EXPECT_EQ(result.value["width"], -1);
  EXPECT_EQ(result.value["grid"], true);
  EXPECT_EQ(result.value["labels"], 1);
}

TEST(TypedTool, RejectsArgumentsThatBreakTheGeneratedSchema) {
  ToolRegistry registry;
  int calls = 0;
  registry.add(make_typed_tool<PlotArgs>("plot", "Describes a plot", [&](const PlotArgs&) { return ++calls; }));
  auto missing = registry.call("plot", {{"title", "t"}, {"points", nlohmann::json::array()}});
  EXPECT_EQ(missing.status, CallStatus::invalid_arguments);
  EXPECT_NE(missing.error.find("grid"), std::string::npos) << missing.error;
  auto extra = registry.call("plot", {{"title", "t"}, {"points", nlohmann::json::array()}, {"grid", false},
                                      {"labels", nlohmann::json::object()}, {"colour", "red"}});
  EXPECT_EQ(extra.status, CallStatus::invalid_arguments);
  EXPECT_NE(extra.error.find("colour"), std::string::npos) << extra.error;
  auto narrow = registry.call("plot", {{"title", "t"}, {"points", nlohmann::json::array()}, {"grid", false},
                                       {"labels", nlohmann::json::object()}, {"width", 3}});
  EXPECT_EQ(narrow.status, CallStatus::invalid_arguments);
  EXPECT_NE(narrow.error.find("/width"), std::string::npos) << narrow.error;
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace chorus::tools
