// What a final answer must state to count as stating the tool's result (`chorus train eval`): the values the tool
// computed, not echoes of the question or of the call's arguments.
#include "cli/answer-values.h"

#include <gtest/gtest.h>

namespace chorus::cli {
namespace {

using json = nlohmann::json;
using Values = std::vector<std::string>;

TEST(AnswerValues, ContainsTokenNeedsNoLetterOrDigitAround) {
  EXPECT_TRUE(contains_token("That is 259.", "259"));
  EXPECT_FALSE(contains_token("That is 2590.", "259"));
  EXPECT_FALSE(contains_token("It is 1259.", "259"));
  EXPECT_TRUE(contains_token("(-14)", "-14"));
  EXPECT_TRUE(contains_token("2011-W36", "2011"));  // a hyphen bounds a token
  EXPECT_FALSE(contains_token("anything", ""));
}

TEST(AnswerValues, TheExpressionEchoedFromTheCallNeedNotBeRepeated) {
  const json result = {{"expression", "273 + (-14)"}, {"result", 259}, {"text", "259"}};
  const Values required = result_values_to_state({result}, {{{"expression", "273 + (-14)"}}},
                                                  "I need the value of 273 and -14 added together.", "273 + (-14) = 259.");
  EXPECT_EQ(required, (Values{"259", "259"}));
}

TEST(AnswerValues, TheDateAskedAboutNeedNotBeRepeated) {
  // day_of_year 9 equals the day of the month the question and the reference name: it is not a result to state.
  const json result = {{"date", "2012-01-09"}, {"day_of_year", 9},      {"iso_week", "2012-W02"},
                       {"iso_weekday", 1},     {"operation", "weekday"}, {"weekday", "Monday"}};
  const json args = {{"operation", "weekday"}, {"date", "2012-01-09"}};
  EXPECT_EQ(result_values_to_state({result}, {args}, "9 January 2012: what day of the week is that?",
                                   "9 January 2012 falls on a Monday."),
            Values{"Monday"});
}

TEST(AnswerValues, EveryComputedValueTheReferenceStatesIsRequired) {
  const json result = {{"days", 16259}, {"operation", "diff"}, {"remainder_days", 5}, {"weeks", 2322}};
  const json args = {{"operation", "diff"}, {"start", "2014-05-14"}, {"end", "2058-11-18"}};
  EXPECT_EQ(result_values_to_state({result}, {args}, "In weeks, how far apart are May 14, 2014 and 18 November 2058?",
                                   "It is 2322 whole weeks plus 5 days, 16259 days in total."),
            (Values{"16259", "5", "2322"}));
}

TEST(AnswerValues, TwoCallsEachGiveTheirResult) {
  const json sum = {{"expression", "5^5"}, {"result", 3125}, {"text", "3125"}};
  const json weekday = {{"date", "1966-11-17"}, {"operation", "weekday"}, {"weekday", "Thursday"}};
  EXPECT_EQ(result_values_to_state({sum, weekday}, {{{"expression", "5^5"}}, {{"operation", "weekday"}, {"date", "1966-11-17"}}},
                                   "Two things: 5**5, and the weekday of 17 November 1966.",
                                   "5^5 = 3125, and 17 November 1966 is a Thursday."),
            (Values{"3125", "3125", "Thursday"}));
}

TEST(AnswerValues, WhenTheResultEqualsAnInputEverythingTheReferenceStatesIsRequired) {
  const json result = {{"expression", "5 + 0"}, {"result", 5}, {"text", "5"}};
  EXPECT_EQ(result_values_to_state({result}, {{{"expression", "5 + 0"}}}, "What is 5 + 0?", "5 + 0 = 5."),
            (Values{"5 + 0", "5", "5"}));
}

TEST(AnswerValues, AReferenceThatStatesNoValueRequiresNone) {
  const json result = {{"expression", "2 + 2"}, {"result", 4}, {"text", "4"}};
  EXPECT_TRUE(result_values_to_state({result}, {json::parse("not json", nullptr, false)}, "2 + 2?", "Done.").empty());
}

}  // namespace
}  // namespace chorus::cli
