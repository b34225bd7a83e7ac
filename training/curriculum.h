#pragma once
// The training curriculum of the project's own chat model (docs/curriculum.md): seeded synthetic conversations in
// the Hermes / Qwen2.5 tool-calling format (training/chat-template.h), rendered, tokenized, and masked so that the
// loss falls on the assistant's tokens only.
//
// Tasks: "calculator" (a question -> a calculator call -> its result -> an answer stating the number),
// "calendar" (date questions -> a calendar call -> ...), "multi" (one question needing two tool calls in one
// assistant message), "passkey" (a number hidden in filler text, asked at the end; no tool), "chat" (small talk
// answered without tools), "copy" (random strings repeated or recalled: the copying the others need), "repeat"
// (random words of the tokenizer's vocabulary repeated: the cleanest copying signal in chat form) and "session"
// (2-4 calculator, calendar, multi or copy questions in a row in one conversation). Plain documents, no chat
// template: "induction" (a random string of whole-word or digit-group tokens and the same string again: copying by
// distance), "induction_mixed" (the same with mixed numbers, dates, codes and words), "induction_spans" (random
// tokens, then spans of them from random places, which only copying by content predicts), "induction_spans_mixed"
// (the same with mixed items) and "recall" (labelled values "code KEY: VALUE", then labels asked back: recall by
// label, which passkeys and answers need) and "arguments" (tool questions, each followed by its call: arguments found
// in the question). Every plain document starts with a preamble line of random words of random length. Tool
// results come from a ToolCaller, which the CLI implements with the real tools, so the data holds exactly what the
// tools return.
//
// Determinism: example i of a split depends only on (seed, split, i) (its own std::mt19937_64, mapped to ranges by
// our own arithmetic) and on the tool results, so the same options give byte-identical output on every platform.
// The eval split uses a different seed stream and held-out phrasings, number bands and years (docs/curriculum.md).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/chat-template.h"
#include "inference/tokenizer.h"

namespace chorus::training {

// Which split to generate. `eval` draws from other seeds and uses only held-out phrasings and number ranges,
// including words for the operations that training never uses ("less", "workdays", new word problems).
// `eval_known_words` draws the same examples with the same held-out sentence frames, date forms and numbers, but
// names each operation with the training split's words: new phrasings made of words the model was taught.
enum class CurriculumSplit { train, eval, eval_known_words };

// Task weights (need not sum to 1; a task with weight 0 never appears).
struct TaskMix {
  double calculator = 0.45;
  double calendar = 0.25;
  double passkey = 0.2;
  double chat = 0.1;
  double multi = 0.05;
  double copy = 0;    // repeat / recall random strings (the copying the other tasks need)
  double repeat = 0;  // repeat random vocabulary words (induction; a first training stage)
  double induction = 0;  // plain documents "<|endoftext|>X\n\nX" of random tokens (forms induction heads)
  double induction_mixed = 0;  // the same documents of mixed items (numbers, dates, codes, any word): widens it
  double induction_spans = 0;  // random tokens, then spans of them from random places (copying by content)
  double induction_spans_mixed = 0;  // the same with mixed items (numbers, dates, codes, any word)
  double recall = 0;  // plain documents of labelled values, then a label asked, its value the target
  double session = 0;  // 2-4 tool or copy questions in one conversation (the tool list paid for once)
  double arguments = 0;  // plain documents of questions, each followed by its tool call (arguments found densely)
};

// The task names, in the order TaskMix lists them.
const std::vector<std::string>& curriculum_task_names();

// Parses "calculator=0.45,calendar=0.25,...": tasks not named keep weight 0 when `start_from_zero`, otherwise their
// default. Throws std::invalid_argument for unknown tasks, bad or negative numbers, or all weights 0.
TaskMix parse_task_mix(const std::string& text, bool start_from_zero = true);

// Calls a tool by name with JSON arguments and returns its JSON result (throws when the tool fails).
using ToolCaller = std::function<nlohmann::json(const std::string& tool, const nlohmann::json& arguments)>;

struct CurriculumOptions {
  uint64_t seed = 1;
  CurriculumSplit split = CurriculumSplit::train;
  TaskMix mix;
  // Passkey context length in tokens (uniform in [min, max]); without a tokenizer, 4 bytes count as a token.
  int64_t passkey_min_tokens = 256;
  int64_t passkey_max_tokens = 2048;
  // Whole-example limit in tokens (0 = none): a longer draw is replaced by the next draw of the same example.
  int64_t max_tokens = 2304;
  // Plain documents (induction*, recall, arguments) start with a line of 0..this many random words, so their content sits
  // at a random distance from the start (0: none, the content right after <|endoftext|>).
  int64_t preamble_max_words = 200;
  // Train split: the probability that a tool question gets 1-2 random vocabulary words put between two of its
  // plain words (never next to a number, a date or a month name), so that no fixed frame is needed to find
  // the tool and its arguments (0: none, and nothing is drawn for it, so the data are those of a build
  // without this option).
  double question_noise = 0;
  // The tools offered to the model, OpenAI function format ({"type": "function", "function": {name, description,
  // parameters}}); must include "calculator" and "calendar" when those tasks (or multi) have weight.
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();
};

// One conversation before rendering.
struct Conversation {
  std::string task;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // OpenAI chat messages
  nlohmann::ordered_json tools;                                       // null: no tools offered
  // A plain document instead of chat messages (no template): text pieces and whether each is a target.
  std::vector<std::pair<std::string, bool>> document;
};

// A rendered conversation cut where the mask changes: pieces concatenate to the full text; assistant[i] marks the
// pieces that are an assistant turn's content with its closing <|im_end|>.
struct RenderedConversation {
  std::string text;
  std::vector<std::string> pieces;
  std::vector<bool> assistant;
};

// Thrown when a conversation does not render or tokenize consistently (e.g. piecewise tokens differ from the whole
// text's tokens); what() names the example and the place.
class CurriculumError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Renders `conversation` with `chat_template`, cut at the assistant turns. Each assistant turn's piece is what
// rendering the conversation up to and including that message adds after rendering the messages before it with
// add_generation_prompt, minus the "\n" after <|im_end|>; throws CurriculumError when the template is not
// prefix-stable that way.
RenderedConversation render_conversation(const inference::ChatTemplate& chat_template,
                                         const Conversation& conversation);

struct TokenizedExample {
  std::string task;
  std::string text;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;  // 1 on the tokens of assistant pieces, 0 elsewhere
};

// Tokenizes piece by piece (no added BOS/EOS) and checks that the concatenation equals tokenizing the whole text;
// throws CurriculumError naming the first differing position when it does not.
TokenizedExample tokenize_conversation(const inference::Tokenizer& tokenizer, const RenderedConversation& rendered,
                                       const std::string& task);

// {"ids": [...], "mask": [...], "task": "..."} on one line (no newline).
std::string example_json_line(const TokenizedExample& example);

// Generates examples 0, 1, 2, ... of one split.
class CurriculumGenerator {
 public:
  // `tokenizer` may be null: then examples have text only (ids/mask empty) and passkey lengths are estimated.
  // The tokenizer and caller must outlive the generator. Throws std::invalid_argument for bad options.
  CurriculumGenerator(CurriculumOptions options, ToolCaller caller, const inference::Tokenizer* tokenizer);

  // The conversation of example `index` (no length limit applied).
  Conversation conversation(uint64_t index) const;
  // Example `index`: conversation, rendered, tokenized (when there is a tokenizer), redrawn while longer than
  // max_tokens (at most 64 draws, then CurriculumError).
  TokenizedExample example(uint64_t index) const;

  const inference::ChatTemplate& chat_template() const { return template_; }
  const CurriculumOptions& options() const { return options_; }
  // Draws replaced because they exceeded max_tokens, so far.
  uint64_t redraws() const { return redraws_; }

 private:
  Conversation draw(uint64_t index, uint64_t attempt) const;
  CurriculumOptions options_;
  ToolCaller caller_;
  const inference::Tokenizer* tokenizer_;
  inference::ChatTemplate template_;
  std::vector<std::string> vocabulary_words_;  // what the copy and repeat tasks draw words from
  std::vector<std::string> digit_groups_;      // what the induction task draws numbers from
  mutable uint64_t redraws_ = 0;
};

}  // namespace chorus::training
