#include "training/curriculum.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "training/chat-template.h"
#include "training/curriculum-random.h"
#include "training/curriculum-tasks.h"

namespace chorus::training {

using nlohmann::ordered_json;

namespace {

// Every task, in the order TaskMix lists them (the order draws pick from, so it fixes the data): its name, its weight
// and how an example is made. Adding a task is one line here plus its TaskMix field.
struct TaskEntry {
  const char* name;
  double TaskMix::*weight;
  Conversation (*make)(curriculum::TaskContext&);
};
const TaskEntry kTasks[] = {
    {"calculator", &TaskMix::calculator, curriculum::make_calculator_task},
    {"calendar", &TaskMix::calendar, curriculum::make_calendar_task},
    {"passkey", &TaskMix::passkey, curriculum::make_passkey_task},
    {"chat", &TaskMix::chat, curriculum::make_chat_task},
    {"multi", &TaskMix::multi, curriculum::make_multi_task},
    {"copy", &TaskMix::copy, curriculum::make_copy_task},
    {"repeat", &TaskMix::repeat, curriculum::make_repeat_task},
    {"induction", &TaskMix::induction, [](curriculum::TaskContext& ctx) { return curriculum::make_induction_task(ctx, false); }},
    {"induction_mixed", &TaskMix::induction_mixed,
     [](curriculum::TaskContext& ctx) { return curriculum::make_induction_task(ctx, true); }},
    {"induction_spans", &TaskMix::induction_spans,
     [](curriculum::TaskContext& ctx) { return curriculum::make_span_induction_task(ctx, false); }},
    {"induction_spans_mixed", &TaskMix::induction_spans_mixed,
     [](curriculum::TaskContext& ctx) { return curriculum::make_span_induction_task(ctx, true); }},
    {"recall", &TaskMix::recall, curriculum::make_recall_task},
    {"session", &TaskMix::session, curriculum::make_session_task},
    {"arguments", &TaskMix::arguments, curriculum::make_arguments_task},
};

std::vector<double> weights(const TaskMix& mix) {
  std::vector<double> w;
  for (const TaskEntry& t : kTasks) w.push_back(mix.*t.weight);
  return w;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

}  // namespace

const std::vector<std::string>& curriculum_task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const TaskEntry& t : kTasks) n.emplace_back(t.name);
    return n;
  }();
  return names;
}

TaskMix parse_task_mix(const std::string& text, bool start_from_zero) {
  TaskMix mix;
  if (start_from_zero) {
    for (const TaskEntry& t : kTasks) mix.*t.weight = 0;
  }
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("task mix item '" + item + "' is not task=weight");
    const std::string name = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
    const auto entry = std::find_if(std::begin(kTasks), std::end(kTasks), [&](const TaskEntry& t) { return name == t.name; });
    if (entry == std::end(kTasks)) {
      std::string known;
      for (const TaskEntry& t : kTasks) known += (known.empty() ? "" : ", ") + std::string(t.name);
      throw std::invalid_argument("unknown task '" + name + "' in the task mix (known: " + known + ")");
    }
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || !std::isfinite(v) || v < 0)
      throw std::invalid_argument("task weight '" + value + "' for " + name + " is not a number >= 0");
    mix.*entry->weight = v;
  }
  double total = 0;
  for (double w : weights(mix)) total += w;
  if (!(total > 0)) throw std::invalid_argument("the task mix gives every task weight 0");
  return mix;
}

RenderedConversation render_conversation(const inference::ChatTemplate& chat_template,
                                         const Conversation& conversation) {
  if (!conversation.document.empty()) {
    RenderedConversation out;
    for (const auto& [text, target] : conversation.document) {
      out.text += text;
      out.pieces.push_back(text);
      out.assistant.push_back(target);
    }
    return out;
  }
  const ordered_json& messages = conversation.messages;
  const ordered_json& tools = conversation.tools;
  auto first = [&](size_t k) {
    ordered_json out = ordered_json::array();
    for (size_t i = 0; i < k; ++i) out.push_back(messages[i]);
    return out;
  };
  RenderedConversation out;
  out.text = chat_template.render(messages, tools, false);
  size_t pos = 0;
  for (size_t k = 0; k < messages.size(); ++k) {
    if (messages[k].value("role", "") != "assistant") continue;
    const std::string prefix = chat_template.render(first(k), tools, true);
    const std::string upto = chat_template.render(first(k + 1), tools, false);
    const std::string where = conversation.task + " conversation, message " + std::to_string(k);
    if (upto.compare(0, prefix.size(), prefix) != 0 || out.text.compare(0, upto.size(), upto) != 0 ||
        prefix.size() < pos)
      throw CurriculumError(where + ": the chat template is not prefix-stable at this assistant turn");
    std::string turn = upto.substr(prefix.size());
    static const std::string kEnd = "<|im_end|>";
    if (turn.size() < kEnd.size() + 1 || turn.back() != '\n' ||
        turn.compare(turn.size() - 1 - kEnd.size(), kEnd.size(), kEnd) != 0)
      throw CurriculumError(where + ": the assistant turn does not end with <|im_end|>\\n");
    turn.pop_back();
    if (prefix.size() > pos) {
      out.pieces.push_back(out.text.substr(pos, prefix.size() - pos));
      out.assistant.push_back(false);
    }
    out.pieces.push_back(turn);
    out.assistant.push_back(true);
    pos = prefix.size() + turn.size();
  }
  if (pos < out.text.size()) {
    out.pieces.push_back(out.text.substr(pos));
    out.assistant.push_back(false);
  }
  return out;
}

TokenizedExample tokenize_conversation(const inference::Tokenizer& tokenizer, const RenderedConversation& rendered,
                                       const std::string& task) {
  TokenizedExample out;
  out.task = task;
  out.text = rendered.text;
  for (size_t i = 0; i < rendered.pieces.size(); ++i) {
    const auto ids = tokenizer.encode(rendered.pieces[i], false);
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    out.mask.insert(out.mask.end(), ids.size(), rendered.assistant[i] ? 1 : 0);
  }
  const auto whole = tokenizer.encode(rendered.text, false);
  if (whole != out.ids) {
    size_t at = 0;
    while (at < whole.size() && at < out.ids.size() && whole[at] == out.ids[at]) ++at;
    const std::string near = tokenizer.decode(std::span<const int32_t>(whole.data() + at, std::min<size_t>(8, whole.size() - at)));
    throw CurriculumError(task + " conversation: tokenizing piece by piece differs from tokenizing the whole text at "
                          "token " + std::to_string(at) + " (whole text there: '" + near + "')");
  }
  return out;
}

std::string example_json_line(const TokenizedExample& example) {
  ordered_json line;
  line["ids"] = example.ids;
  line["mask"] = example.mask;
  line["task"] = example.task;
  return line.dump();
}

namespace {

bool has_tool(const ordered_json& tools, const std::string& name) {
  if (!tools.is_array()) return false;
  for (const auto& t : tools) {
    const ordered_json& f = t.contains("function") ? t["function"] : t;
    if (f.is_object() && f.value("name", "") == name) return true;
  }
  return false;
}

constexpr uint64_t kTrainStream = 0x747261696e2d3031ULL;  // "train-01"
constexpr uint64_t kEvalStream = 0x6576616c2d2d3031ULL;   // "eval--01"

}  // namespace

CurriculumGenerator::CurriculumGenerator(CurriculumOptions options, ToolCaller caller,
                                         const inference::Tokenizer* tokenizer)
    : options_(std::move(options)),
      caller_(std::move(caller)),
      tokenizer_(tokenizer),
      template_(chorus_chat_template()),
      vocabulary_words_(curriculum::vocabulary_words(tokenizer)),
      digit_groups_(curriculum::digit_groups(tokenizer)) {
  const TaskMix& m = options_.mix;
  double total = 0;
  for (double w : weights(m)) {
    if (!(w >= 0) || !std::isfinite(w)) throw std::invalid_argument("task weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) throw std::invalid_argument("the task mix gives every task weight 0");
  if (m.passkey > 0 && (options_.passkey_min_tokens < 1 || options_.passkey_max_tokens < options_.passkey_min_tokens))
    throw std::invalid_argument("passkey lengths must satisfy 1 <= min <= max, got " +
                                std::to_string(options_.passkey_min_tokens) + ".." +
                                std::to_string(options_.passkey_max_tokens));
  if (options_.max_tokens < 0) throw std::invalid_argument("max_tokens must be >= 0");
  if (options_.preamble_max_words < 0) throw std::invalid_argument("preamble_max_words must be >= 0");
  if (!(options_.question_noise >= 0 && options_.question_noise <= 1))
    throw std::invalid_argument("question_noise must be in [0, 1]");
  if ((m.calculator > 0 || m.multi > 0) && !has_tool(options_.tools, "calculator"))
    throw std::invalid_argument("the calculator and multi tasks need a \"calculator\" tool in the tools list");
  if ((m.calendar > 0 || m.multi > 0) && !has_tool(options_.tools, "calendar"))
    throw std::invalid_argument("the calendar and multi tasks need a \"calendar\" tool in the tools list");
  if (!caller_) caller_ = [](const std::string& tool, const nlohmann::json&) -> nlohmann::json {
    throw CurriculumError("no tool caller given (the curriculum called '" + tool + "')");
  };
}

Conversation CurriculumGenerator::draw(uint64_t index, uint64_t attempt) const {
  const bool held_out = options_.split != CurriculumSplit::train;
  const uint64_t stream = held_out ? kEvalStream : kTrainStream;
  const uint64_t example_seed = curriculum_mix(curriculum_mix(options_.seed ^ stream) + curriculum_mix(index));
  CurriculumRng rng(curriculum_mix(example_seed + attempt));
  curriculum::TaskContext ctx{rng,
                              held_out,
                              options_.split == CurriculumSplit::eval_known_words,
                              caller_,
                              options_.tools,
                              options_.passkey_min_tokens,
                              options_.passkey_max_tokens,
                              tokenizer_,
                              vocabulary_words_,
                              digit_groups_,
                              options_.preamble_max_words,
                              &template_,
                              options_.question_noise};
  const auto w = weights(options_.mix);
  double total = 0;
  for (double x : w) total += x;
  double u = rng.unit() * total;
  size_t task = 0;
  while (task + 1 < w.size() && (w[task] <= 0 || u >= w[task])) {
    if (w[task] > 0) u -= w[task];
    ++task;
  }
  while (w[task] <= 0) --task;  // rounding at the top end: the last task with weight
  return kTasks[task].make(ctx);
}

Conversation CurriculumGenerator::conversation(uint64_t index) const { return draw(index, 0); }

TokenizedExample CurriculumGenerator::example(uint64_t index) const {
  constexpr uint64_t kMaxDraws = 64;
  for (uint64_t attempt = 0; attempt < kMaxDraws; ++attempt) {
    const Conversation c = draw(index, attempt);
    const RenderedConversation rendered = render_conversation(template_, c);
    TokenizedExample ex;
    if (tokenizer_) {
      try {
        ex = tokenize_conversation(*tokenizer_, rendered, c.task);
      } catch (const CurriculumError& e) {
        throw CurriculumError("example " + std::to_string(index) + ": " + e.what());
      }
    } else {
      ex.task = c.task;
      ex.text = rendered.text;
    }
    const int64_t length = tokenizer_ ? static_cast<int64_t>(ex.ids.size())
                                      : static_cast<int64_t>((rendered.text.size() + 3) / 4);
    if (options_.max_tokens > 0 && length > options_.max_tokens) {
      ++redraws_;
      continue;
    }
    return ex;
  }
  throw CurriculumError("example " + std::to_string(index) + ": " + std::to_string(kMaxDraws) +
                        " draws were all longer than max_tokens " + std::to_string(options_.max_tokens));
}

}  // namespace chorus::training
