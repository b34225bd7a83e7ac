// The "calendar" task (weekday, add, diff, business_days and iso_week operations of tools/calendar.h; "today" is
// left out because its result depends on the clock) and the "multi" task (two tool calls in one message).
#include "training/curriculum-tasks.h"

namespace chorus::training::curriculum {
namespace {

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

// Days since 1970-01-01 and back (Howard Hinnant's civil-day algorithms).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string pad2(int v) {
  std::string out = std::to_string(v);
  if (v < 10) out.insert(0, 1, '0');
  return out;
}

std::string ordinal(int d) {
  const char* suffix = (d % 100 >= 11 && d % 100 <= 13) ? "th"
                       : d % 10 == 1                    ? "st"
                       : d % 10 == 2                    ? "nd"
                       : d % 10 == 3                    ? "rd"
                                                        : "th";
  return std::to_string(d) + suffix;
}

DrawnDate make_date(TaskContext& ctx, int y, int m, int d) {
  DrawnDate out;
  out.year = y, out.month = m, out.day = d;
  out.iso = std::to_string(y) + "-" + pad2(m) + "-" + pad2(d);
  const std::string month(month_names()[m - 1]);
  if (ctx.eval && ctx.rng.chance(0.3)) {
    out.written = std::string("the ") + ordinal(d) + " of " + month + " " + std::to_string(y);  // held-out form
    return out;
  }
  switch (ctx.rng.below(5)) {
    case 0:
    case 1:
      out.written = out.iso;
      break;
    case 2:
      out.written = month + " " + std::to_string(d) + ", " + std::to_string(y);
      break;
    case 3:
      out.written = std::to_string(d) + " " + month + " " + std::to_string(y);
      break;
    default:
      out.written = month.substr(0, 3) + " " + std::to_string(d) + ", " + std::to_string(y);
      break;
  }
  return out;
}

DrawnDate from_days(TaskContext& ctx, int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  return make_date(ctx, static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
}

int64_t serial(const DrawnDate& d) { return days_from_civil(d.year, d.month, d.day); }

// A date `span` days after `d`, drawn in [lo, hi].
DrawnDate later_date(TaskContext& ctx, const DrawnDate& d, int64_t lo, int64_t hi) {
  return from_days(ctx, serial(d) + ctx.rng.range(lo, hi));
}

struct Answered {
  std::string question;
  ojson arguments;
  std::string answer_template;  // {r...} fields filled from the result
  std::map<std::string, std::string> vars;
};

const std::vector<std::string> kWeekdayAnswers = {"{D} is a {weekday}.", "It is a {weekday}.",
                                                  "That day is a {weekday}.", "{D} falls on a {weekday}.",
                                                  "A {weekday}."};

Answered weekday_question(TaskContext& ctx) {
  static const Phrasings q = {
      {"What day of the week is {D}?", "Which weekday was {D}?", "What day of the week did {D} fall on?",
       "On which day of the week is {D}?", "Which day of the week will {D} be?", "{D} is which day of the week?",
       "what weekday is {D}", "Which day was {D}?", "Name the weekday of {D}.", "What day is {D}?",
       "Which day of the week is {D}?"},
      {"Tell me the weekday of {D}.", "{D}: what day of the week is that?"}};
  const DrawnDate d = draw_date(ctx);
  Answered a;
  a.vars = {{"D", d.written}};
  a.question = capitalize(fill(pick(ctx, q), a.vars));
  a.arguments = {{"operation", "weekday"}, {"date", d.iso}};
  a.answer_template = ctx.rng.pick(kWeekdayAnswers);
  return a;
}

Answered add_question(TaskContext& ctx) {
  static const Phrasings after = {
      {"What date is {n} {unit} after {D}?", "What is the date {n} {unit} from {D}?", "Add {n} {unit} to {D}.",
       "If today is {D}, what is the date in {n} {unit}?", "Which date comes {n} {unit} after {D}?",
       "What is {D} plus {n} {unit}?", "What's the date {n} {unit} after {D}?", "Count {n} {unit} on from {D}.",
       "{D} plus {n} {unit}: which date?", "Move {D} forward by {n} {unit}."},
      {"Starting from {D}, count forward {n} {unit}. Which date do you reach?"}};
  static const Phrasings before = {
      {"What date was {n} {unit} before {D}?", "What is {D} minus {n} {unit}?",
       "Which date is {n} {unit} earlier than {D}?", "If today is {D}, what was the date {n} {unit} ago?",
       "What's the date {n} {unit} before {D}?", "Subtract {n} {unit} from {D}.", "Move {D} back by {n} {unit}."},
      {"Go back {n} {unit} from {D}. What date is it?"}};
  static const std::vector<std::string> answers = {"{n} {unit} {direction} {D} is {date}, a {weekday}.",
                                                   "The date is {date} ({weekday}).", "It is {date}.",
                                                   "That is {weekday}, {date}."};
  const DrawnDate d = draw_date(ctx);
  const uint64_t kind = ctx.rng.below(10);
  std::string unit;
  int64_t n = 0;
  if (kind < 5) unit = "day", n = ctx.rng.range(1, 400);
  else if (kind < 7) unit = "week", n = ctx.rng.range(1, 52);
  else if (kind < 9) unit = "month", n = ctx.rng.range(1, 24);
  else unit = "year", n = ctx.rng.range(1, 30);
  const bool back = ctx.rng.chance(0.25);
  Answered a;
  a.vars = {{"D", d.written}, {"n", std::to_string(n)}, {"unit", n == 1 ? unit : unit + "s"},
            {"direction", back ? "before" : "after"}};
  a.question = capitalize(fill(pick(ctx, back ? before : after), a.vars));
  a.arguments = {{"operation", "add"}, {"date", d.iso}, {"amount", back ? -n : n}, {"unit", unit + "s"}};
  a.answer_template = ctx.rng.pick(answers);
  return a;
}

Answered diff_question(TaskContext& ctx) {
  static const Phrasings days = {
      {"How many days are there between {D1} and {D2}?", "How many days from {D1} to {D2}?",
       "How many days passed between {D1} and {D2}?", "How long is it from {D1} until {D2}, in days?",
       "Count the days from {D1} to {D2}.", "Days between {D1} and {D2}?",
       "How many days does it take to get from {D1} to {D2}?", "What's the gap in days between {D1} and {D2}?"},
      {"What is the number of days separating {D1} and {D2}?"}};
  static const Phrasings weeks = {{"How many weeks are there between {D1} and {D2}?",
                                   "How many weeks from {D1} to {D2}?", "Weeks between {D1} and {D2}?",
                                   "What's the gap in weeks between {D1} and {D2}?"},
                                  {"In weeks, how far apart are {D1} and {D2}?"}};
  const DrawnDate d1 = draw_date(ctx);
  const DrawnDate d2 = ctx.rng.chance(0.5) ? later_date(ctx, d1, 1, 400) : later_date(ctx, d1, 1, 20000);
  Answered a;
  a.vars = {{"D1", d1.written}, {"D2", d2.written}};
  a.arguments = {{"operation", "diff"}, {"start", d1.iso}, {"end", d2.iso}};
  if (ctx.rng.chance(0.2)) {
    a.question = capitalize(fill(pick(ctx, weeks), a.vars));
    a.answer_template = ctx.rng.pick(std::vector<std::string>{
        "{weeks} weeks and {remainder_days} days ({days} days in all).",
        "It is {weeks} whole weeks plus {remainder_days} days, {days} days in total."});
  } else {
    a.question = capitalize(fill(pick(ctx, days), a.vars));
    a.answer_template = ctx.rng.pick(std::vector<std::string>{
        "There are {days} days between {D1} and {D2}.", "It is {days} days.", "{days} days."});
  }
  return a;
}

Answered business_days_question(TaskContext& ctx) {
  static const Phrasings q = {{"How many business days are there from {D1} to {D2}?",
                               "How many working days are between {D1} and {D2}?",
                               "Count the weekdays from {D1} up to {D2}.", "Business days between {D1} and {D2}?"},
                              {"How many workdays lie between {D1} and {D2}?"}};
  // The held-out form's "workdays" is a word training never uses; the known-words split asks a new sentence
  // around the trained "working days" instead.
  static const std::vector<std::string> known = {"Between {D1} and {D2}, how many working days are there?"};
  const DrawnDate d1 = draw_date(ctx);
  const DrawnDate d2 = later_date(ctx, d1, 1, 120);
  Answered a;
  a.vars = {{"D1", d1.written}, {"D2", d2.written}};
  a.question = capitalize(fill(ctx.known_words ? ctx.rng.pick(known) : pick(ctx, q), a.vars));
  a.arguments = {{"operation", "business_days"}, {"start", d1.iso}, {"end", d2.iso}};
  a.answer_template = ctx.rng.pick(std::vector<std::string>{
      "There are {business_days} business days from {D1} up to (not including) {D2}.",
      "{business_days} working days."});
  return a;
}

Answered iso_week_question(TaskContext& ctx) {
  static const Phrasings q = {{"What ISO week is {D} in?", "Which week number is {D}?",
                               "What is the ISO week number of {D}?", "ISO week of {D}?",
                               "Which ISO week contains {D}?"},
                              {"In which calendar week does {D} fall?"}};
  const DrawnDate d = draw_date(ctx);
  Answered a;
  a.vars = {{"D", d.written}};
  a.question = capitalize(fill(pick(ctx, q), a.vars));
  a.arguments = {{"operation", "iso_week"}, {"date", d.iso}};
  a.answer_template = ctx.rng.pick(std::vector<std::string>{"{D} is in ISO week {week} of {iso_year} ({iso_week}).",
                                                            "Week {week} ({iso_week})."});
  return a;
}

// The result fields an answer template may use.
void add_result_vars(std::map<std::string, std::string>& vars, const nlohmann::json& result, const std::string& text) {
  for (const char* field : {"date", "weekday", "days", "weeks", "remainder_days", "business_days", "week", "iso_year",
                            "iso_week"}) {
    if (text.find(std::string("{") + field + "}") != std::string::npos) vars[field] = result_text(result, field, "calendar");
  }
}

Answered calendar_question(TaskContext& ctx) {
  const uint64_t k = ctx.rng.below(10);
  if (k < 3) return weekday_question(ctx);
  if (k < 6) return add_question(ctx);
  if (k < 8) return diff_question(ctx);
  if (k < 9) return business_days_question(ctx);
  return iso_week_question(ctx);
}

}  // namespace

const std::array<std::string_view, 12>& month_names() {
  static const std::array<std::string_view, 12> names = {"January",   "February", "March",    "April",
                                                         "May",       "June",     "July",     "August",
                                                         "September", "October",  "November", "December"};
  return names;
}

// Years: train 1950-2009 and 2015-2040; eval half the time from the held-out 2010-2014.
DrawnDate draw_date(TaskContext& ctx) {
  int year = 0;
  if (ctx.eval && ctx.rng.chance(0.5)) {
    year = static_cast<int>(ctx.rng.range(2010, 2014));
  } else {
    year = static_cast<int>(ctx.rng.range(1950, 2035));
    if (year >= 2010) year += 5;
  }
  const int month = static_cast<int>(ctx.rng.range(1, 12));
  const int day = static_cast<int>(ctx.rng.range(1, days_in_month(year, month)));
  return make_date(ctx, year, month, day);
}

Conversation make_calendar_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "calendar", true, 0.5);
  Answered a = calendar_question(ctx);
  c.messages.push_back({{"role", "user"}, {"content", chatter(ctx, a.question)}});
  c.messages.push_back({{"role", "assistant"}, {"content", ""}, {"tool_calls", {tool_call("calendar", a.arguments)}}});
  const nlohmann::json result = call_tool(ctx, "calendar", a.arguments);
  add_tool_message(c, result);
  add_result_vars(a.vars, result, a.answer_template);
  c.messages.push_back({{"role", "assistant"}, {"content", fill(a.answer_template, a.vars)}});
  return c;
}

Conversation make_multi_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "multi", true, 0.5);
  const Arithmetic e1 = draw_arithmetic(ctx);
  const ojson calc1 = {{"expression", e1.expression}};
  if (ctx.rng.chance(0.5)) {  // calculator + calendar weekday
    static const Phrasings q = {{"What is {E} and what day of the week is {D}?",
                                 "Two questions: what is {E}? And which weekday is {D}?",
                                 "Compute {E}, and tell me the day of the week of {D}."},
                                {"I have two things to ask: the value of {E}, and the weekday of {D}."}};
    const DrawnDate d = draw_date(ctx);
    const ojson cal = {{"operation", "weekday"}, {"date", d.iso}};
    c.messages.push_back(
        {{"role", "user"}, {"content", chatter(ctx, capitalize(fill(pick(ctx, q), {{"E", e1.phrase}, {"D", d.written}})))}});
    c.messages.push_back({{"role", "assistant"},
                          {"content", ""},
                          {"tool_calls", {tool_call("calculator", calc1), tool_call("calendar", cal)}}});
    const nlohmann::json r1 = call_tool(ctx, "calculator", calc1), r2 = call_tool(ctx, "calendar", cal);
    add_tool_message(c, r1);
    add_tool_message(c, r2);
    c.messages.push_back(
        {{"role", "assistant"},
         {"content", e1.pretty + " = " + result_text(r1, "text", "calculator") + ", and " + d.written + " is a " +
                         result_text(r2, "weekday", "calendar") + "."}});
  } else {  // two calculator calls
    static const Phrasings q = {{"What are {E1} and {E2}?", "Compute {E1} and also {E2}.",
                                 "Please work out {E1}, then {E2}."},
                                {"Give me both {E1} and {E2}."}};
    const Arithmetic e2 = draw_arithmetic(ctx);
    const ojson calc2 = {{"expression", e2.expression}};
    c.messages.push_back(
        {{"role", "user"}, {"content", chatter(ctx, capitalize(fill(pick(ctx, q), {{"E1", e1.phrase}, {"E2", e2.phrase}})))}});
    c.messages.push_back({{"role", "assistant"},
                          {"content", ""},
                          {"tool_calls", {tool_call("calculator", calc1), tool_call("calculator", calc2)}}});
    const nlohmann::json r1 = call_tool(ctx, "calculator", calc1), r2 = call_tool(ctx, "calculator", calc2);
    add_tool_message(c, r1);
    add_tool_message(c, r2);
    c.messages.push_back({{"role", "assistant"},
                          {"content", e1.pretty + " = " + result_text(r1, "text", "calculator") + " and " +
                                          e2.pretty + " = " + result_text(r2, "text", "calculator") + "."}});
  }
  return c;
}

}  // namespace chorus::training::curriculum
