// The "calculator" task: arithmetic questions in many phrasings -> a calculator call with an "expression" string
// (tools/calculator.h syntax: + - * / % ^ ! sqrt ...) -> the tool's result -> an answer stating result.text.
#include "training/curriculum-tasks.h"

#include <functional>

namespace chorus::training::curriculum {
namespace {

// A whole number. Train: [2, 20], [21, 999] or [10000, 999999]; eval: half the time from the held-out
// 4-digit band [1000, 9999], which the train split never uses as an operand.
int64_t draw_whole(TaskContext& ctx) {
  if (ctx.eval && ctx.rng.chance(0.5)) return ctx.rng.range(1000, 9999);
  const uint64_t band = ctx.rng.below(20);
  if (band < 7) return ctx.rng.range(2, 20);
  if (band < 16) return ctx.rng.range(21, 999);
  return ctx.rng.range(10000, 999999);
}

// An operand as text: whole (80%) or with 1-2 decimals (20%), negative with probability p_negative.
std::string draw_number(TaskContext& ctx, double p_negative, bool allow_decimal = true) {
  std::string text;
  if (allow_decimal && ctx.rng.chance(0.2)) {
    const int decimals = ctx.rng.chance(0.5) ? 1 : 2;
    text = scaled_text(ctx.rng.range(1, decimals == 1 ? 9999 : 99999), decimals);
  } else {
    text = std::to_string(draw_whole(ctx));
  }
  if (ctx.rng.chance(p_negative)) text = "-" + text;
  return text;
}

bool negative(const std::string& number) { return !number.empty() && number[0] == '-'; }
// A later operand in an expression: "(-15)" for a negative number.
std::string later(const std::string& number) { return negative(number) ? "(" + number + ")" : number; }

struct BinaryOp {
  std::string ascii;                 // in the expression: "+", "-", "*", "/", "^", "%"
  std::string pretty;                // in answers: "+", "-", "×", "÷", "^", "mod"
  std::vector<std::string> symbols;  // as users type it between the operands
  Phrasings words;                   // {a} and {b}
};

const std::vector<BinaryOp>& binary_ops() {
  static const std::vector<BinaryOp> ops = {
      {"+", "+", {"+"}, {{"{a} plus {b}", "the sum of {a} and {b}", "{b} added to {a}", "{a} increased by {b}", "add {a} and {b}",
         "{a} with {b} added"}, {"{a} and {b} added together"}}},
      {"-", "-", {"-", "−"}, {{"{a} minus {b}", "{a} take away {b}", "{b} subtracted from {a}", "{a} decreased by {b}",
         "the difference of {a} and {b}", "subtract {b} from {a}"}, {"{a} less {b}"}}},
      {"*", "×", {"*", "×", "x"},
       {{"{a} times {b}", "{a} multiplied by {b}", "the product of {a} and {b}", "multiply {a} by {b}", "{a} lots of {b}"}, {"{a} multiplied with {b}"}}},
      {"/", "÷", {"/", "÷"},
       {{"{a} divided by {b}", "the quotient of {a} and {b}", "{a} over {b}", "divide {a} by {b}",
         "{a} shared among {b}"}, {"{a} divided evenly by {b}"}}},
      {"^", "^", {"^", "**"}, {{"{a} to the power of {b}", "{a} raised to the power {b}", "{a} to the exponent {b}", "{a} with exponent {b}"}, {"{a} raised to {b}"}}},
      {"%", "mod", {"%", "mod"},
       {{"{a} modulo {b}", "{a} mod {b}", "the remainder of {a} divided by {b}", "{a} modulus {b}",
        "the leftover of {a} after dividing by {b}"},
        {"the remainder when {a} is divided by {b}"}}},
  };
  return ops;
}

// Questions wrapped around a phrase {E}.
const Phrasings kFrames = {
    {"What is {E}?", "What's {E}?", "Compute {E}.", "Calculate {E}", "How much is {E}?", "Please work out {E}.",
     "Can you tell me what {E} is?", "{E} = ?", "Evaluate {E}.", "Solve {E}.", "what is {E}",
     "Use the calculator: {E}", "I need {E}, please.", "Find {E}.", "Tell me {E}.", "Work out {E}.",
     "What do you get for {E}?", "What does {E} equal?", "Result of {E}?", "Determine {E}.", "I want to know {E}.",
     "{E}?", "Could you compute {E}?", "Would you calculate {E}?", "Do the math: {E}.", "Can you work out {E}?",
     "Please compute {E}.", "Help me calculate {E}.", "Answer this: {E}", "What is the result of {E}?",
     "Tell me the answer to {E}.", "{E} is how much?", "Show me {E}.", "What would {E} be?"},
    {"Quick question: what does {E} come to?", "I need the value of {E}.", "Figure out {E} for me, please."}};

Arithmetic binary(TaskContext& ctx) {
  const auto& ops = binary_ops();
  const BinaryOp& op = ops[ctx.rng.below(ops.size())];
  std::string a, b;
  if (op.ascii == "^") {
    a = std::to_string(ctx.rng.range(2, 12));
    if (ctx.rng.chance(0.1)) a = "-" + a;
    b = std::to_string(ctx.rng.range(2, 6));
  } else if (op.ascii == "%") {
    a = std::to_string(draw_whole(ctx));
    b = std::to_string(ctx.rng.range(2, 20));
  } else if (op.ascii == "/") {
    if (ctx.rng.chance(0.5)) {  // divides exactly
      const int64_t divisor = ctx.rng.range(2, 50);
      a = std::to_string(divisor * ctx.rng.range(2, 999));
      b = std::to_string(divisor);
    } else {
      a = draw_number(ctx, 0.1);
      b = std::to_string(ctx.rng.range(2, 99));
    }
  } else {
    a = draw_number(ctx, 0.15);
    b = draw_number(ctx, 0.1);
  }
  Arithmetic out;
  const std::string first = op.ascii == "^" ? later(a) : a;  // -2^2 would be -(2^2)
  out.expression = first + (op.ascii == "^" ? "^" : " " + op.ascii + " ") + later(b);
  out.pretty = first + (op.ascii == "^" ? "^" : " " + op.pretty + " ") + later(b);
  if (ctx.rng.chance(0.4)) {
    const std::string& symbol = ctx.rng.pick(op.symbols);
    const bool tight = symbol == "^" || symbol == "**" || ctx.rng.chance(0.3);
    out.phrase = first + (tight ? symbol : " " + symbol + " ") + later(b);
  } else {
    out.phrase = fill(pick_operation(ctx, op.words), {{"a", a}, {"b", b}});
  }
  return out;
}

struct Compound {
  Phrasings phrases;
  std::string expression;
  std::string pretty;
  std::function<std::map<std::string, std::string>(TaskContext&)> vars;
};

std::string small(TaskContext& ctx) { return std::to_string(ctx.rng.range(2, 30)); }

const std::vector<Compound>& compounds() {
  static const std::vector<Compound> list = {
      {{{"the square root of {n}", "the root of {n}", "sqrt {n}"}, {"the square root taken of {n}"}},
       "sqrt({n})",
       "√{n}",
       [](TaskContext& ctx) {
         const int64_t k = ctx.rng.range(2, 99);
         return std::map<std::string, std::string>{
             {"n", std::to_string(ctx.rng.chance(0.6) ? k * k : ctx.rng.range(2, 9999))}};
       }},
      {{{"{a} squared", "the square of {a}"}, {"{a} to the second power"}}, "{a}^2", "{a}²",
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", draw_number(ctx, 0.0)}}; }},
      {{{"{a} cubed", "{a} to the third power"}, {"the cube of {a}"}}, "{a}^3", "{a}³",
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", small(ctx)}}; }},
      {{{"{a} squared plus {b}", "the square of {a} plus {b}"}, {"{b} more than {a} squared"}}, "{a}^2 + {b}",
       "{a}² + {b}",
       [](TaskContext& ctx) {
         return std::map<std::string, std::string>{{"a", small(ctx)}, {"b", std::to_string(draw_whole(ctx))}};
       }},
      {{{"the factorial of {n}", "{n}!", "{n} factorial"}, {"the factorial of the number {n}"}}, "{n}!", "{n}!",
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"n", std::to_string(ctx.rng.range(3, 20))}}; }},
      {{{"{p}% of {x}", "{p} percent of {x}"}, {"{p} per cent of {x}"}}, "{x} * {p} / 100", "{p}% of {x}",
       [](TaskContext& ctx) {
         static const std::vector<std::string> percents = {"5", "10", "12.5", "15", "20", "25", "30", "40",
                                                           "50", "75", "8", "3", "18", "60", "90", "120"};
         return std::map<std::string, std::string>{{"p", ctx.rng.pick(percents)}, {"x", draw_number(ctx, 0.0)}};
       }},
      {{{"({a} + {b}) * {c}", "the sum of {a} and {b}, times {c}", "({a} + {b}) x {c}"},
        {"{c} times the total of {a} and {b}"}},
       "({a} + {b}) * {c}",
       "({a} + {b}) × {c}",
       [](TaskContext& ctx) {
         return std::map<std::string, std::string>{
             {"a", std::to_string(draw_whole(ctx))}, {"b", std::to_string(draw_whole(ctx))}, {"c", small(ctx)}};
       }},
      {{{"the average of {a}, {b} and {c}", "the mean of {a}, {b} and {c}"}, {"the average value of {a}, {b} and {c}"}},
       "({a} + {b} + {c}) / 3",
       "({a} + {b} + {c}) ÷ 3",
       [](TaskContext& ctx) {
         return std::map<std::string, std::string>{
             {"a", draw_number(ctx, 0.0)}, {"b", draw_number(ctx, 0.0)}, {"c", draw_number(ctx, 0.0)}};
       }},
  };
  return list;
}

Arithmetic compound(TaskContext& ctx) {
  const auto& list = compounds();
  const Compound& c = list[ctx.rng.below(list.size())];
  const auto vars = c.vars(ctx);
  return {fill(pick_operation(ctx, c.phrases), vars), fill(c.expression, vars), fill(c.pretty, vars)};
}

// Word problems: the question, the expression, answer phrasings ({r} = the result).
struct WordProblem {
  std::string question;
  std::string expression;
  std::vector<std::string> answers;
  std::function<std::map<std::string, std::string>(TaskContext&)> vars;
};

std::string whole_in(TaskContext& ctx, int64_t lo, int64_t hi) { return std::to_string(ctx.rng.range(lo, hi)); }

std::string price(TaskContext& ctx) {
  return ctx.rng.chance(0.5) ? scaled_text(ctx.rng.range(50, 9999), 2) : whole_in(ctx, 1, 500);
}

const std::vector<WordProblem>& word_problems(bool held_out) {
  static const std::vector<WordProblem> train = {
      {"I have {a} boxes of {b} eggs. How many eggs is that?", "{a} * {b}",
       {"That is {r} eggs.", "You have {r} eggs in total.", "{a} × {b} = {r} eggs."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 2, 400)}, {"b", whole_in(ctx, 6, 36)}}; }},
      {"A ticket costs {p} dollars. How much do {n} tickets cost?", "{n} * {p}",
       {"{n} tickets cost {r} dollars.", "The total is {r} dollars."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"p", price(ctx)}, {"n", whole_in(ctx, 2, 60)}}; }},
      {"I had {a} apples and gave away {b}. How many apples do I have left?", "{a} - {b}",
       {"You have {r} apples left.", "{a} - {b} = {r}, so {r} apples are left."},
       [](TaskContext& ctx) {
         const int64_t a = ctx.rng.range(10, 5000);
         return std::map<std::string, std::string>{{"a", std::to_string(a)}, {"b", whole_in(ctx, 1, a)}};
       }},
      {"Split {a} dollars equally among {n} people. How much does each person get?", "{a} / {n}",
       {"Each person gets {r} dollars.", "That is {r} dollars each."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 10, 100000)}, {"n", whole_in(ctx, 2, 12)}}; }},
      {"A car drives at {s} km/h for {t} hours. How far does it go?", "{s} * {t}",
       {"It travels {r} km.", "The car covers {r} kilometres."},
       [](TaskContext& ctx) {
         return std::map<std::string, std::string>{{"s", whole_in(ctx, 20, 130)},
                                                   {"t", ctx.rng.chance(0.5) ? whole_in(ctx, 1, 12) : scaled_text(ctx.rng.range(5, 120), 1)}};
       }},
      {"The temperature was {t} degrees and then rose by {d} degrees. What is the temperature now?", "{t} + {d}",
       {"It is now {r} degrees.", "The temperature is now {r} degrees."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"t", whole_in(ctx, -30, 35)}, {"d", whole_in(ctx, 1, 25)}}; }},
      {"A recipe needs {g} grams of flour per cake. How much flour do I need for {n} cakes?", "{g} * {n}",
       {"You need {r} grams of flour.", "That takes {r} grams."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"g", whole_in(ctx, 100, 900)}, {"n", whole_in(ctx, 2, 40)}}; }},
      {"My rent is {m} per month. How much do I pay in a year?", "{m} * 12",
       {"You pay {r} per year.", "That is {r} a year."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"m", whole_in(ctx, 300, 5000)}}; }},
      {"A box holds {b} pencils. How many pencils are in {a} boxes?", "{a} * {b}",
       {"There are {r} pencils.", "{a} boxes hold {r} pencils."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 2, 300)}, {"b", whole_in(ctx, 5, 50)}}; }},
      {"A shop sold {a} shirts on Monday and {b} on Tuesday. How many shirts did it sell?", "{a} + {b}",
       {"It sold {r} shirts.", "That is {r} shirts in total."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 1, 900)}, {"b", whole_in(ctx, 1, 900)}}; }},
      {"I saved {a} dollars and spent {b} of them. How much money is left?", "{a} - {b}",
       {"You have {r} dollars left.", "{r} dollars are left."},
       [](TaskContext& ctx) {
         const int64_t a = ctx.rng.range(20, 20000);
         return std::map<std::string, std::string>{{"a", std::to_string(a)}, {"b", whole_in(ctx, 1, a)}};
       }},
      {"{n} friends share {a} candies equally. How many candies does each friend get?", "{a} / {n}",
       {"Each friend gets {r} candies.", "That is {r} candies each."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 10, 5000)}, {"n", whole_in(ctx, 2, 20)}}; }},
      {"A worker earns {w} dollars an hour. How much does she earn in {h} hours?", "{w} * {h}",
       {"She earns {r} dollars.", "That comes to {r} dollars."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"w", price(ctx)}, {"h", whole_in(ctx, 2, 200)}}; }},
      {"A farm has {a} cows and buys {b} more. How many cows does it have now?", "{a} + {b}",
       {"The farm has {r} cows.", "It now has {r} cows."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"a", whole_in(ctx, 5, 3000)}, {"b", whole_in(ctx, 1, 500)}}; }},
      {"A rope is {a} meters long and I cut off {b} meters. How long is the rope now?", "{a} - {b}",
       {"The rope is {r} meters long.", "{r} meters remain."},
       [](TaskContext& ctx) {
         const int64_t a = ctx.rng.range(10, 2000);
         return std::map<std::string, std::string>{{"a", std::to_string(a)}, {"b", whole_in(ctx, 1, a - 1)}};
       }},
      {"There are {n} classes with {s} students in each. How many students are there?", "{n} * {s}",
       {"There are {r} students.", "That makes {r} students."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"n", whole_in(ctx, 2, 80)}, {"s", whole_in(ctx, 10, 45)}}; }},
  };
  static const std::vector<WordProblem> eval = {
      {"A train has {c} cars with {s} seats each. How many seats are there in total?", "{c} * {s}",
       {"The train has {r} seats."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"c", whole_in(ctx, 3, 30)}, {"s", whole_in(ctx, 40, 120)}}; }},
      {"I read {p} pages a day. How many pages do I read in {d} days?", "{p} * {d}",
       {"You read {r} pages."},
       [](TaskContext& ctx) { return std::map<std::string, std::string>{{"p", whole_in(ctx, 5, 90)}, {"d", whole_in(ctx, 2, 365)}}; }},
      {"A tank holds {a} liters and {b} liters leak out. How much water is left?", "{a} - {b}",
       {"{r} liters are left."},
       [](TaskContext& ctx) {
         const int64_t a = ctx.rng.range(100, 9000);
         return std::map<std::string, std::string>{{"a", std::to_string(a)}, {"b", whole_in(ctx, 1, a)}};
       }},
  };
  return held_out ? eval : train;
}

const std::vector<std::string> kAnswers = {"{pretty} = {r}.", "The answer is {r}.", "That is {r}.", "{r}",
                                           "It comes to {r}.", "The result is {r}.", "{Phrase} is {r}."};

}  // namespace

Arithmetic draw_arithmetic(TaskContext& ctx) { return ctx.rng.chance(0.7) ? binary(ctx) : compound(ctx); }

Conversation make_calculator_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "calculator", true, 0.5);
  std::string question, expression, answer_template;
  std::map<std::string, std::string> vars;
  // A word problem names its operation with the scenario's words, so the known-words split asks none.
  if (ctx.rng.chance(0.25) && !ctx.known_words) {
    const auto& problems = word_problems(ctx.eval);
    const WordProblem& p = problems[ctx.rng.below(problems.size())];
    vars = p.vars(ctx);
    question = chatter(ctx, fill(p.question, vars));
    expression = fill(p.expression, vars);
    answer_template = ctx.rng.pick(p.answers);
  } else {
    const Arithmetic a = draw_arithmetic(ctx);
    question = chatter(ctx, capitalize(fill(pick(ctx, kFrames), {{"E", a.phrase}})));
    expression = a.expression;
    vars = {{"pretty", a.pretty}, {"Phrase", capitalize(a.phrase)}};
    answer_template = ctx.rng.pick(kAnswers);
  }
  c.messages.push_back({{"role", "user"}, {"content", question}});
  const ojson arguments = {{"expression", expression}};
  c.messages.push_back({{"role", "assistant"}, {"content", ""}, {"tool_calls", {tool_call("calculator", arguments)}}});
  const nlohmann::json result = call_tool(ctx, "calculator", arguments);
  add_tool_message(c, result);
  vars["r"] = result_text(result, "text", "calculator");
  c.messages.push_back({{"role", "assistant"}, {"content", fill(answer_template, vars)}});
  return c;
}

}  // namespace chorus::training::curriculum
