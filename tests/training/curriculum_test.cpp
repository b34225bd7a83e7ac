// The chat template of our own model and the seeded curriculum: exact renders, determinism, the loss mask,
// piecewise tokenization, task mix, passkey lengths and the held-out split.
#include "training/curriculum.h"
#include "training/chat-template.h"
#include "training/curriculum-tasks.h"

#include "tests/support/paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace chorus::training {
namespace {

using nlohmann::ordered_json;

inference::ChatTemplate chorus_template() { return inference::ChatTemplate(chorus_chat_template()); }

// Tools are listed compactly, one signature per line (argument types, enums, ? for optional), so the tool
// listing costs a few dozen tokens instead of the whole JSON schema.
const std::string kToolsSection =
    "\n\n# Tools\n\nThese functions are available to you (arguments marked ? are optional):\n"
    R"J(- calculator(expression: string, mode?: "exact"|"float", digits?: integer|null): Evaluates.)J"
    "\n- ping()"
    "\n\nWhen a function would help, call it: write one JSON object with the function's name and its "
    "arguments between <tool_call> and </tool_call> tags, like this:\n<tool_call>\n"
    R"J({"name": "function name", "arguments": {"argument": "value"}})J"
    "\n</tool_call>\nThe results come back between <tool_response> and </tool_response> tags.<|im_end|>\n";

ordered_json calculator_tools() {
  return ordered_json::parse(R"J([{"type": "function", "function": {"name": "calculator", "description": "Evaluates.",
      "parameters": {"type": "object", "properties": {"expression": {"type": "string"},
      "mode": {"enum": ["exact", "float"]}, "digits": {"type": ["integer", "null"]}}, "required": ["expression"]}}},
      {"name": "ping"}])J");
}

ordered_json call(const std::string& name, const ordered_json& args) {
  return {{"type", "function"}, {"function", {{"name", name}, {"arguments", args}}}};
}

TEST(ChorusChatTemplate, PlainChat) {
  const auto messages = ordered_json::parse(R"J([{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
      {"role": "user", "content": "Bye"}])J");
  EXPECT_EQ(chorus_template().render(messages, nullptr, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
            "Hello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChorusChatTemplate, NoSystemMessageNoTools) {
  const auto messages = ordered_json::parse(R"J([{"role": "user", "content": "Hi"}])J");
  EXPECT_EQ(chorus_template().render(messages, nullptr, false), "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(chorus_template().render(messages, ordered_json::array(), true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChorusChatTemplate, ToolCallResponseAndAnswer) {
  ordered_json messages = ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", "You help."}});
  messages.push_back({{"role", "user"}, {"content", "What is 37 * 12?"}});
  messages.push_back({{"role", "assistant"}, {"content", ""},
                      {"tool_calls", {call("calculator", {{"expression", "37 * 12"}})}}});
  messages.push_back({{"role", "tool"}, {"content", R"J({"result":444,"text":"444"})J"}});
  messages.push_back({{"role", "assistant"}, {"content", "37 × 12 = 444."}});
  EXPECT_EQ(chorus_template().render(messages, calculator_tools(), false),
            "<|im_start|>system\nYou help." + kToolsSection +
                "<|im_start|>user\nWhat is 37 * 12?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n"
                R"J({"name": "calculator", "arguments": {"expression": "37 * 12"}})J"
                "\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n"
                R"J({"result":444,"text":"444"})J"
                "\n</tool_response><|im_end|>\n<|im_start|>assistant\n37 × 12 = 444.<|im_end|>\n");
}

TEST(ChorusChatTemplate, ToolsWithoutSystemMessageUseTheDefault) {
  const auto messages = ordered_json::parse(R"J([{"role": "user", "content": "Hi"}])J");
  EXPECT_EQ(chorus_template().render(messages, calculator_tools(), true),
            std::string("<|im_start|>system\n") + kChorusDefaultSystem + kToolsSection +
                "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

// A tool's line keeps the first sentence of its description (ending in a period), not the rest.
TEST(ChorusChatTemplate, ToolLinesKeepTheFirstSentenceOfTheDescription) {
  const auto messages = ordered_json::parse(R"J([{"role": "user", "content": "Hi"}])J");
  const auto tools = ordered_json::parse(R"J([
      {"name": "clock", "description": "Reads the time (HH:MM). Time zones: any IANA name. Slow."},
      {"name": "echo", "description": "Says it back"}, {"name": "nop", "description": ""}])J");
  const std::string text = chorus_template().render(messages, tools, true);
  EXPECT_NE(text.find("\n- clock(): Reads the time (HH:MM).\n- echo(): Says it back.\n- nop()\n\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("IANA"), std::string::npos);
}

TEST(ChorusChatTemplate, TwoToolCallsInOneMessageAndTwoResponsesInOneTurn) {
  ordered_json messages = ordered_json::array();
  messages.push_back({{"role", "user"}, {"content", "Q"}});
  ordered_json calls = {call("calculator", {{"expression", "1+1"}}), call("calendar", {{"operation", "weekday"}})};
  calls[1]["function"]["arguments"] = R"J({"operation": "weekday", "date": "2024-01-01"})J";  // a JSON text
  messages.push_back({{"role", "assistant"}, {"content", "Let me check."}, {"tool_calls", calls}});
  messages.push_back({{"role", "tool"}, {"content", "2"}});
  messages.push_back({{"role", "tool"}, {"content", {{"weekday", "Monday"}}}});  // not a string: written as JSON
  const std::string text = chorus_template().render(messages, nullptr, true);
  EXPECT_EQ(text,
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nLet me check.\n<tool_call>\n"
            R"J({"name": "calculator", "arguments": {"expression": "1+1"}})J"
            "\n</tool_call>\n<tool_call>\n"
            R"J({"name": "calendar", "arguments": {"operation": "weekday", "date": "2024-01-01"}})J"
            "\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n2\n</tool_response>\n<tool_response>\n"
            R"J({"weekday": "Monday"})J"
            "\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
}

// ---- the curriculum ----------------------------------------------------------------------------------------

const inference::Tokenizer& fixture_tokenizer() {
  static const inference::Tokenizer t = inference::Tokenizer::from_file(
      testing::shared_dir() / "fixtures/tokenizers/qwen2-style/tokenizer.json");
  return t;
}

// Stands in for the real tools (tests/cli runs the real ones): every field an answer may use.
nlohmann::json fake_tool(const std::string& tool, const nlohmann::json& args) {
  if (tool == "calculator") return {{"expression", args.at("expression")}, {"result", 42}, {"text", "42"}};
  return {{"operation", args.at("operation")}, {"date", "2000-01-01"}, {"weekday", "Saturday"}, {"days", 10},
          {"weeks", 1}, {"remainder_days", 3}, {"business_days", 7}, {"week", 52}, {"iso_year", 1999},
          {"iso_week", "1999-W52"}};
}

CurriculumOptions options(uint64_t seed, CurriculumSplit split = CurriculumSplit::train) {
  CurriculumOptions o;
  o.seed = seed;
  o.split = split;
  o.passkey_min_tokens = 256;
  o.passkey_max_tokens = 768;
  o.max_tokens = 0;
  o.tools = ordered_json::parse(R"J([
      {"type": "function", "function": {"name": "calculator", "description": "Arithmetic.", "parameters": {"type": "object"}}},
      {"type": "function", "function": {"name": "calendar", "description": "Dates.", "parameters": {"type": "object"}}}])J");
  return o;
}

std::string jsonl(const CurriculumGenerator& gen, uint64_t n) {
  std::string out;
  for (uint64_t i = 0; i < n; ++i) out += example_json_line(gen.example(i)) + "\n";
  return out;
}

TEST(Curriculum, SameSeedSameOutputOtherSeedOtherOutput) {
  const CurriculumGenerator a(options(7), fake_tool, &fixture_tokenizer());
  const CurriculumGenerator b(options(7), fake_tool, &fixture_tokenizer());
  const CurriculumGenerator c(options(8), fake_tool, &fixture_tokenizer());
  const std::string ja = jsonl(a, 40);
  EXPECT_EQ(ja, jsonl(b, 40));
  EXPECT_NE(ja, jsonl(c, 40));
  // Example i does not depend on which examples were generated before it.
  EXPECT_EQ(example_json_line(a.example(17)), example_json_line(b.example(17)));
}

// 200 examples: piecewise tokens equal whole-text tokens (example() checks it and throws otherwise), and the mask
// covers exactly the assistant turns: each run of masked tokens decodes to one assistant message's content (or
// its tool calls) followed by <|im_end|>.
TEST(Curriculum, MaskCoversExactlyTheAssistantTurns) {
  const auto& tok = fixture_tokenizer();
  CurriculumOptions o = options(3);
  o.mix = parse_task_mix("calculator=0.3,calendar=0.2,passkey=0.1,chat=0.1,multi=0.1,copy=0.1,repeat=0.1,session=0.1");
  const CurriculumGenerator gen(o, fake_tool, &tok);
  std::map<std::string, int> tasks;
  for (uint64_t i = 0; i < 200; ++i) {
    const Conversation conv = gen.conversation(i);
    const TokenizedExample ex = gen.example(i);  // max_tokens 0: no redraw, so the same conversation
    ASSERT_EQ(ex.task, conv.task);
    ++tasks[ex.task];
    ASSERT_EQ(ex.ids.size(), ex.mask.size());
    ASSERT_EQ(ex.ids, tok.encode(ex.text, false)) << "example " << i;
    std::vector<std::string> runs;
    for (size_t k = 0; k < ex.ids.size(); ++k) {
      if (!ex.mask[k]) continue;
      size_t end = k;
      while (end < ex.ids.size() && ex.mask[end]) ++end;
      runs.push_back(tok.decode(std::span<const int32_t>(ex.ids.data() + k, end - k)));
      k = end;
    }
    std::vector<std::string> expected;
    for (const auto& m : conv.messages) {
      if (m["role"] != "assistant") continue;
      std::string turn = m["content"].get<std::string>();
      if (m.contains("tool_calls")) {
        for (const auto& c : m["tool_calls"]) {
          if (!turn.empty()) turn += "\n";
          turn += "<tool_call>\n{\"name\": \"" + c["function"]["name"].get<std::string>() +
                  "\", \"arguments\": " + c["function"]["arguments"].dump(-1) + "}\n</tool_call>";
        }
      }
      expected.push_back(turn + "<|im_end|>");
    }
    // dump(-1) writes {"a":1}; the template writes {"a": 1}: compare without the spaces json.dumps adds.
    auto squeeze = [](std::string s) {
      std::string out;
      bool in_string = false;
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] == '"' && (k == 0 || s[k - 1] != '\\')) in_string = !in_string;
        if (!in_string && s[k] == ' ' && k > 0 && (s[k - 1] == ':' || s[k - 1] == ',')) continue;
        out += s[k];
      }
      return out;
    };
    ASSERT_EQ(runs.size(), expected.size()) << ex.text;
    for (size_t r = 0; r < runs.size(); ++r) EXPECT_EQ(squeeze(runs[r]), squeeze(expected[r])) << ex.text;
    // The final assistant message is exactly the last masked run.
    EXPECT_EQ(runs.back(), conv.messages.back()["content"].get<std::string>() + "<|im_end|>");
  }
  for (const auto& name : curriculum_task_names()) {
    if (name.rfind("induction", 0) != 0 && name != "recall" && name != "arguments") {  // plain documents: own tests
      EXPECT_GT(tasks[name], 0) << name;
    }
  }
}

TEST(Curriculum, RenderedPiecesConcatenateToTheText) {
  const CurriculumGenerator gen(options(5), fake_tool, nullptr);
  for (uint64_t i = 0; i < 50; ++i) {
    const auto r = render_conversation(gen.chat_template(), gen.conversation(i));
    std::string joined;
    for (const auto& p : r.pieces) joined += p;
    EXPECT_EQ(joined, r.text);
    for (size_t k = 0; k < r.pieces.size(); ++k) {
      if (r.assistant[k]) {
        EXPECT_TRUE(r.pieces[k].ends_with("<|im_end|>")) << r.pieces[k];
      }
    }
  }
}

TEST(Curriculum, TaskMixProportions) {
  CurriculumOptions o = options(11);
  o.mix = parse_task_mix("calculator=0.4,calendar=0.3,passkey=0.1,chat=0.15,multi=0.05");
  const CurriculumGenerator gen(o, fake_tool, nullptr);
  std::map<std::string, double> counts;
  const int n = 3000;
  for (int i = 0; i < n; ++i) counts[gen.conversation(static_cast<uint64_t>(i)).task] += 1;
  const std::map<std::string, double> expected = {
      {"calculator", 0.4}, {"calendar", 0.3}, {"passkey", 0.1}, {"chat", 0.15}, {"multi", 0.05}};
  for (const auto& [task, p] : expected) EXPECT_NEAR(counts[task] / n, p, 0.03) << task;
}

TEST(Curriculum, ZeroWeightTasksNeverAppear) {
  CurriculumOptions o = options(12);
  o.mix = parse_task_mix("chat=1");
  o.tools = ordered_json::array();  // chat needs no tools
  const CurriculumGenerator gen(o, nullptr, nullptr);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(gen.conversation(i).task, "chat");
}

TEST(Curriculum, PasskeyLengthsWithinRange) {
  const auto& tok = fixture_tokenizer();
  CurriculumOptions o = options(13);
  o.mix = parse_task_mix("passkey=1");
  o.passkey_min_tokens = 300;
  o.passkey_max_tokens = 600;
  const CurriculumGenerator gen(o, fake_tool, &tok);
  for (uint64_t i = 0; i < 25; ++i) {
    const Conversation c = gen.conversation(i);
    const std::string user = c.messages[c.messages.size() - 2]["content"];
    const std::string context = user.substr(0, user.rfind("\n\n"));
    const auto n = static_cast<int64_t>(tok.encode(context, false).size());
    EXPECT_GE(n, 300) << i;
    EXPECT_LE(n, 600) << i;
    const std::string answer = c.messages.back()["content"];
    const auto key_at = context.find("The pass key is ");
    ASSERT_NE(key_at, std::string::npos);
    EXPECT_NE(answer.find(context.substr(key_at + 16, 5)), std::string::npos) << answer;
  }
}

TEST(Curriculum, MaxTokensRedrawsLongExamples) {
  const auto& tok = fixture_tokenizer();
  CurriculumOptions o = options(14);
  o.mix = parse_task_mix("passkey=1,chat=1");
  o.max_tokens = 400;
  const CurriculumGenerator gen(o, fake_tool, &tok);
  for (uint64_t i = 0; i < 30; ++i) EXPECT_LE(gen.example(i).ids.size(), 400u);
  EXPECT_GT(gen.redraws(), 0u);
}

TEST(Curriculum, EvalSplitUsesOtherSeedsAndHeldOutPhrasings) {
  const CurriculumGenerator train(options(21), fake_tool, nullptr);
  const CurriculumGenerator eval(options(21, CurriculumSplit::eval), fake_tool, nullptr);
  const std::vector<std::string> held_out = {"Quick question: what does", "I need the value of",
                                             "Figure out", "Tell me the weekday of", "Hey there!",
                                             "Which number is the pass key?", "the remainder when",
                                             "divided evenly by", "for me, please", "separating", "count forward",
                                             "Go back", "how far apart", "workdays", "calendar week",
                                             "multiplied with", "come to?"};
  std::set<std::string> train_users, eval_users;
  int held_out_in_eval = 0;
  for (uint64_t i = 0; i < 600; ++i) {
    for (const auto& m : train.conversation(i).messages)
      if (m["role"] == "user") {
        const std::string u = m["content"];
        train_users.insert(u);
        for (const auto& h : held_out) EXPECT_EQ(u.find(h), std::string::npos) << u;
      }
    for (const auto& m : eval.conversation(i).messages)
      if (m["role"] == "user") {
        const std::string u = m["content"];
        eval_users.insert(u);
        for (const auto& h : held_out) held_out_in_eval += u.find(h) != std::string::npos;
      }
  }
  EXPECT_GT(held_out_in_eval, 20);
  int shared = 0;
  for (const auto& u : eval_users) shared += train_users.count(u) ? 1 : 0;
  EXPECT_LT(shared, 20);  // only tiny fixed exchanges could coincide, and eval has its own
}

// The known-words split asks the eval split's examples (same seeds, frames, date forms and numbers) but names every
// operation with the train split's words: no held-out operator word, compound phrase, word problem or "workdays";
// the held-out sentence frames stay. Tasks that name no operation (passkeys, chat) are byte for byte the eval ones.
TEST(Curriculum, KnownWordsSplitKeepsHeldOutFramesAndUsesTrainedOperationWords) {
  CurriculumOptions eval_options = options(21, CurriculumSplit::eval);
  CurriculumOptions known_options = options(21, CurriculumSplit::eval_known_words);
  eval_options.mix = known_options.mix = parse_task_mix("calculator=0.6,calendar=0.3,multi=0.1");
  const CurriculumGenerator eval(eval_options, fake_tool, nullptr);
  const CurriculumGenerator known(known_options, fake_tool, nullptr);
  const std::vector<std::string> unseen_words = {
      "added together", " less ", "multiplied with", "divided evenly by", "the remainder when",
      "square root taken", "second power", "the cube of", "more than", "of the number", "per cent", "the total of",
      "average value", "workdays", "train has", "pages a day", "liters"};
  const std::vector<std::string> frames = {"Quick question: what does", "I need the value of", "Figure out",
                                           "Tell me the weekday of", "separating", "calendar week", "working days"};
  int unseen_in_eval = 0, frames_in_known = 0, differing = 0;
  for (uint64_t i = 0; i < 600; ++i) {
    const Conversation e = eval.conversation(i), k = known.conversation(i);
    EXPECT_EQ(e.task, k.task) << i;
    std::string eu, ku;
    for (const auto& m : e.messages)
      if (m["role"] == "user") eu += m["content"].get<std::string>() + "\n";
    for (const auto& m : k.messages)
      if (m["role"] == "user") ku += m["content"].get<std::string>() + "\n";
    for (const auto& w : unseen_words) {
      unseen_in_eval += eu.find(w) != std::string::npos;
      EXPECT_EQ(ku.find(w), std::string::npos) << w << " in: " << ku;
    }
    for (const auto& f : frames) frames_in_known += ku.find(f) != std::string::npos;
    differing += eu != ku;
  }
  EXPECT_GT(unseen_in_eval, 100);
  EXPECT_GT(frames_in_known, 200);
  EXPECT_GT(differing, 100);

  CurriculumOptions passkey_eval = options(5, CurriculumSplit::eval), passkey_known = options(5, CurriculumSplit::eval_known_words);
  passkey_eval.mix = passkey_known.mix = parse_task_mix("passkey=1,chat=1");
  const CurriculumGenerator pe(passkey_eval, fake_tool, nullptr), pk(passkey_known, fake_tool, nullptr);
  for (uint64_t i = 0; i < 40; ++i) EXPECT_EQ(pe.conversation(i).messages.dump(), pk.conversation(i).messages.dump()) << i;
}

// Train questions come with chatter around them some of the time (a lead-in, a remark after, or both), so the
// numbers are found whatever surrounds them; eval questions never do, so the held-out split stays as it was.
TEST(Curriculum, TrainQuestionsSometimesHaveChatterEvalOnesNever) {
  CurriculumOptions train_options = options(33), eval_options = options(33, CurriculumSplit::eval);
  train_options.mix = eval_options.mix = parse_task_mix("calculator=0.6,calendar=0.4");
  const CurriculumGenerator train(train_options, fake_tool, nullptr);
  const CurriculumGenerator eval(eval_options, fake_tool, nullptr);
  const std::vector<std::string> leads = {"Hi!", "Hello.", "Okay.", "Another one.", "One more.", "Hmm.", "Math time."};
  const std::vector<std::string> tails = {"Thanks!", "Thank you.", "Cheers.", "No rush.", "I want to double-check."};
  auto count = [&](const CurriculumGenerator& gen, int& led, int& tailed) {
    for (uint64_t i = 0; i < 400; ++i)
      for (const auto& m : gen.conversation(i).messages) {
        if (m["role"] != "user") continue;
        const std::string u = m["content"];
        for (const auto& l : leads) led += u.rfind(l + " ", 0) == 0;
        for (const auto& t : tails) tailed += u.size() > t.size() && u.compare(u.size() - t.size() - 1, t.size() + 1, " " + t) == 0;
      }
  };
  int train_led = 0, train_tailed = 0, eval_led = 0, eval_tailed = 0;
  count(train, train_led, train_tailed);
  count(eval, eval_led, eval_tailed);
  // 400 questions x 0.4 chatter x 2/3 lead (or tail) x ~0.75 from the word lists x 7/25 (5/10) of the lists named.
  EXPECT_GT(train_led, 10);
  EXPECT_GT(train_tailed, 20);
  EXPECT_EQ(eval_led, 0);
  EXPECT_EQ(eval_tailed, 0);
}

// The copy task's answer is never guessable from the wording: it is a string that appears verbatim in the user's
// message (repeated whole, or one labelled value recalled), the strings differ from example to example, and the eval
// split has its own phrasings.
TEST(Curriculum, CopyTaskAnswersAreReadFromTheQuestion) {
  CurriculumOptions o = options(31);
  o.mix = parse_task_mix("copy=1");
  const CurriculumGenerator train(o, nullptr, nullptr);
  o.split = CurriculumSplit::eval;
  const CurriculumGenerator eval(o, nullptr, nullptr);
  std::set<std::string> answers;
  int recalls = 0, repeats = 0, held_out = 0;
  for (uint64_t i = 0; i < 400; ++i) {
    for (const auto* gen : {&train, &eval}) {
      const Conversation c = gen->conversation(i);
      ASSERT_EQ(c.task, "copy");
      const auto& m = c.messages;
      ASSERT_GE(m.size(), 2u);
      const std::string user = m[m.size() - 2]["content"], answer = m.back()["content"];
      ASSERT_EQ(m.back()["role"], "assistant");
      std::string value = answer;
      if (value.rfind("The code for ", 0) == 0) value = value.substr(value.find(" is ") + 4, std::string::npos);
      if (!value.empty() && value.back() == '.' && answer != value) value.pop_back();
      EXPECT_NE(user.find(value), std::string::npos) << user << " -> " << answer;
      if (gen == &train) answers.insert(answer);
      recalls += user.find("The code for") != std::string::npos;
      repeats += user.find(answer) != std::string::npos && user.find("The code for") == std::string::npos;
      if (gen == &eval)
        held_out += user.find("Echo this back") != std::string::npos ||
                    user.find("Write this again") != std::string::npos ||
                    user.find("What was the code") != std::string::npos ||
                    user.find("ticket number") != std::string::npos;
      else
        EXPECT_EQ(user.find("Echo this back"), std::string::npos) << user;
    }
  }
  EXPECT_GT(answers.size(), 380u);  // random strings, not a fixed set
  EXPECT_GT(recalls, 100);
  EXPECT_GT(repeats, 300);
  EXPECT_GT(held_out, 100);
}

// The repeat task draws 8-32 whole-word tokens of the tokenizer's vocabulary (so nearly every word is one token).
TEST(Curriculum, RepeatTaskRepeatsRandomVocabularyWords) {
  const auto& tok = fixture_tokenizer();
  CurriculumOptions o = options(32);
  o.mix = parse_task_mix("repeat=1");
  const CurriculumGenerator gen(o, nullptr, &tok);
  std::set<std::string> words;
  int one_token = 0, total = 0;
  for (uint64_t i = 0; i < 50; ++i) {
    const Conversation c = gen.conversation(i);
    ASSERT_EQ(c.task, "repeat");
    const std::string user = c.messages[0]["content"], answer = c.messages[1]["content"];
    EXPECT_EQ(user.substr(user.size() - answer.size()), answer);
    std::istringstream in(answer);
    std::string w;
    int n = 0;
    while (in >> w) {
      ++n;
      words.insert(w);
      one_token += tok.encode(" " + w, false).size() == 1;
      ++total;
    }
    EXPECT_GE(n, 8);
    EXPECT_LE(n, 32);
  }
  EXPECT_GT(one_token, total * 9 / 10);  // vocabulary tokens; a few are not what BPE makes of the word alone
  EXPECT_GT(words.size(), 500u);  // drawn from the vocabulary, not a short list
}

// The preamble line of a plain document (between <|endoftext|> and `content_begin`): empty, or 1-200 words of the
// vocabulary outside the 256 most frequent ones and a newline. Returns its word count.
size_t check_preamble(const std::string& text, size_t content_begin) {
  const std::string line = text.substr(13, content_begin - 13);
  if (line.empty()) return 0;
  EXPECT_EQ(line.back(), '\n') << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  const size_t words = static_cast<size_t>(std::count(line.begin(), line.end(), ' ')) + 1;
  EXPECT_LE(words, 200u);
  return words;
}

// The induction tasks are plain documents "<|endoftext|>X\n\nX" with the loss on exactly the second X. "induction":
// X is random whole-word tokens or random longest digit groups, one token each (3 digits with the curriculum
// tokenizer, Llama-3 style groups; 1 with the Qwen2-style fixture). "induction_mixed": X is mixed items (numbers,
// dates, codes, words) joined by spaces. A preamble line of 0-200 random words puts X at a different place each time.
TEST(Curriculum, InductionTasksArePlainDocumentsWithTheSecondCopyAsTarget) {
  const auto chorus_tiny = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  for (const auto& [tok, digits] : {std::pair{&chorus_tiny, size_t{3}}, std::pair{&fixture_tokenizer(), size_t{1}}}) {
    for (const std::string task : {"induction", "induction_mixed"}) {
      CurriculumOptions o = options(5);
      o.mix = parse_task_mix(task + "=1");
      const CurriculumGenerator gen(o, nullptr, tok);
      const int32_t bos = tok->token_to_id("<|endoftext|>").value();
      int numbers = 0, words = 0, dates = 0, mixed_numbers = 0, preambles = 0;
      size_t longest_preamble = 0;
      std::set<std::string> strings;
      for (uint64_t i = 0; i < 100; ++i) {
        const TokenizedExample ex = gen.example(i);
        ASSERT_EQ(ex.task, task);
        ASSERT_EQ(ex.ids, tok->encode(ex.text, false));
        ASSERT_EQ(ex.ids.front(), bos);
        const size_t blank = ex.text.find("\n\n");
        ASSERT_NE(blank, std::string::npos);
        const std::string x = ex.text.substr(blank + 2);
        ASSERT_GE(blank, 13 + x.size());
        const size_t preamble = check_preamble(ex.text, blank - x.size());
        preambles += preamble > 0;
        longest_preamble = std::max(longest_preamble, preamble);
        EXPECT_EQ(ex.text, ex.text.substr(0, blank - x.size()) + x + "\n\n" + x);
        strings.insert(x);
        std::vector<int32_t> target;
        for (size_t k = 0; k < ex.ids.size(); ++k) {
          if (ex.mask[k]) target.push_back(ex.ids[k]);
          if (k > 0 && ex.mask[k - 1]) {
            EXPECT_TRUE(ex.mask[k]) << "one masked run, at the end";
          }
        }
        EXPECT_EQ(tok->decode(target), x);
        std::istringstream items(x);
        std::vector<std::string> item_list{std::istream_iterator<std::string>(items), {}};
        if (task == "induction_mixed") {
          EXPECT_GE(item_list.size(), 6u) << x;
          EXPECT_LE(item_list.size(), 20u) << x;
          for (const auto& item : item_list) {
            dates += item.size() == 10 && item[4] == '-' && item[7] == '-';
            mixed_numbers += std::all_of(item.begin(), item.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
          }
        } else if (std::isdigit(static_cast<unsigned char>(x[0]))) {
          ++numbers;
          EXPECT_EQ(item_list.size(), 1u) << x;  // digit groups without separators
          EXPECT_EQ(x.size(), target.size() * digits) << x;  // every target token is one digit group
          EXPECT_GE(target.size(), 8u);
          EXPECT_LE(target.size(), 32u);
        } else {
          ++words;
          EXPECT_GE(item_list.size(), 8u);
          EXPECT_LE(item_list.size(), 32u);
          EXPECT_LE(target.size(), 40u);  // a word is nearly always one token
        }
      }
      if (task == "induction") {
        EXPECT_GT(numbers, 25);
        EXPECT_GT(words, 25);
      } else {
        EXPECT_GT(dates, 20);  // about one item in eleven of ~1,300
        EXPECT_GT(mixed_numbers, 100);
      }
      EXPECT_EQ(strings.size(), 100u);
      EXPECT_GT(preambles, 95);
      EXPECT_GT(longest_preamble, 150u);
    }
  }
}

// The X of a span document "<|endoftext|>[preamble\n]X\n\n<spans>", after checking the example's task, that its ids
// are its text's tokens, and its preamble line.
std::string span_document_x(const TokenizedExample& ex, const std::string& task, const inference::Tokenizer& tok) {
  EXPECT_EQ(ex.task, task);
  EXPECT_EQ(ex.ids, tok.encode(ex.text, false));
  const size_t blank = ex.text.find("\n\n");
  EXPECT_NE(blank, std::string::npos);
  if (blank == std::string::npos) return {};
  const size_t line = ex.text.rfind('\n', blank - 1);
  const size_t begin = line == std::string::npos || line < 13 ? 13 : line + 1;
  check_preamble(ex.text, begin);
  return ex.text.substr(begin, blank - begin);
}

// "induction_spans": random tokens X, then 3-8 lines each a span of X from a random place; the span's first token is
// given and the rest (2-6 tokens) is the target, so the targets are what follows the given token in X.
TEST(Curriculum, SpanInductionTargetsContinueTheGivenTokenAsInTheString) {
  const auto tok = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  CurriculumOptions o = options(6);
  o.mix = parse_task_mix("induction_spans=1");
  const CurriculumGenerator gen(o, nullptr, &tok);
  std::set<size_t> starts;  // where spans begin in X, in tokens
  int number_strings = 0;
  for (uint64_t i = 0; i < 100; ++i) {
    const TokenizedExample ex = gen.example(i);
    const std::string x_text = span_document_x(ex, "induction_spans", tok);
    const std::vector<int32_t> x = tok.encode(x_text, false);
    ASSERT_FALSE(x.empty());
    EXPECT_GE(x.size(), 8u);
    EXPECT_LE(x.size(), 24u);
    number_strings += std::isdigit(static_cast<unsigned char>(x_text[0])) != 0;
    // Walk the spans: a given token (not a target), then the targets; cue + targets must occur in X.
    const size_t first = static_cast<size_t>(std::find(ex.mask.begin(), ex.mask.end(), 1) - ex.mask.begin()) - 1;
    ASSERT_LT(first + 1, ex.ids.size());
    ASSERT_EQ(tok.decode(std::vector<int32_t>(ex.ids.begin(), ex.ids.begin() + static_cast<long>(first))),
              ex.text.substr(0, ex.text.find("\n\n") + 2)) << "the spans start after X";
    ASSERT_FALSE(ex.mask[first]);
    int spans = 0;
    for (size_t k = first; k < ex.ids.size();) {
      if (k > first) {
        ASSERT_EQ(tok.decode(std::vector<int32_t>{ex.ids[k]}), "\n");
        ++k;
      }
      ASSERT_LT(k + 1, ex.ids.size());
      EXPECT_FALSE(ex.mask[k]) << "the span's first token is given";
      std::vector<int32_t> span{ex.ids[k++]};
      while (k < ex.ids.size() && ex.mask[k]) span.push_back(ex.ids[k++]);
      EXPECT_GE(span.size(), 3u);
      EXPECT_LE(span.size(), 7u);
      const auto at = std::search(x.begin(), x.end(), span.begin(), span.end());
      EXPECT_NE(at, x.end()) << "span " << spans << " of example " << i;
      starts.insert(static_cast<size_t>(at - x.begin()));
      ++spans;
    }
    EXPECT_GE(spans, 3);
    EXPECT_LE(spans, 8);
  }
  EXPECT_GT(number_strings, 25);
  EXPECT_LT(number_strings, 75);
  EXPECT_GT(starts.size(), 15u);  // spans begin all over X, not at one place
}

// preamble_max_words = 0: no preamble line, the content right after <|endoftext|> (the documents of runs 1-7); a
// negative maximum is rejected.
TEST(Curriculum, NoPreambleLeavesTheContentRightAfterTheStartToken) {
  const auto tok = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  for (const std::string task : {"induction_spans", "induction", "recall"}) {
    CurriculumOptions o = options(6);
    o.mix = parse_task_mix(task + "=1");
    o.preamble_max_words = 0;
    const CurriculumGenerator gen(o, nullptr, &tok);
    for (uint64_t i = 0; i < 30; ++i) {
      const std::string text = gen.example(i).text;
      const size_t first_line_end = text.find('\n');
      ASSERT_NE(first_line_end, std::string::npos);
      const std::string first_line = text.substr(13, first_line_end - 13);
      if (task == "recall") {
        EXPECT_EQ(first_line.rfind("code ", 0), 0u) << first_line;
      } else {
        EXPECT_NE(text.find("\n\n"), std::string::npos);
        EXPECT_EQ(text.find("\n\n"), first_line_end) << "X is the first line: " << text;
      }
    }
  }
  CurriculumOptions bad = options(6);
  bad.preamble_max_words = -1;
  EXPECT_THROW(CurriculumGenerator(bad, nullptr, &tok), std::invalid_argument);
}

// "induction_spans_mixed": X is 8-16 mixed items (numbers, dates, codes, words), each after a space; each line after
// the blank one is a run of X's items from a random place, the first given and the next 1-4 the target.
TEST(Curriculum, MixedSpanInductionTargetsAreTheItemsThatFollowTheGivenOne) {
  const auto tok = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  CurriculumOptions o = options(8);
  o.mix = parse_task_mix("induction_spans_mixed=1");
  const CurriculumGenerator gen(o, nullptr, &tok);
  std::set<std::string> given_items;
  int dates = 0;
  for (uint64_t i = 0; i < 100; ++i) {
    const TokenizedExample ex = gen.example(i);
    const std::string x = span_document_x(ex, "induction_spans_mixed", tok);
    ASSERT_FALSE(x.empty());
    const auto items = std::count(x.begin(), x.end(), ' ');
    EXPECT_GE(items, 8);
    EXPECT_LE(items, 16);
    std::vector<std::string> runs;  // the decoded target runs
    std::vector<int32_t> run;
    for (size_t k = 0; k <= ex.ids.size(); ++k) {
      if (k < ex.ids.size() && ex.mask[k]) {
        run.push_back(ex.ids[k]);
      } else if (!run.empty()) {
        runs.push_back(tok.decode(run));
        run.clear();
      }
    }
    std::istringstream lines(ex.text.substr(ex.text.find("\n\n") + 2));
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
      ASSERT_LT(n, runs.size());
      const std::string& target = runs[n++];
      ASSERT_GT(line.size(), target.size());
      EXPECT_EQ(line.substr(line.size() - target.size()), target);
      const std::string given = line.substr(0, line.size() - target.size());
      EXPECT_EQ(std::count(given.begin(), given.end(), ' '), 1) << "one given item: " << line;
      const auto target_items = std::count(target.begin(), target.end(), ' ');
      EXPECT_GE(target_items, 1);
      EXPECT_LE(target_items, 4);
      EXPECT_NE((x + " ").find(line + " "), std::string::npos) << "a run of X's items: " << line;
      given_items.insert(given);
      dates += given.size() == 11 && given[5] == '-' && given[8] == '-';
    }
    EXPECT_EQ(n, runs.size());
    EXPECT_GE(n, 3u);
    EXPECT_LE(n, 8u);
  }
  EXPECT_GT(given_items.size(), 300u);  // numbers, dates, codes and words from everywhere
  EXPECT_GT(dates, 5);
}

// Each run of target tokens of `ex`, decoded, with the text decoded from the tokens since the previous run.
struct TargetRun {
  std::string before, target;
};
std::vector<TargetRun> target_runs(const TokenizedExample& ex, const inference::Tokenizer& tok) {
  std::vector<TargetRun> out;
  std::vector<int32_t> run, before;
  for (size_t k = 0; k <= ex.ids.size(); ++k) {
    const bool target = k < ex.ids.size() && ex.mask[k];
    if (target) run.push_back(ex.ids[k]);
    if (!target && !run.empty()) {
      out.push_back({tok.decode(before), tok.decode(run)});
      run.clear();
      before.clear();
    }
    if (!target && k < ex.ids.size()) before.push_back(ex.ids[k]);
  }
  return out;
}

// "recall": a plain document of labelled values, then labels asked; every target is the asked label's value (with
// the line's end), read from the list above, and only the values are targets.
TEST(Curriculum, RecallTaskAsksLabelsOfTheListAndTargetsTheirValues) {
  const auto tok = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  CurriculumOptions o = options(9);
  o.mix = parse_task_mix("recall=1");
  const CurriculumGenerator gen(o, nullptr, &tok);
  int questions = 0, sentences = 0, with_paragraph = 0, preambles = 0;
  for (uint64_t i = 0; i < 100; ++i) {
    const TokenizedExample ex = gen.example(i);
    ASSERT_EQ(ex.task, "recall");
    ASSERT_EQ(ex.ids, tok.encode(ex.text, false));
    ASSERT_EQ(ex.text.rfind("<|endoftext|>", 0), 0u);
    std::map<std::string, std::string> values;  // key -> value, from the list lines
    const size_t list = ex.text.compare(13, 5, "code ") == 0 ? 13 : ex.text.find("\ncode ") + 1;
    ASSERT_NE(list, 0u);
    preambles += check_preamble(ex.text, list) > 0;
    std::istringstream lines(ex.text.substr(list));
    std::string line;
    while (std::getline(lines, line) && line.rfind("code ", 0) == 0 && line.find(": ") != std::string::npos) {
      const size_t colon = line.find(": ");
      EXPECT_TRUE(values.emplace(line.substr(5, colon - 5), line.substr(colon + 2)).second) << "distinct keys";
    }
    EXPECT_GE(values.size(), 2u);
    EXPECT_LE(values.size(), 16u);
    with_paragraph += !line.empty();
    // The targets, decoded run by run, are the values of the labels asked just before them.
    for (const auto& [question, answer] : target_runs(ex, tok)) {
      std::string key;
      if (question.size() > 1 && question.back() == ':') {
        key = question.substr(question.rfind("code ") + 5);
        key.pop_back();
        EXPECT_EQ(answer, " " + values[key] + "\n");
      } else {
        ASSERT_GE(question.size(), 3u);
        EXPECT_EQ(question.substr(question.size() - 3), " is") << question;
        key = question.substr(question.rfind("The code for ") + 13);
        key.resize(key.size() - 3);
        EXPECT_EQ(answer, " " + values[key] + ".\n");
        ++sentences;
      }
      EXPECT_TRUE(values.count(key)) << key;
      ++questions;
    }
  }
  EXPECT_GE(questions, 250);  // 1-6 a document
  EXPECT_LE(questions, 450);
  EXPECT_GT(sentences, questions / 4);
  EXPECT_LT(sentences, questions * 3 / 4);
  EXPECT_GT(with_paragraph, 25);
  EXPECT_GT(preambles, 95);
}

// "arguments": a plain document of 4-8 tool questions, each on its line and followed by "<tool_call>\n"; the
// targets are exactly the calls' JSON and closing tag, which name a tool and carry the question's ISO date or
// numbers as the chat's calls do.
TEST(Curriculum, ArgumentsTaskTargetsAreTheCallsOfTheQuestionsBeforeThem) {
  const auto tok = inference::Tokenizer::from_file(testing::test_data_dir() / "chorus-tiny/tokenizer.json");
  CurriculumOptions o = options(12);
  o.mix = parse_task_mix("arguments=1");
  const CurriculumGenerator gen(o, fake_tool, &tok);
  std::map<std::string, int> tools;
  int dates_from_question = 0, calendar_calls = 0, two_calls = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    const TokenizedExample ex = gen.example(i);
    ASSERT_EQ(ex.task, "arguments");
    ASSERT_EQ(ex.ids, tok.encode(ex.text, false));
    const std::vector<TargetRun> runs = target_runs(ex, tok);
    ASSERT_GE(runs.size(), 4u);
    ASSERT_LE(runs.size(), 8u);
    for (const auto& [before, target] : runs) {
      const std::string suffix = "\n</tool_call>";
      ASSERT_GT(target.size(), suffix.size());
      EXPECT_EQ(target.substr(target.size() - suffix.size()), suffix);
      // One call, or two (the multi task) joined as the chat template joins them.
      std::vector<nlohmann::json> calls;
      const std::string body = target.substr(0, target.size() - suffix.size()), between = suffix + "\n<tool_call>\n";
      const size_t join = body.find(between);
      calls.push_back(nlohmann::json::parse(body.substr(0, join)));
      if (join != std::string::npos) calls.push_back(nlohmann::json::parse(body.substr(join + between.size())));
      two_calls += calls.size() == 2;
      const nlohmann::json& call = calls[0];
      const std::string name = call.at("name");
      for (const auto& c : calls) {
        ++tools[c.at("name").get<std::string>()];
        ASSERT_TRUE(c.at("arguments").is_object());
      }
      const std::string prompt = "\n<tool_call>\n";
      ASSERT_GT(before.size(), prompt.size());
      EXPECT_EQ(before.substr(before.size() - prompt.size()), prompt);
      const std::string question = before.substr(0, before.size() - prompt.size());
      const std::string line = question.substr(question.rfind('\n') == std::string::npos ? 0 : question.rfind('\n') + 1);
      EXPECT_FALSE(line.empty());
      if (name == "calendar" && call["arguments"].contains("date")) {
        ++calendar_calls;
        const std::string iso = call["arguments"]["date"];
        dates_from_question += line.find(iso) != std::string::npos || line.find(iso.substr(0, 4)) != std::string::npos;
      }
    }
  }
  EXPECT_GT(tools["calculator"], tools["calendar"]);  // 65% calculator, 25% calendar, 10% two calls
  EXPECT_GT(tools["calendar"], 20);
  EXPECT_GT(two_calls, 5);
  EXPECT_EQ(tools.size(), 2u);
  EXPECT_EQ(dates_from_question, calendar_calls);  // the year, at least, is read from the question line
}

// "session": 2-4 questions in one conversation under one tool list (both tools, every time), a system message at
// most once and first; every question is answered (a call and its results, then an answer, or a copy).
TEST(Curriculum, SessionTaskAsksSeveralQuestionsUnderOneToolList) {
  CurriculumOptions o = options(4);
  o.mix = parse_task_mix("session=1");
  const CurriculumGenerator gen(o, fake_tool, &fixture_tokenizer());
  std::map<size_t, int> questions_seen;
  int calls = 0;
  for (uint64_t i = 0; i < 60; ++i) {
    const Conversation c = gen.conversation(i);
    ASSERT_EQ(c.task, "session");
    ASSERT_EQ(c.tools.size(), 2u);
    size_t questions = 0;
    for (size_t k = 0; k < c.messages.size(); ++k) {
      const std::string role = c.messages[k]["role"];
      if (role == "system") {
        EXPECT_EQ(k, 0u);
      }
      if (role == "user") ++questions;
      if (role == "assistant" && c.messages[k].contains("tool_calls")) {
        ++calls;
        ASSERT_LT(k + 1, c.messages.size());
        EXPECT_EQ(c.messages[k + 1]["role"], "tool");  // its results come next
      }
      if (role == "user") {
        ASSERT_LT(k + 1, c.messages.size());
        EXPECT_EQ(c.messages[k + 1]["role"], "assistant") << "every question is answered";
      }
    }
    EXPECT_EQ(c.messages.back()["role"], "assistant");
    EXPECT_FALSE(c.messages.back().contains("tool_calls"));
    EXPECT_GE(questions, 2u);
    EXPECT_LE(questions, 4u);
    ++questions_seen[questions];
  }
  EXPECT_EQ(questions_seen.size(), 3u);  // 2, 3 and 4
  EXPECT_GT(calls, 60);  // most questions need a tool
}

TEST(Curriculum, ParseTaskMix) {
  const TaskMix m = parse_task_mix("calculator=0.5, chat=1.5");
  EXPECT_EQ(m.calculator, 0.5);
  EXPECT_EQ(m.chat, 1.5);
  EXPECT_EQ(m.calendar, 0);
  const TaskMix d = parse_task_mix("chat=2", false);
  EXPECT_EQ(d.calculator, TaskMix{}.calculator);
  EXPECT_EQ(d.chat, 2);
  EXPECT_THROW(parse_task_mix("bogus=1"), std::invalid_argument);
  EXPECT_THROW(parse_task_mix("chat=-1"), std::invalid_argument);
  EXPECT_THROW(parse_task_mix("chat=x"), std::invalid_argument);
  EXPECT_THROW(parse_task_mix("chat=0"), std::invalid_argument);
  EXPECT_THROW(parse_task_mix("chat"), std::invalid_argument);
  EXPECT_EQ(parse_task_mix("copy=0.3").copy, 0.3);
  EXPECT_EQ(parse_task_mix("repeat=1").repeat, 1);
  EXPECT_EQ(parse_task_mix("induction=0.5").induction, 0.5);
  EXPECT_EQ(parse_task_mix("induction_mixed=0.5").induction_mixed, 0.5);
  EXPECT_EQ(parse_task_mix("recall=0.25").recall, 0.25);
  EXPECT_EQ(parse_task_mix("induction_spans=2").induction_spans, 2);
  EXPECT_EQ(parse_task_mix("induction_spans_mixed=3").induction_spans_mixed, 3);
  EXPECT_EQ(parse_task_mix("arguments=0.5").arguments, 0.5);
  EXPECT_EQ(parse_task_mix("session=0.5").session, 0.5);
  EXPECT_EQ(TaskMix{}.copy, 0);  // the default mix is the one run 1 used
}

// Words split on spaces.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Noise words go only between two plain words: the question's own words stay in order, each insertion is a
// word from the vocabulary that names no operation, and no number, date or month gets a neighbour it did not
// have.
TEST(Curriculum, NoiseWordsGoBetweenPlainWordsOnly) {
  CurriculumRng rng(5);
  const ordered_json tools = ordered_json::array();
  const ToolCaller caller = fake_tool;
  const std::vector<std::string> vocabulary = {"plus", "weekday", "river", "lantern", "days", "copper"};
  const std::vector<std::string> digits = {"000"};
  curriculum::TaskContext ctx{rng,  false,   false,      caller, tools, 256,
                              2048, nullptr, vocabulary, digits, 200,   nullptr};
  const std::string question = "Which day of the week was 11 June 2022, and what is 5 plus 7?";
  const std::vector<std::string> original = words_of(question);
  std::set<std::string> inserted_words;
  for (int trial = 0; trial < 200; ++trial) {
    const std::string noisy = curriculum::insert_noise_words(ctx, question, 2);
    const std::vector<std::string> got = words_of(noisy);
    ASSERT_EQ(got.size(), original.size() + 2) << noisy;
    // The original words are `got` minus two words, in order; the two are between plain words.
    size_t j = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (j < original.size() && got[i] == original[j]) {
        ++j;
        continue;
      }
      inserted_words.insert(got[i]);
      ASSERT_TRUE(got[i] == "river" || got[i] == "lantern" || got[i] == "copper") << noisy;
      ASSERT_GT(i, 0u);
      ASSERT_LT(i + 1, got.size());
      for (const std::string& neighbour : {got[i - 1], got[i + 1]})
        for (const char* kept : {"11", "June", "2022,", "5", "7?", "plus"})
          ASSERT_NE(neighbour, kept) << noisy;
    }
    ASSERT_EQ(j, original.size()) << noisy;
  }
  EXPECT_EQ(inserted_words.size(), 3u);  // every allowed word was drawn
  // No gap between two plain words: nothing to insert.
  EXPECT_EQ(curriculum::insert_noise_words(ctx, "5 + 7 = ?", 2), "5 + 7 = ?");
  EXPECT_EQ(curriculum::insert_noise_words(ctx, "Compute 2024-01-01.", 1), "Compute 2024-01-01.");
}

// question_noise changes the train split only: the eval split is byte for byte the same, and train questions
// with noise hold words that no phrasing has.
TEST(Curriculum, QuestionNoiseChangesTrainQuestionsOnly) {
  CurriculumOptions plain = options(41, CurriculumSplit::eval), noisy = plain;
  plain.mix = noisy.mix = parse_task_mix("calculator=0.5,calendar=0.4,multi=0.1");
  noisy.question_noise = 1;
  auto conversations = [](const CurriculumOptions& o) {
    const CurriculumGenerator gen(o, fake_tool, nullptr);
    std::string out;
    for (uint64_t i = 0; i < 60; ++i) out += gen.conversation(i).messages.dump() + "\n";
    return out;
  };
  EXPECT_EQ(conversations(plain), conversations(noisy));
  plain.split = noisy.split = CurriculumSplit::train;
  const CurriculumGenerator with_noise(noisy, fake_tool, nullptr), without(plain, fake_tool, nullptr);
  // Without a tokenizer the noise words come from the copy task's fixed list (apple, river, ...), which no
  // question phrasing uses; the chatter's random sentences draw from it too, a few times in 200 questions.
  auto noise_words = [](const CurriculumGenerator& gen) {
    const std::set<std::string> list = {"apple",  "river",  "purple", "window",
                                        "rocket", "garden", "silver", "pencil"};
    int found = 0;
    for (uint64_t i = 0; i < 200; ++i)
      for (const auto& m : gen.conversation(i).messages)
        if (m["role"] == "user")
          for (const std::string& w : words_of(m["content"])) found += list.count(w) > 0;
    return found;
  };
  // 200 questions x 1.5 inserted words x 8 of 50 listed words: ~48 more than the chatter's ~8.
  EXPECT_GT(noise_words(with_noise), noise_words(without) + 25);
  CurriculumOptions bad = plain;
  bad.question_noise = 1.5;
  EXPECT_THROW(CurriculumGenerator(bad, fake_tool, nullptr), std::invalid_argument);
}

TEST(Curriculum, BadOptionsAreRejected) {
  CurriculumOptions o = options(1);
  o.tools = ordered_json::array();
  EXPECT_THROW(CurriculumGenerator(o, fake_tool, nullptr), std::invalid_argument);  // no calculator tool
  o = options(1);
  o.passkey_min_tokens = 500;
  o.passkey_max_tokens = 100;
  EXPECT_THROW(CurriculumGenerator(o, fake_tool, nullptr), std::invalid_argument);
}

TEST(Curriculum, DefaultSystemTextMatchesTheTemplate) {
  EXPECT_NE(chorus_chat_template().find(std::string("\"") + kChorusDefaultSystem + "\""), std::string::npos);
}

}  // namespace
}  // namespace chorus::training
