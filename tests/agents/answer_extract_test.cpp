// Answer extraction from reasoning text: final_answer tags, \boxed{}, numbers, option letters, last lines,
// and comparing answers by format.
#include "agents/answer-extract.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace chorus::agents {
namespace {

using F = AnswerFormat;

std::string got(const std::string& text, F format) {
  auto answer = extract_answer(text, format);
  return answer ? *answer : "<none>";
}

TEST(AnswerExtract, ParsesFormatNames) {
  EXPECT_EQ(parse_answer_format("text"), F::text);
  EXPECT_EQ(parse_answer_format("number"), F::number);
  EXPECT_EQ(parse_answer_format("letter"), F::letter);
  try {
    parse_answer_format("digits");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'digits' is not one of text, number, letter"), std::string::npos);
  }
}

TEST(AnswerExtract, TheLastFinalAnswerTagWins) {
  const std::string text =
      "Agent_A: <final_answer>12</final_answer>\nAgent_B: <final_answer>14</final_answer>\n"
      "After debate: <final_answer> 13 </final_answer>\nThe end, 99 apples.";
  EXPECT_EQ(got(text, F::number), "13");
  EXPECT_EQ(got(text, F::text), "13");
}

TEST(AnswerExtract, TagsAreCaseInsensitiveAndAnUnclosedLastTagRunsToTheEnd) {
  EXPECT_EQ(got("<FINAL_ANSWER>Paris</FINAL_ANSWER>", F::text), "Paris");
  EXPECT_EQ(got("<final_answer>1</final_answer> then <final_answer>the answer is 42", F::number), "42");
  EXPECT_EQ(got("<final_answer>Blue whale\n", F::text), "Blue whale");
}

TEST(AnswerExtract, AnEmptyTagFallsBackToTheRestOfTheText) {
  EXPECT_EQ(got("So it is \\boxed{7}. <final_answer></final_answer>", F::number), "7");
  EXPECT_EQ(got("total 8\n<final_answer>", F::number), "8");
}

TEST(AnswerExtract, TagContentIsNormalizedByFormat) {
  EXPECT_EQ(got("<final_answer>The total is $1,234.50.</final_answer>", F::number), "1234.5");
  EXPECT_EQ(got("<final_answer>(c)</final_answer>", F::letter), "C");
  EXPECT_EQ(got("<final_answer>Option B is right</final_answer>", F::letter), "B");
  // The tag decides: a tag without a number is no answer, even with numbers in the reasoning.
  EXPECT_EQ(got("3 + 4 = 7 <final_answer>seven</final_answer>", F::number), "<none>");
}

TEST(AnswerExtract, BoxedAnswersComeNextWithNestedBraces) {
  EXPECT_EQ(
      got("We get \\boxed{5} first, then \\boxed{\\frac{1}{2}} ... wait, \\boxed{12}. Check: 13", F::number),
      "12");
  EXPECT_EQ(got("Answer: \\boxed{x^{2}+1}", F::text), "x^{2}+1");
  EXPECT_EQ(got("\\boxed{-3.50} and an unclosed \\boxed{9", F::number), "-3.5");
}

TEST(AnswerExtract, NumbersAreCanonical) {
  EXPECT_EQ(got("so the total is 1,234.50 dollars", F::number), "1234.5");
  EXPECT_EQ(got("the result is 7.0", F::number), "7");
  EXPECT_EQ(got("it is 0.250", F::number), "0.25");
  EXPECT_EQ(got("about .5 of it", F::number), "0.5");
  EXPECT_EQ(got("population 12,000,000.", F::number), "12000000");
  EXPECT_EQ(got("007 agents", F::number), "7");
}

TEST(AnswerExtract, NegativeNumbersAndHyphens) {
  EXPECT_EQ(got("The temperature fell to -12 degrees.", F::number), "-12");
  EXPECT_EQ(got("x = -0.75", F::number), "-0.75");
  EXPECT_EQ(got("pages 3-4", F::number), "4");
  EXPECT_EQ(got("use model x2 for 5 minutes", F::number), "5");
}

TEST(AnswerExtract, OptionLetters) {
  EXPECT_EQ(got("The answer is (C).", F::letter), "C");
  EXPECT_EQ(got("I think (A) is tempting, but the answer is D because of B's flaw", F::letter), "D");
  EXPECT_EQ(got("Answer: b.", F::letter), "B");
  EXPECT_EQ(got("the answer is a cat", F::letter), "<none>");  // lower case "a" is the article here
  EXPECT_EQ(got("b", F::letter), "B");
  EXPECT_EQ(got("A careful look shows it.\nB.", F::letter), "B");
  EXPECT_EQ(got("I am sure: E", F::letter), "E");
  EXPECT_EQ(got("A bird in the hand. I agree.", F::letter), "<none>");
  EXPECT_EQ(got("Options K and Z are not options", F::letter), "<none>");
}

TEST(AnswerExtract, TextIsTheLastNonEmptyLine) {
  EXPECT_EQ(got("Step 1: think.\nStep 2: more.\nFinal answer: Canberra\n\n  \n", F::text), "Canberra");
  EXPECT_EQ(got("just one line", F::text), "just one line");
}

TEST(AnswerExtract, NothingFoundIsNullopt) {
  EXPECT_FALSE(extract_answer("no digits here at all", F::number));
  EXPECT_FALSE(extract_answer("", F::text));
  EXPECT_FALSE(extract_answer(" \n\t\n", F::text));
  EXPECT_FALSE(extract_answer("nothing lettered here", F::letter));
}

TEST(AnswersMatch, NumbersCompareNumericallyWithinTolerance) {
  EXPECT_TRUE(answers_match("1,234.50", "1234.5", F::number));
  EXPECT_TRUE(answers_match("The answer is 42.", "42", F::number));
  EXPECT_TRUE(answers_match("1000000.0000001", "1000000", F::number));
  EXPECT_TRUE(answers_match("0.0000001", "0", F::number));
  EXPECT_FALSE(answers_match("0.001", "0", F::number));
  EXPECT_FALSE(answers_match("-5", "5", F::number));
  EXPECT_FALSE(answers_match("forty-two", "42", F::number));
}

TEST(AnswersMatch, LettersIgnoreCase) {
  EXPECT_TRUE(answers_match("c", "C", F::letter));
  EXPECT_TRUE(answers_match("(B)", "B", F::letter));
  EXPECT_FALSE(answers_match("A", "B", F::letter));
  EXPECT_FALSE(answers_match("", "B", F::letter));
}

TEST(AnswersMatch, TextIsTrimmedLowerCasedWithoutATrailingPeriod) {
  EXPECT_TRUE(answers_match("  Paris. ", "paris", F::text));
  EXPECT_TRUE(answers_match("Blue Whale", "blue whale.", F::text));
  EXPECT_FALSE(answers_match("Paris, France", "Paris", F::text));
}

}  // namespace
}  // namespace chorus::agents
