// Calculator: precedence, exact int64 arithmetic, 15-digit doubles, clear errors with positions, the tool.
#include "tools/calculator.h"
#include "tools/tool-registry.h"

#include <gtest/gtest.h>

#include <string>

namespace chorus::tools {
namespace {

std::string calc(const std::string& expression) {
  return evaluate_expression(expression).text();
}

// The error message for `expression`, or "no error: <result>".
std::string error_of(const std::string& expression) {
  try {
    return "no error: " + calc(expression);
  } catch (const CalculatorError& e) {
    return e.what();
  }
}

#define EXPECT_ERROR(expression, fragment)                              \
  do {                                                                  \
    const std::string message_ = error_of(expression);                  \
    EXPECT_NE(message_.find(fragment), std::string::npos)               \
        << "expression: " << (expression) << "\nmessage: " << message_; \
  } while (0)

TEST(Calculator, ExampleFromTheSpec) {
  const CalcResult r = evaluate_expression("(2+3)*4^2 - sqrt(16)");
  EXPECT_TRUE(r.is_integer());
  EXPECT_EQ(r.text(), "76");
  EXPECT_TRUE(r.json().is_number_integer());
  EXPECT_EQ(r.json(), 76);
}

TEST(Calculator, Precedence) {
  EXPECT_EQ(calc("2+3*4"), "14");
  EXPECT_EQ(calc("(2+3)*4"), "20");
  EXPECT_EQ(calc("2*3+4*5"), "26");
  EXPECT_EQ(calc("2+12/4*3"), "11");
  EXPECT_EQ(calc("1+7%4*2"), "7");
  EXPECT_EQ(calc("2*3^2"), "18");
  EXPECT_EQ(calc("-2^2"), "-4");  // ^ binds tighter than unary minus
  EXPECT_EQ(calc("(-2)^2"), "4");
  EXPECT_EQ(calc("2^-1"), "0.5");  // a signed exponent
  EXPECT_EQ(calc("-3!"), "-6");    // ! binds tighter than unary minus
  EXPECT_EQ(calc("2^3!"), "64");   // and tighter than ^
  EXPECT_EQ(calc("3!!"), "720");
  EXPECT_EQ(calc("2*-3"), "-6");
  EXPECT_EQ(calc("--5"), "5");
  EXPECT_EQ(calc("+5"), "5");
  EXPECT_EQ(calc("-(2+3)"), "-5");
  EXPECT_EQ(calc("((((7))))"), "7");
}

TEST(Calculator, Associativity) {
  EXPECT_EQ(calc("10-4-3"), "3");
  EXPECT_EQ(calc("100/10/5"), "2");
  EXPECT_EQ(calc("64/4/2"), "8");
  EXPECT_EQ(calc("100%7%3"), "2");
  EXPECT_EQ(calc("2^3^2"), "512");  // right-associative: 2^(3^2)
  EXPECT_EQ(calc("2**3**2"), "512");
  EXPECT_EQ(calc("(2^3)^2"), "64");
}

TEST(Calculator, UnicodeOperatorsAndWhitespace) {
  EXPECT_EQ(calc("6×7"), "42");
  EXPECT_EQ(calc("84÷2"), "42");
  EXPECT_EQ(calc("5 − 3"), "2");
  EXPECT_EQ(calc("2·3"), "6");
  EXPECT_EQ(calc("2×π÷π"), "2");
}

TEST(Calculator, Whitespace) {
  EXPECT_EQ(calc(" 1 +\t2\n* 3 "), "7");
  EXPECT_EQ(calc("sqrt ( 16 )"), "4");
}

TEST(Calculator, IntegerDivisionStaysExactWhenItCan) {
  EXPECT_TRUE(evaluate_expression("8/2").is_integer());
  EXPECT_EQ(calc("8/2"), "4");
  EXPECT_FALSE(evaluate_expression("7/2").is_integer());
  EXPECT_EQ(calc("7/2"), "3.5");
  EXPECT_EQ(calc("-9/3"), "-3");
  EXPECT_EQ(calc("1/4"), "0.25");
}

TEST(Calculator, DoublesHave15SignificantDigits) {
  EXPECT_EQ(calc("1/3"), "0.333333333333333");
  EXPECT_EQ(calc("2/3"), "0.666666666666667");
  EXPECT_EQ(calc("0.1+0.2"), "0.3");
  EXPECT_EQ(evaluate_expression("0.1+0.2").json(), 0.3);
  EXPECT_EQ(calc("pi"), "3.14159265358979");
  EXPECT_EQ(calc("e"), "2.71828182845905");
  EXPECT_EQ(calc("sqrt(2)"), "1.4142135623731");
  EXPECT_EQ(calc("1e20"), "1e+20");
  EXPECT_EQ(calc("1.5e-3"), "0.0015");
  EXPECT_EQ(calc("1/3*3"), "1");
}

TEST(Calculator, IntegralDoublesPrintAsIntegers) {
  const CalcResult thousand = evaluate_expression("1e3");
  EXPECT_FALSE(thousand.is_integer());
  EXPECT_EQ(thousand.text(), "1000");
  EXPECT_TRUE(thousand.json().is_number_integer());
  EXPECT_EQ(calc("2.5*2"), "5");
  EXPECT_EQ(calc("2^53*1.0"), "9007199254740992");
  EXPECT_EQ(calc("-0.0"), "0");
  EXPECT_TRUE(evaluate_expression("0.5").json().is_number_float());
}

TEST(Calculator, NumberLiterals) {
  EXPECT_EQ(calc("007"), "7");
  EXPECT_EQ(calc(".5"), "0.5");
  EXPECT_EQ(calc("2."), "2");
  EXPECT_EQ(calc("1E3"), "1000");
  EXPECT_EQ(calc("2.5e+2"), "250");
  EXPECT_EQ(calc("9223372036854775807"), "9223372036854775807");
  EXPECT_ERROR("9223372036854775808", "integer 9223372036854775808 at position 1 is outside the int64 range");
  EXPECT_ERROR("1e999", "outside the double range");
  EXPECT_ERROR("1.2.3", "syntax error at position 1: malformed number '1.2.3'");
  EXPECT_ERROR("1e", "malformed number '1e'");
  EXPECT_ERROR("1e+", "malformed number '1e+'");
}

TEST(Calculator, Int64IsExactAndOverflowIsAnError) {
  EXPECT_ERROR("9223372036854775807+1", "integer overflow in 9223372036854775807 + 1");
  EXPECT_EQ(calc("-9223372036854775807-1"), "-9223372036854775808");
  EXPECT_ERROR("-9223372036854775807-2", "integer overflow");
  EXPECT_EQ(calc("9007199254740993+0"), "9007199254740993");  // beyond 2^53, still exact
  EXPECT_EQ(calc("2^62"), "4611686018427387904");
  EXPECT_EQ(calc("(-2)^63"), "-9223372036854775808");
  EXPECT_ERROR("2^63", "integer overflow in 2^63");
  EXPECT_ERROR("2^70", "integer overflow in 2^70");
  EXPECT_ERROR("3037000500*3037000500", "integer overflow in 3037000500 * 3037000500");
  EXPECT_EQ(calc("3037000499*3037000499"), "9223372030926249001");
  EXPECT_ERROR("-(-9223372036854775807-1)", "integer overflow");
  EXPECT_ERROR("abs(-9223372036854775807-1)", "integer overflow");
  EXPECT_ERROR("(-9223372036854775807-1)/-1", "integer overflow");
  EXPECT_EQ(calc("(-9223372036854775807-1)%-1"), "0");
  EXPECT_EQ(calc("1^1000000000000"), "1");
  EXPECT_EQ(calc("(-1)^1000000000001"), "-1");
  EXPECT_EQ(calc("0^0"), "1");
}

TEST(Calculator, ModuloTakesTheSignOfTheDivisor) {
  EXPECT_EQ(calc("7%3"), "1");
  EXPECT_EQ(calc("-7%3"), "2");
  EXPECT_EQ(calc("7%-3"), "-2");
  EXPECT_EQ(calc("-7%-3"), "-1");
  EXPECT_EQ(calc("6%3"), "0");
  EXPECT_EQ(calc("5.5%2"), "1.5");
  EXPECT_EQ(calc("-5.5%2"), "0.5");
}

TEST(Calculator, Factorial) {
  EXPECT_EQ(calc("factorial(0)"), "1");
  EXPECT_EQ(calc("0!"), "1");
  EXPECT_EQ(calc("5!"), "120");
  EXPECT_EQ(calc("factorial(20)"), "2432902008176640000");
  EXPECT_EQ(calc("20!"), "2432902008176640000");
  EXPECT_EQ(calc("factorial(10/2)"), "120");
  EXPECT_EQ(calc("factorial(5.0)"), "120");
  EXPECT_ERROR("factorial(21)", "integer overflow in factorial(21)");
  EXPECT_ERROR("21!", "integer overflow in 21!");
  EXPECT_ERROR("factorial(-1)", "factorial(-1) is undefined: factorial needs a non-negative integer");
  EXPECT_ERROR("(-3)!", "(-3)! is undefined");
  EXPECT_ERROR("factorial(2.5)", "factorial(2.5) is undefined");
}

TEST(Calculator, Functions) {
  EXPECT_TRUE(evaluate_expression("sqrt(16)").is_integer());
  EXPECT_EQ(calc("sqrt(16)"), "4");
  EXPECT_EQ(calc("sqrt(9223372030926249001)"), "3037000499");
  EXPECT_EQ(calc("sqrt(2.25)"), "1.5");
  EXPECT_EQ(calc("abs(-5)"), "5");
  EXPECT_EQ(calc("abs(-2.5)"), "2.5");
  EXPECT_EQ(calc("exp(0)"), "1");
  EXPECT_EQ(calc("ln(e)"), "1");
  EXPECT_EQ(calc("log(e^2)"), "2");  // log is the natural logarithm
  EXPECT_EQ(calc("log(1000, 10)"), "3");
  EXPECT_EQ(calc("log(8, 2)"), "3");
  EXPECT_EQ(calc("log(81, 3)"), "4");
  EXPECT_EQ(calc("log10(1000)"), "3");
  EXPECT_EQ(calc("log2(1024)"), "10");
  EXPECT_EQ(calc("sin(0)"), "0");
  EXPECT_EQ(calc("sin(pi/2)"), "1");
  EXPECT_EQ(calc("cos(pi)"), "-1");
  EXPECT_EQ(calc("tan(pi/4)"), "1");
  EXPECT_EQ(calc("asin(1)*2"), "3.14159265358979");
  EXPECT_EQ(calc("acos(1)"), "0");
  EXPECT_EQ(calc("atan(1)*4"), "3.14159265358979");
  EXPECT_EQ(calc("atan2(1, 1)"), "0.785398163397448");
  EXPECT_EQ(calc("pow(2, 10)"), "1024");
}

TEST(Calculator, Rounding) {
  EXPECT_TRUE(evaluate_expression("floor(3.7)").is_integer());
  EXPECT_EQ(calc("floor(3.7)"), "3");
  EXPECT_EQ(calc("floor(-3.5)"), "-4");
  EXPECT_EQ(calc("ceil(3.2)"), "4");
  EXPECT_EQ(calc("round(2.5)"), "3");
  EXPECT_EQ(calc("round(-2.5)"), "-3");
  EXPECT_EQ(calc("round(7)"), "7");
  EXPECT_EQ(calc("round(3.14159, 2)"), "3.14");
  EXPECT_EQ(calc("round(1234, -2)"), "1200");
  EXPECT_EQ(calc("round(1250, -2)"), "1300");
  EXPECT_EQ(calc("round(-1250, -2)"), "-1300");
  EXPECT_EQ(calc("round(1234.5, -2)"), "1200");
  EXPECT_EQ(calc("floor(1e300)"), "1e+300");
  EXPECT_ERROR("round(1, 0.5)", "the number of decimal places must be an integer");
  EXPECT_EQ(calc("floor(2^62*1.0)+1"), "4611686018427387905");  // floor gives an int that then stays exact
}

TEST(Calculator, MinMax) {
  EXPECT_EQ(calc("min(3, 1, 2)"), "1");
  EXPECT_EQ(calc("max(3, 1, 2)"), "3");
  EXPECT_EQ(calc("max(1, 2.5)"), "2.5");
  EXPECT_EQ(calc("min(-1)"), "-1");
  EXPECT_TRUE(evaluate_expression("max(1, 2)").is_integer());
}

TEST(Calculator, NamesAreCaseInsensitive) {
  EXPECT_EQ(calc("SQRT(16)"), "4");
  EXPECT_EQ(calc("Pi"), "3.14159265358979");
  EXPECT_EQ(calc("π"), "3.14159265358979");
}

TEST(Calculator, DivisionByZero) {
  EXPECT_ERROR("1/0", "division by zero in 1 / 0 at position 2");
  EXPECT_ERROR("1.5/0.0", "division by zero");
  EXPECT_ERROR("5%0", "modulo by zero in 5 % 0 at position 2");
  EXPECT_ERROR("0^-1", "division by zero in 0^(-1)");
  EXPECT_ERROR("1/(2-2)", "division by zero");
}

TEST(Calculator, NonFiniteResultsAreErrors) {
  EXPECT_ERROR("1e308*10", "1e+308 * 10 overflows the double range at position 6");
  EXPECT_ERROR("sqrt(-1)", "sqrt(-1) is undefined: the argument must be >= 0");
  EXPECT_ERROR("ln(0)", "ln(0) is undefined: the argument must be > 0");
  EXPECT_ERROR("log(-1)", "log(-1) is undefined");
  EXPECT_ERROR("log10(0)", "log10(0) is undefined");
  EXPECT_ERROR("log(8, 1)", "the base must be > 0 and not 1");
  EXPECT_ERROR("asin(2)", "asin(2) is undefined: the argument must be within [-1, 1]");
  EXPECT_ERROR("exp(1000)", "exp(1000) overflows the double range");
  EXPECT_ERROR("(-8)^(1/3)", "(-8)^0.333333333333333 is not a real number");
  EXPECT_ERROR("10.0^400", "overflows the double range");
}

TEST(Calculator, SyntaxErrorsNameThePosition) {
  EXPECT_ERROR("(2+3", "syntax error at position 5: expected ')'");
  EXPECT_ERROR("2+", "syntax error at position 3: expected a number, a name or '(', found end of expression");
  EXPECT_ERROR("2 $ 3", "syntax error at position 3: unexpected character '$'");
  EXPECT_ERROR("1 + (2 * )", "syntax error at position 10: expected a number, a name or '(', found ')'");
  EXPECT_ERROR("2 3", "syntax error at position 3: unexpected number 3 (missing operator?)");
  EXPECT_ERROR("2pi", "syntax error at position 2: unexpected name 'pi'");
  EXPECT_ERROR("(2+3))", "syntax error at position 6: unexpected ')'");
  EXPECT_ERROR("*2", "syntax error at position 1");
  EXPECT_ERROR("sqrt 4", "syntax error at position 6: expected '(' after function 'sqrt'");
  EXPECT_ERROR("sqrt(4", "syntax error at position 7: expected ',' or ')'");
  EXPECT_ERROR("min(1,)", "syntax error at position 7");
}

TEST(Calculator, PositionsCountCharactersNotBytes) {
  EXPECT_ERROR("π × × 2", "syntax error at position 5: expected a number, a name or '(', found '×'");
  EXPECT_ERROR("6÷2 @", "syntax error at position 5: unexpected character '@'");
  EXPECT_ERROR("1 + é", "syntax error at position 5: unexpected character 'é'");
}

TEST(Calculator, SyntaxErrorsComeBeforeArithmeticErrors) {
  EXPECT_ERROR("1/0 + (", "syntax error at position 8");
}

TEST(Calculator, EmptyExpression) {
  EXPECT_ERROR("", "empty expression");
  EXPECT_ERROR("   \t", "empty expression");
  EXPECT_ERROR("()", "syntax error at position 2");
}

TEST(Calculator, UnknownNamesAreNamedWithASuggestion) {
  EXPECT_ERROR("sqr(4)", "unknown function 'sqr' at position 1; did you mean 'sqrt'?");
  EXPECT_ERROR("2*factorail(3)", "unknown function 'factorail' at position 3; did you mean 'factorial'?");
  EXPECT_ERROR("pie*2", "unknown name 'pie' at position 1; did you mean 'pi'?");
  EXPECT_ERROR("arcsin(1)", "did you mean 'asin'?");
  const std::string x = error_of("x+1");
  EXPECT_NE(x.find("unknown name 'x' at position 1"), std::string::npos) << x;
  EXPECT_EQ(x.find("did you mean"), std::string::npos) << x;
  const std::string far = error_of("frobnicate(1)");
  EXPECT_NE(far.find("unknown function 'frobnicate'"), std::string::npos) << far;
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(Calculator, WrongArity) {
  EXPECT_ERROR("sqrt(1, 2)", "wrong number of arguments at position 1: sqrt takes 1 argument, got 2");
  EXPECT_ERROR("sqrt()", "sqrt takes 1 argument, got 0");
  EXPECT_ERROR("min()", "min takes at least 1 argument, got 0");
  EXPECT_ERROR("log(1, 2, 3)", "log takes 1 or 2 arguments, got 3");
  EXPECT_ERROR("1 + atan2(1)", "wrong number of arguments at position 5: atan2 takes 2 arguments, got 1");
}

TEST(Calculator, DeepNestingIsRefusedAndLongChainsWork) {
  EXPECT_ERROR(std::string(1000, '(') + "1" + std::string(1000, ')'), "nested too deeply");
  EXPECT_ERROR(std::string(1000, '-') + "1", "nested too deeply");
  std::string sum = "1";
  for (int k = 1; k < 100000; ++k) sum += "+1";
  EXPECT_EQ(calc(sum), "100000");
}

TEST(Calculator, ErrorsAreToolErrors) {
  EXPECT_THROW(evaluate_expression("1/0"), CalculatorError);
  EXPECT_THROW(evaluate_expression("1/0"), ToolError);
}

TEST(Calculator, ResultApi) {
  const CalcResult seven = evaluate_expression("7");
  EXPECT_TRUE(seven.is_integer());
  EXPECT_EQ(std::get<std::int64_t>(seven.value), 7);
  EXPECT_DOUBLE_EQ(seven.as_double(), 7.0);
  const CalcResult half = evaluate_expression("1/2");
  EXPECT_FALSE(half.is_integer());
  EXPECT_DOUBLE_EQ(half.as_double(), 0.5);
  EXPECT_EQ(half.json(), 0.5);
  EXPECT_EQ(evaluate_expression("2^62").json(), 4611686018427387904LL);
}

// ---- the tool -------------------------------------------------------------------------------------

TEST(CalculatorTool, Spec) {
  const Tool tool = make_calculator_tool();
  EXPECT_EQ(tool.spec.name, "calculator");
  EXPECT_FALSE(tool.spec.description.empty());
  EXPECT_EQ(tool.spec.parameters["type"], "object");
  EXPECT_EQ(tool.spec.parameters["required"], nlohmann::json::array({"expression"}));
  EXPECT_EQ(tool.spec.parameters["properties"]["expression"]["minLength"], 1);
  EXPECT_EQ(tool.spec.parameters["additionalProperties"], false);
  ASSERT_TRUE(tool.spec.result_schema.has_value());
}

TEST(CalculatorTool, HandlerReturnsExpressionResultAndText) {
  const Tool tool = make_calculator_tool();
  const nlohmann::json out = tool.handler({{"expression", "(2+3)*4^2 - sqrt(16)"}});
  EXPECT_EQ(out, (nlohmann::json{{"expression", "(2+3)*4^2 - sqrt(16)"}, {"result", 76}, {"text", "76"}}));
  EXPECT_TRUE(out["result"].is_number_integer());
  const nlohmann::json third = tool.handler({{"expression", "1/3"}});
  EXPECT_TRUE(third["result"].is_number_float());
  EXPECT_EQ(third["text"], "0.333333333333333");
  EXPECT_THROW(tool.handler({{"expression", 5}}), ToolError);
}

TEST(CalculatorTool, ThroughTheRegistry) {
  ToolRegistry registry;
  registry.add(make_calculator_tool());
  const CallResult ok = registry.call("calculator", {{"expression", "(2+3)*4^2 - sqrt(16)"}});
  ASSERT_TRUE(ok.ok()) << ok.error;
  EXPECT_EQ(ok.value["result"], 76);
  EXPECT_EQ(ok.value["text"], "76");
  const CallResult failed = registry.call("calculator", {{"expression", "1/0"}});
  EXPECT_EQ(failed.status, CallStatus::failed);
  EXPECT_EQ(failed.error, "division by zero in 1 / 0 at position 2");
  const CallResult text = registry.call_text("calculator", R"({"expression": "2^10"})");
  ASSERT_TRUE(text.ok()) << text.error;
  EXPECT_EQ(text.value["result"], 1024);
  const nlohmann::json openai = registry.openai_tools();
  ASSERT_EQ(openai.size(), 1u);
  EXPECT_EQ(openai[0]["function"]["name"], "calculator");
}

// Needs the JSON Schema validator (tools/json-schema.cpp): bad arguments never reach the handler.
TEST(CalculatorTool, SchemaRejectsBadArguments) {
  ToolRegistry registry;
  registry.add(make_calculator_tool());
  for (const nlohmann::json& args :
       {nlohmann::json::object(), nlohmann::json{{"expression", 5}}, nlohmann::json{{"expression", ""}},
        nlohmann::json{{"expression", "1"}, {"precision", 3}}}) {
    const CallResult r = registry.call("calculator", args);
    EXPECT_EQ(r.status, CallStatus::invalid_arguments) << args.dump() << " -> " << r.error;
  }
}

}  // namespace
}  // namespace chorus::tools
