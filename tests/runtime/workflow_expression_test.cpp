// Workflow expressions: `when:` conditions, paths into a JSON scope, and {path} interpolation.
#include "runtime/workflow-expression.h"

#include <gtest/gtest.h>

namespace chorus::runtime {
namespace {

using Json = nlohmann::json;

Json scope() {
  return Json::parse(R"J({
    "inputs": {"topic": "KV caches", "depth": 2, "tags": ["a", "b"]},
    "outputs": {
      "review": "{\"verdict\": \"revise\", \"score\": 6, \"notes\": [\"x\", \"y\"]}",
      "fenced": "```json\n{\"ok\": true}\n```",
      "draft": "A draft about caches.",
      "search": {"urls": ["u1", "u2"], "count": 2}
    },
    "iterations": {"draft": 2}
  })J");
}

bool holds(const std::string& text) { return Expression::parse(text).holds(scope()); }

TEST(WorkflowExpression, ComparesLiteralsAndPaths) {
  EXPECT_TRUE(holds("outputs.review.verdict == 'revise'"));
  EXPECT_FALSE(holds("outputs.review.verdict == \"ok\""));
  EXPECT_TRUE(holds("outputs.review.verdict != 'ok'"));
  EXPECT_TRUE(holds("outputs.review.score >= 6 && outputs.review.score < 7.5"));
  EXPECT_TRUE(holds("iterations.draft < 3"));
  EXPECT_TRUE(holds("depth == 2.0"));
  EXPECT_TRUE(holds("'abc' < 'abd'"));
  EXPECT_TRUE(holds("-1 < 0"));
  EXPECT_TRUE(holds("true") && !holds("false") && !holds("null"));
}

TEST(WorkflowExpression, BareNamesResolveToInputsThenOutputs) {
  EXPECT_TRUE(holds("topic == 'KV caches'"));
  EXPECT_TRUE(holds("draft == 'A draft about caches.'"));
  EXPECT_TRUE(holds("review.verdict == 'revise'"));
  EXPECT_EQ(Expression::parse("tags[1]").evaluate(scope()), "b");
  EXPECT_EQ(Expression::parse("tags[-1]").evaluate(scope()), "b");
  EXPECT_EQ(Expression::parse("outputs.search['urls'][0]").evaluate(scope()), "u1");
}

TEST(WorkflowExpression, UnknownPathsAreNull) {
  EXPECT_TRUE(holds("outputs.missing == null"));
  EXPECT_TRUE(holds("outputs.review.nothing.deeper == null"));
  EXPECT_TRUE(holds("tags[5] == null"));
  EXPECT_TRUE(holds("!outputs.missing"));
  EXPECT_FALSE(holds("outputs.draft.verdict"));  // plain text has no members
}

TEST(WorkflowExpression, JsonTextOutputsCanBeEntered) {
  EXPECT_EQ(Expression::parse("outputs.review.notes[1]").evaluate(scope()), "y");
  EXPECT_TRUE(holds("outputs.fenced.ok"));
  auto value = resolve_path("outputs.review.score", scope());
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, 6);
  EXPECT_FALSE(resolve_path("outputs.nope", scope()).has_value());
}

TEST(WorkflowExpression, LogicPrecedenceAndWords) {
  EXPECT_TRUE(holds("false || true && true"));
  EXPECT_FALSE(holds("(false || true) && false"));
  EXPECT_TRUE(holds("not false and (true or false)"));
  EXPECT_TRUE(holds("!(depth > 5)"));
  EXPECT_TRUE(holds("!!topic"));
}

TEST(WorkflowExpression, Functions) {
  EXPECT_TRUE(holds("contains(outputs.draft, 'caches')"));
  EXPECT_FALSE(holds("contains(outputs.draft, 'Caches')"));
  EXPECT_TRUE(holds("contains(lower(outputs.draft), 'a draft')"));
  EXPECT_TRUE(holds("contains(tags, 'a') && !contains(tags, 'z')"));
  EXPECT_TRUE(holds("contains(outputs.search, 'urls')"));
  EXPECT_FALSE(holds("contains(outputs.missing, 'x')"));
  EXPECT_EQ(Expression::parse("len(tags)").evaluate(scope()), 2);
  EXPECT_EQ(Expression::parse("len('héllo')").evaluate(scope()), 5);
  EXPECT_EQ(Expression::parse("len(outputs.missing)").evaluate(scope()), 0);
  EXPECT_EQ(Expression::parse("lower('AbC')").evaluate(scope()), "abc");
}

TEST(WorkflowExpression, Truthiness) {
  for (const char* falsy : {"null", "false", "0", "0.0", "\"\"", "[]", "{}"})
    EXPECT_FALSE(is_truthy(Json::parse(falsy))) << falsy;
  for (const char* truthy : {"true", "1", "-0.5", "\"x\"", "[0]", "{\"a\":null}"})
    EXPECT_TRUE(is_truthy(Json::parse(truthy))) << truthy;
}

TEST(WorkflowExpression, TypeErrorsThrowWithTheExpression) {
  try {
    Expression::parse("topic < 3").evaluate(scope());
    FAIL() << "expected a type error";
  } catch (const ExpressionEvalError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("`topic < 3`"), std::string::npos) << message;
    EXPECT_NE(message.find("cannot compare string"), std::string::npos) << message;
  }
  EXPECT_THROW(Expression::parse("outputs.missing > 1").evaluate(scope()), ExpressionEvalError);
  EXPECT_THROW(Expression::parse("len(depth)").evaluate(scope()), ExpressionEvalError);
  EXPECT_THROW(Expression::parse("contains(topic, 1)").evaluate(scope()), ExpressionEvalError);
  // Equality between different types is simply false.
  EXPECT_FALSE(holds("topic == 3"));
}

int syntax_error_column(const std::string& text, std::string* problem = nullptr) {
  try {
    Expression::parse(text);
  } catch (const ExpressionSyntaxError& e) {
    if (problem) *problem = e.problem();
    return e.column();
  }
  return 0;
}

TEST(WorkflowExpression, SyntaxErrorsCarryTheColumn) {
  std::string problem;
  EXPECT_EQ(syntax_error_column("outputs.x = 'a'", &problem), 11);
  EXPECT_NE(problem.find("'=='"), std::string::npos) << problem;
  EXPECT_EQ(syntax_error_column("a == 'open"), 6);
  EXPECT_EQ(syntax_error_column("(a == 1"), 8);
  EXPECT_EQ(syntax_error_column("a == 1 == 2", &problem), 8);
  EXPECT_NE(problem.find("join comparisons"), std::string::npos) << problem;
  EXPECT_EQ(syntax_error_column("size(a)", &problem), 1);
  EXPECT_NE(problem.find("contains(a, b)"), std::string::npos) << problem;
  EXPECT_EQ(syntax_error_column("len(a, b)"), 1);
  EXPECT_EQ(syntax_error_column("a.", &problem), 3);
  EXPECT_EQ(syntax_error_column("a & b"), 3);
  EXPECT_EQ(syntax_error_column("a == "), 6);
  EXPECT_EQ(syntax_error_column("a[x]"), 3);
  EXPECT_EQ(syntax_error_column("a == 1 b"), 8);
  EXPECT_EQ(syntax_error_column(""), 1);
}

TEST(WorkflowExpression, ReferencesListEveryPath) {
  auto e = Expression::parse("outputs.review.verdict == 'x' || contains(tags[0], topic) && iterations.draft > 1");
  const auto& refs = e.references();
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].names, (std::vector<std::string>{"outputs", "review", "verdict"}));
  EXPECT_EQ(refs[0].text, "outputs.review.verdict");
  EXPECT_EQ(refs[0].column, 1);
  EXPECT_EQ(refs[1].names, (std::vector<std::string>{"tags"}));
  EXPECT_EQ(refs[1].text, "tags[0]");
  EXPECT_EQ(refs[2].names, (std::vector<std::string>{"topic"}));
  EXPECT_EQ(refs[3].column, 62);
}

TEST(WorkflowExpression, InterpolatesPathsAndLiteralBraces) {
  EXPECT_EQ(interpolate("Write about {topic} ({depth} levels).", scope()), "Write about KV caches (2 levels).");
  EXPECT_EQ(interpolate("Verdict: {outputs.review.verdict}; tags {tags}", scope()),
            "Verdict: revise; tags [\"a\",\"b\"]");
  EXPECT_EQ(interpolate("JSON like {{\"a\": 1}} and { \"b\": 2 } and a } alone", scope()),
            "JSON like {\"a\": 1} and { \"b\": 2 } and a } alone");
  EXPECT_EQ(interpolate("{outputs.search}", scope()), "{\"count\":2,\"urls\":[\"u1\",\"u2\"]}");
  EXPECT_EQ(interpolate("no references", scope()), "no references");
}

TEST(WorkflowExpression, UnresolvedReferenceThrowsNamingIt) {
  try {
    interpolate("About {outputs.outline.title}.", scope());
    FAIL() << "expected an error";
  } catch (const ExpressionEvalError& e) {
    EXPECT_NE(std::string(e.what()).find("{outputs.outline.title}"), std::string::npos) << e.what();
  }
}

TEST(WorkflowExpression, TemplateReferencesAndErrors) {
  auto refs = template_references("About {topic}, see {{literal}} and {outputs.draft} {iterations.draft}");
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].names, std::vector<std::string>{"topic"});
  EXPECT_EQ(refs[0].column, 8);
  EXPECT_EQ(refs[1].names, (std::vector<std::string>{"outputs", "draft"}));
  EXPECT_EQ(refs[1].column, 37);
  try {
    template_references("About {topic");
    FAIL() << "expected an error";
  } catch (const ExpressionSyntaxError& e) {
    EXPECT_EQ(e.column(), 7);
    EXPECT_NE(e.problem().find("{{"), std::string::npos) << e.problem();
  }
  try {
    template_references("x {a b}");
    FAIL() << "expected an error";
  } catch (const ExpressionSyntaxError& e) {
    EXPECT_EQ(e.column(), 6);
  }
}

}  // namespace
}  // namespace chorus::runtime
