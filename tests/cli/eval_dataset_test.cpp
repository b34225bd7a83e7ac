// The readers behind `chorus eval`: CSV records, the three dataset formats with file:line errors, the question
// prompt, and --provider specs.
#include "cli/csv-records.h"
#include "cli/eval-dataset.h"
#include "cli/provider-override.h"
#include "runtime/workflow-spec.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace chorus::cli {
namespace {

using nlohmann::json;

std::vector<std::vector<std::string>> fields_of(const std::vector<CsvRecord>& records) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : records) out.push_back(r.fields);
  return out;
}

TEST(CsvRecords, QuotingDoubledQuotesLineBreaksAndCrlf) {
  auto records = parse_csv("a,\"b, c\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",,x\nlast,\"\"");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(fields_of(records), (std::vector<std::vector<std::string>>{
                                    {"a", "b, c", "say \"hi\""}, {"two\nlines", "", "x"}, {"last", ""}}));
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[1].line, 3);
  EXPECT_EQ(records[2].line, 5);
  EXPECT_EQ(parse_csv("x,y").size(), 1u);  // no final line break
  EXPECT_TRUE(parse_csv("\n\n").empty());
}

TEST(CsvRecords, MalformedQuotesNameTheLine) {
  try {
    parse_csv("ok,1\n\"open,2\nmore\n");
    FAIL() << "an unclosed quote was accepted";
  } catch (const CsvError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("never closed"), std::string::npos) << e.what();
  }
  try {
    parse_csv("a,b\n\"x\"y,z\n");
    FAIL() << "text after a closing quote was accepted";
  } catch (const CsvError& e) {
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(EvalDataset, MmluWithAndWithoutHeader) {
  auto with_header = parse_dataset("question,A,B,C,D,answer\n\"Pick, one\",w,x,y,z,c\n", "m.csv", DatasetFormat::mmlu);
  ASSERT_EQ(with_header.size(), 1u);
  EXPECT_EQ(with_header[0].line, 2);
  EXPECT_EQ(with_header[0].question, "Pick, one");
  EXPECT_EQ(with_header[0].choices, (std::vector<std::string>{"w", "x", "y", "z"}));
  EXPECT_EQ(with_header[0].expected, "C");
  auto plain = parse_dataset("\xEF\xBB\xBFQ1,a,b,A\nQ2,a,b,c,d,D\n", "m.csv", DatasetFormat::mmlu);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].question, "Q1");  // the byte order mark is dropped
  EXPECT_EQ(plain[0].choices.size(), 2u);
  EXPECT_EQ(plain[1].expected, "D");
}

TEST(EvalDataset, MmluErrorsNameFileAndLine) {
  auto message = [](const std::string& text) {
    try {
      parse_dataset(text, "m.csv", DatasetFormat::mmlu);
    } catch (const DatasetError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("Q,a,b,c,d,A\nQ,a,b,c,d,E\n").rfind("m.csv:2: the answer 'E' is not one of the 4 options", 0), 0u);
  EXPECT_EQ(message("Q,a,b,c,d,A\nQ,a,b,c,d,AB\n").rfind("m.csv:2: the answer 'AB' is not an option letter", 0), 0u);
  EXPECT_EQ(message("\nonly two,A\n").rfind("m.csv:2: expected question,A,B,C,D,answer", 0), 0u);
  EXPECT_EQ(message("Q,a,b,A\n\"open,a,b,A\n").rfind("m.csv:2: a quoted field opened here is never closed", 0), 0u);
}

TEST(EvalDataset, Gsm8kTakesTheNumberAfterTheLastMarker) {
  auto questions = parse_dataset(
      "\n{\"question\": \"How many?\", \"answer\": \"3 #### no\\n4 + 5 = 9\\n#### 1,234\"}\n\n",
      "g.jsonl", DatasetFormat::gsm8k);
  ASSERT_EQ(questions.size(), 1u);
  EXPECT_EQ(questions[0].line, 2);
  EXPECT_EQ(questions[0].expected, "1234");
}

TEST(EvalDataset, JsonlErrorsNameFileAndLine) {
  auto message = [](const std::string& text, DatasetFormat format) {
    try {
      parse_dataset(text, "d.jsonl", format);
    } catch (const DatasetError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("{\"question\": \"q\", \"answer\": \"42\"}\n", DatasetFormat::gsm8k)
                .rfind("d.jsonl:1: the GSM8K answer has no \"####\"", 0),
            0u);
  EXPECT_EQ(message("\n{not json\n", DatasetFormat::jsonl).rfind("d.jsonl:2: not valid JSON", 0), 0u);
  EXPECT_EQ(message("[1]\n", DatasetFormat::jsonl).rfind("d.jsonl:1: expected a JSON object", 0), 0u);
  EXPECT_EQ(message("{\"answer\": \"a\"}\n", DatasetFormat::jsonl).rfind("d.jsonl:1: \"question\" is missing", 0), 0u);
  EXPECT_EQ(message("{\"question\": \"q\"}\n", DatasetFormat::jsonl).rfind("d.jsonl:1: \"answer\" is missing", 0), 0u);
  EXPECT_EQ(message("{\"question\": \"q\", \"answer\": \"a\", \"choices\": \"x\"}\n", DatasetFormat::jsonl)
                .rfind("d.jsonl:1: \"choices\" must be an array", 0),
            0u);
  EXPECT_EQ(message("{\"question\": \"q\", \"answer\": \"#### 5\"}\n", DatasetFormat::gsm8k), "accepted");
}

TEST(EvalDataset, JsonlAnswersAndChoices) {
  auto questions = parse_dataset(
      "{\"question\": \"Sky?\", \"answer\": \"blue\", \"choices\": [\"red\", \"blue\"]}\n"
      "{\"question\": \"Half?\", \"answer\": 0.5}\n",
      "d.jsonl", DatasetFormat::jsonl);
  ASSERT_EQ(questions.size(), 2u);
  EXPECT_EQ(questions[0].choices, (std::vector<std::string>{"red", "blue"}));
  EXPECT_EQ(questions[1].expected, "0.5");
  EXPECT_TRUE(questions[1].choices.empty());
}

TEST(EvalDataset, PromptListsOptionsAndAsksForTheLetter) {
  EvalQuestion q;
  q.question = "Which?";
  q.choices = {"one", "two", "three"};
  EXPECT_EQ(question_prompt(q, true), "Which?\nA) one\nB) two\nC) three\nAnswer with the letter of the correct option (A-C).");
  EXPECT_EQ(question_prompt(q, false), "Which?\nA) one\nB) two\nC) three");
  q.choices.clear();
  EXPECT_EQ(question_prompt(q, true), "Which?");
}

TEST(EvalDataset, FormatNames) {
  EXPECT_EQ(parse_dataset_format("gsm8k"), DatasetFormat::gsm8k);
  EXPECT_EQ(to_string(parse_dataset_format("mmlu")), "mmlu");
  EXPECT_THROW(parse_dataset_format("csv"), std::invalid_argument);
  EXPECT_THROW(read_dataset("/nonexistent/x.jsonl", DatasetFormat::jsonl), DatasetError);
}

TEST(ProviderSpec, ShortFormsAndJson) {
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(parse_provider_spec("local:models/tiny"), json({{"provider", "local"}, {"model", cwd + "/models/tiny"}}));
  EXPECT_EQ(parse_provider_spec("scripted:/tmp/a.json"), json({{"provider", "scripted"}, {"file", "/tmp/a.json"}}));
  EXPECT_EQ(parse_provider_spec("openai:gpt-4o-mini"), json({{"provider", "openai"}, {"model", "gpt-4o-mini"}}));
  EXPECT_EQ(parse_provider_spec("openai:qwen@http://127.0.0.1:8000/v1"),
            json({{"provider", "openai"}, {"model", "qwen"}, {"base_url", "http://127.0.0.1:8000/v1"}}));
  EXPECT_EQ(parse_provider_spec(R"J({"provider": "openai", "model": "m", "temperature": 0})J"),
            json({{"provider", "openai"}, {"model", "m"}, {"temperature", 0}}));
  EXPECT_THROW(parse_provider_spec("bogus"), std::invalid_argument);
  EXPECT_THROW(parse_provider_spec("local:"), std::invalid_argument);
  EXPECT_THROW(parse_provider_spec("openai:@http://x"), std::invalid_argument);
  EXPECT_THROW(parse_provider_spec("{\"model\": \"m\"}"), std::invalid_argument);
  EXPECT_THROW(parse_provider_spec("{broken"), std::invalid_argument);
}

TEST(ProviderSpec, ReplacesEveryAgentsLlmWholly) {
  auto spec = runtime::WorkflowSpec::parse(R"Y(
name: w
agents:
  a: {kind: assistant, llm: {provider: scripted, responses: ["x"], model: keep-me-not}}
  b: {kind: echo}
tasks:
  t: {description: go, agent: a}
)Y",
                                           "w.yaml");
  json llm{{"provider", "openai"}, {"model", "m"}};
  EXPECT_EQ(override_agent_llms(spec, llm), 1);
  EXPECT_EQ(spec.agents.at("a").llm, llm);
  EXPECT_TRUE(spec.agents.at("b").llm.is_null());
}

}  // namespace
}  // namespace chorus::cli
