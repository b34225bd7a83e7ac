#include "cli/kv-eval.h"

#include "cli/inference-args.h"
#include "cli/model-files.h"
#include "training/passkey-data.h"
#include "cli/svg-chart.h"
#include "inference/continuation-nll.h"
#include "inference/generator.h"
#include "inference/kv-compressor.h"
#include "inference/kv-evictor.h"
#include "inference/kv-select.h"
#include "inference/model.h"
#include "inference/tokenizer-config.h"
#include "inference/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A method to evaluate: the name as given, its registered press and options, and whether it can evict while
// decoding (its scores need neither future queries nor pre-RoPE keys).
struct Method {
  std::string name;
  std::string press;
  inference::PressOptions options;
  bool can_evict = false;
};

std::string format_ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

void validate_options(const KvEvalOptions& o) {
  if (o.task != "perplexity" && o.task != "passkey")
    throw std::invalid_argument("--task must be perplexity or passkey, got '" + o.task + "'");
  if (o.methods.empty()) throw std::invalid_argument("--methods: give at least one method");
  if (o.ratios.empty()) throw std::invalid_argument("--ratios: give at least one ratio");
  const auto known = inference::press_names();
  std::string known_list;
  for (const auto& n : known) {
    if (!known_list.empty()) known_list += ", ";
    known_list += n;
  }
  std::set<std::string> seen;
  for (const auto& m : o.methods) {
    const auto press = inference::canonical_press_name(m);
    if (std::find(known.begin(), known.end(), press) == known.end())
      throw std::invalid_argument("--methods: unknown method '" + m + "' (known: " + known_list +
                                  "; 'streaming' stands for streaming_llm)");
    if (!seen.insert(press).second) throw std::invalid_argument("--methods: '" + m + "' is given twice");
  }
  for (double r : o.ratios)
    if (!(std::isfinite(r) && r >= 1.0))
      throw std::invalid_argument("--ratios: " + format_ratio(r) +
                                  " is not a compression ratio >= 1 (ratio R keeps 1/R of the entries; 1 = full cache)");
  if (o.window < 0) throw std::invalid_argument("--window must be >= 0");
  if (o.sinks < 0) throw std::invalid_argument("--sinks must be >= 0");
  if (o.selection != "per_head" && o.selection != "shared")
    throw std::invalid_argument("--selection must be per_head or shared");
  if (o.task == "perplexity") {
    if (o.context_tokens < 1) throw std::invalid_argument("--context-tokens must be >= 1");
    if (o.continuation_tokens < 1) throw std::invalid_argument("--continuation-tokens must be >= 1");
    if (o.max_windows < 0) throw std::invalid_argument("--max-windows must be >= 0");
    if (o.data.empty()) throw std::invalid_argument("the perplexity task needs --data FILE (text, or a JSON list of token ids)");
  } else {
    if (o.lengths.empty()) throw std::invalid_argument("--lengths: give at least one context length");
    for (auto l : o.lengths)
      if (l < 1) throw std::invalid_argument("--lengths: " + std::to_string(l) + " is not a token count >= 1");
    for (double d : o.depths)
      if (!(d >= 0.0 && d <= 1.0)) throw std::invalid_argument("--depths: " + format_ratio(d) + " is not in [0, 1]");
    if (o.depths.empty()) throw std::invalid_argument("--depths: give at least one depth");
    if (o.samples < 1) throw std::invalid_argument("--samples must be >= 1");
    if (o.max_new_tokens < 1) throw std::invalid_argument("--max-new-tokens must be >= 1");
  }
}

std::vector<double> unique_ratios(const std::vector<double>& ratios) {
  std::vector<double> out;
  for (double r : ratios)
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  return out;
}

std::vector<Method> prepare_methods(const KvEvalOptions& o, const inference::ModelConfig& config) {
  std::vector<Method> methods;
  for (const auto& name : o.methods) {
    Method m;
    m.name = name;
    m.press = inference::canonical_press_name(name);
    m.options = press_options(name, o.press, config, o.model);
    m.options.n_sink = o.sinks;
    auto press = inference::make_press(m.press, m.options);  // fails early on bad method parameters
    m.can_evict = !press->needs_queries() && !press->needs_prerope_keys();
    methods.push_back(std::move(m));
  }
  return methods;
}

// The prefill compression of one method at keep 1/ratio.
inference::CompressionSettings compression(const KvEvalOptions& o, const Method& m, double ratio) {
  inference::CompressionSettings s;
  s.method = m.press;
  s.press = m.options;
  s.keep_ratio = 1.0 / ratio;
  s.protect_first = o.sinks;
  s.protect_last = o.window;
  s.selection = o.selection == "shared" ? inference::HeadSelection::shared : inference::HeadSelection::per_head;
  return s;
}

// Entries per head kept of a `tokens`-long context at `ratio`; throws when the protected entries fill it.
int64_t kept_entries(const KvEvalOptions& o, int64_t tokens, double ratio) {
  const int64_t keep = inference::keep_count_for_ratio(tokens, 1.0 / ratio);
  if (keep <= o.sinks + o.window)
    throw std::invalid_argument("ratio " + format_ratio(ratio) + " keeps " + std::to_string(keep) + " of " +
                                std::to_string(tokens) + " context entries per head, not more than --sinks + --window (" +
                                std::to_string(o.sinks + o.window) +
                                "); use a longer context, a lower ratio or fewer protected entries");
  return keep;
}

std::vector<int64_t> eos_ids(const inference::Model& model, const inference::Tokenizer* tokenizer,
                             const std::filesystem::path& dir) {
  std::vector<int64_t> ids = model.config().eos_token_ids;
  if (tokenizer) {
    auto config = inference::TokenizerConfig::load(dir);
    if (config.eos_token)
      if (auto eos = tokenizer->token_to_id(*config.eos_token)) ids.push_back(*eos);
  }
  return ids;
}

std::vector<int64_t> to_ids(const std::vector<int32_t>& ids) { return {ids.begin(), ids.end()}; }

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const std::string& where) {
  for (auto id : ids)
    if (id < 0 || id >= vocab)
      throw std::invalid_argument(where + ": token id " + std::to_string(id) + " is out of range (vocab_size " +
                                  std::to_string(vocab) + ")");
}

json settings_json(const KvEvalOptions& o) {
  json s = {{"window", o.window}, {"sinks", o.sinks}, {"selection", o.selection}, {"device", o.device},
            {"seed", o.press.seed}};
  if (o.task == "perplexity") {
    s["context_tokens"] = o.context_tokens;
    s["continuation_tokens"] = o.continuation_tokens;
    s["max_windows"] = o.max_windows;
  } else {
    s["lengths"] = o.lengths;
    s["depths"] = o.depths;
    s["samples"] = o.samples;
    s["max_new_tokens"] = o.max_new_tokens;
  }
  if (!o.data.empty()) s["data"] = o.data.string();
  return s;
}

// ---------------------------------------------------------------- perplexity

struct Window {
  std::vector<int64_t> context, continuation;
};

// Consecutive non-overlapping windows of each document: a context of context_tokens (the prefix, e.g. BOS,
// first) and up to continuation_tokens after it (at least one).
std::vector<Window> make_windows(const std::vector<std::vector<int64_t>>& docs, const std::vector<int64_t>& prefix,
                                 const KvEvalOptions& o) {
  const int64_t body = o.context_tokens - static_cast<int64_t>(prefix.size());
  if (body < 1)
    throw std::invalid_argument("--context-tokens " + std::to_string(o.context_tokens) + " leaves no room after the " +
                                std::to_string(prefix.size()) + " special tokens the tokenizer adds");
  std::vector<Window> out;
  for (const auto& doc : docs) {
    const auto n = static_cast<int64_t>(doc.size());
    for (int64_t start = 0; n - start > body; start += body + o.continuation_tokens) {
      if (o.max_windows > 0 && static_cast<int64_t>(out.size()) >= o.max_windows) return out;
      Window w;
      w.context = prefix;
      w.context.insert(w.context.end(), doc.begin() + start, doc.begin() + start + body);
      const int64_t cont = std::min(o.continuation_tokens, n - start - body);
      w.continuation.assign(doc.begin() + start + body, doc.begin() + start + body + cont);
      out.push_back(std::move(w));
    }
  }
  return out;
}

// One window: the context prefilled through the compressor (and the evictor), the continuation scored.
inference::ContinuationNll score_window(const inference::Model& model, const Window& w,
                                        inference::PrefillCompressor* compressor, inference::StreamingEvictor* evictor) {
  auto cache = model.new_cache();
  return inference::continuation_nll(model, cache, w.context, w.continuation, compressor, evictor);
}

// An exception's message without libtorch's C++ backtrace.
std::string error_message(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

struct NllTotals {
  double nll = 0, forward_seconds = 0, compression_seconds = 0;
  int64_t tokens = 0, windows = 0, kv_bytes = 0, kv_bytes_final = 0, max_entries = 0;
  void add(const inference::ContinuationNll& r) {
    nll += r.total_nll;
    tokens += r.tokens;
    ++windows;
    kv_bytes += r.kv_bytes_after_context;
    kv_bytes_final += r.kv_bytes_final;
    max_entries = std::max(max_entries, r.max_entries);
    forward_seconds += r.forward_seconds;
    compression_seconds += r.compression_seconds;
  }
  double mean_nll() const { return tokens ? nll / static_cast<double>(tokens) : 0.0; }
  double perplexity() const { return std::exp(mean_nll()); }
  double mean_kv_bytes() const { return windows ? static_cast<double>(kv_bytes) / static_cast<double>(windows) : 0.0; }
  double mean_kv_bytes_final() const {
    return windows ? static_cast<double>(kv_bytes_final) / static_cast<double>(windows) : 0.0;
  }
};

json perplexity_row(const std::string& method, const std::string& press, double ratio, const NllTotals& t,
                    const NllTotals& base, bool capped) {
  return {{"method", method},
          {"press", press},
          {"ratio", ratio},
          {"keep_ratio", 1.0 / ratio},
          {"perplexity", t.perplexity()},
          {"mean_nll", t.mean_nll()},
          {"tokens", t.tokens},
          {"kv_bytes", t.mean_kv_bytes()},
          {"kv_bytes_final", t.mean_kv_bytes_final()},
          {"kv_bytes_ratio", base.kv_bytes ? static_cast<double>(t.kv_bytes) / static_cast<double>(base.kv_bytes) : 0.0},
          {"max_entries", t.max_entries},
          {"scoring_share", t.forward_seconds > 0 ? t.compression_seconds / t.forward_seconds : 0.0},
          {"compression_seconds", t.compression_seconds},
          {"forward_seconds", t.forward_seconds},
          {"capped", capped}};
}

json run_perplexity(const KvEvalOptions& o, const inference::Model& model, const std::vector<Method>& methods,
                    const std::vector<double>& ratios, json out) {
  std::optional<inference::Tokenizer> tokenizer;
  const bool has_tokenizer = std::filesystem::exists(o.model / "tokenizer.json");
  std::function<std::vector<int64_t>(const std::string&)> encode;
  if (has_tokenizer)
    encode = [&](const std::string& text) {
      if (!tokenizer) tokenizer.emplace(load_tokenizer(o.model));
      return to_ids(tokenizer->encode(text, /*add_special_tokens=*/false));
    };
  auto docs = read_token_documents(o.data, encode);
  std::vector<int64_t> prefix;
  if (tokenizer) prefix = to_ids(tokenizer->encode("", /*add_special_tokens=*/true));  // text data: BOS per window
  for (const auto& d : docs) check_ids(d, model.config().vocab_size, o.data.string());
  auto windows = make_windows(docs, prefix, o);
  if (windows.empty()) {
    int64_t longest = 0;
    for (const auto& d : docs) longest = std::max(longest, static_cast<int64_t>(d.size()));
    throw std::invalid_argument(o.data.string() + ": the longest document has " + std::to_string(longest) +
                                " tokens; a window needs more than --context-tokens (" +
                                std::to_string(o.context_tokens - static_cast<int64_t>(prefix.size())) +
                                " of data) to leave a continuation");
  }

  NllTotals base;
  for (const auto& w : windows) {
    auto cache = model.new_cache();
    base.add(inference::continuation_nll(model, cache, w.context, w.continuation));
  }
  const auto context_len = static_cast<int64_t>(windows.front().context.size());
  out["baseline"] = {{"ratio", 1},
                     {"perplexity", base.perplexity()},
                     {"mean_nll", base.mean_nll()},
                     {"tokens", base.tokens},
                     {"windows", base.windows},
                     {"context_tokens", context_len},
                     {"kv_bytes", base.mean_kv_bytes()},
                     {"kv_bytes_final", base.mean_kv_bytes_final()},
                     {"forward_seconds", base.forward_seconds}};

  json results = json::array();
  for (const auto& m : methods) {
    for (double ratio : ratios) {
      if (ratio == 1.0) {
        results.push_back(perplexity_row(m.name, m.press, ratio, base, base, false));
        continue;
      }
      try {
        NllTotals t;
        for (const auto& w : windows) {
          const int64_t keep = kept_entries(o, static_cast<int64_t>(w.context.size()), ratio);
          inference::PrefillCompressor compressor(compression(o, m, ratio));
          std::optional<inference::StreamingEvictor> evictor;
          if (m.can_evict) {
            inference::StreamingSettings s;
            s.method = m.press;
            s.press = m.options;
            s.max_entries = keep;
            s.window = o.window;
            s.protect_first = o.sinks;
            evictor.emplace(s);
          }
          t.add(score_window(model, w, &compressor, evictor ? &*evictor : nullptr));
        }
        auto row = perplexity_row(m.name, m.press, ratio, t, base, m.can_evict);
        if (m.can_evict) row["cache_cap"] = kept_entries(o, context_len, ratio);
        results.push_back(row);
      } catch (const std::exception& e) {
        results.push_back({{"method", m.name}, {"press", m.press}, {"ratio", ratio}, {"keep_ratio", 1.0 / ratio},
                           {"error", error_message(e)}});
      }
    }
  }
  out["results"] = results;
  return out;
}

// ---------------------------------------------------------------- passkey

struct PasskeyCase {
  std::vector<int64_t> context, question;
  std::string answer;
  json length, depth;  // the cell it belongs to
};

std::vector<PasskeyCase> passkey_cases(const KvEvalOptions& o, const inference::Tokenizer& tokenizer) {
  auto count = [&](const std::string& text) {
    return static_cast<int64_t>(tokenizer.encode(text, /*add_special_tokens=*/true).size());
  };
  std::optional<inference::ChatTemplate> chat_template;
  if (o.chat) chat_template.emplace(load_chat_template(o.model));
  auto make_case = [&](const std::string& context, const std::string& question, const std::string& answer) {
    PasskeyCase c;
    c.answer = answer;
    if (!chat_template) {
      c.context = to_ids(tokenizer.encode(context, /*add_special_tokens=*/true));
      c.question = to_ids(tokenizer.encode("\n" + question, /*add_special_tokens=*/false));
      return c;
    }
    // One user turn "context\n\nquestion" and the generation prompt; the cut after the context is where
    // compression happens (the question and the assistant header stay uncompressed).
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    messages.push_back({{"role", "user"}, {"content", context + "\n\n" + question}});
    const std::string text = chat_template->render(messages, nullptr, /*add_generation_prompt=*/true);
    const size_t at = text.find(context);
    if (at == std::string::npos) throw std::invalid_argument("--chat: the chat template does not keep the prompt text");
    const size_t cut = at + context.size();
    c.context = to_ids(tokenizer.encode(text.substr(0, cut), /*add_special_tokens=*/false));
    c.question = to_ids(tokenizer.encode(text.substr(cut), /*add_special_tokens=*/false));
    return c;
  };
  std::vector<PasskeyCase> cases;
  if (!o.data.empty()) {
    std::ifstream in(o.data);
    if (!in) throw std::invalid_argument(o.data.string() + ": cannot open the passkey data file");
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = o.data.string() + ":" + std::to_string(number);
      json j;
      try {
        j = json::parse(line);
      } catch (const json::exception& e) {
        throw std::invalid_argument(where + ": not valid JSON: " + e.what());
      }
      if (!j.is_object()) throw std::invalid_argument(where + ": expected {\"context\", \"question\", \"answer\"}");
      for (const char* field : {"context", "question", "answer"})
        if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty())
          throw std::invalid_argument(where + ": field '" + field + "' must be a non-empty string");
      auto c = make_case(j["context"], j["question"], j["answer"]);
      c.length = j.contains("length") ? j["length"] : json(static_cast<int64_t>(c.context.size()));
      c.depth = j.contains("depth") ? j["depth"] : json(nullptr);
      cases.push_back(std::move(c));
    }
    if (cases.empty()) throw std::invalid_argument(o.data.string() + ": no prompts (expected JSON lines)");
    return cases;
  }
  for (auto length : o.lengths)
    for (size_t d = 0; d < o.depths.size(); ++d)
      for (int64_t s = 0; s < o.samples; ++s) {
        training::PasskeyParams p;
        p.depth = o.depths[d];
        p.seed = o.press.seed * 1000003ULL + static_cast<uint64_t>(length) * 1009ULL + d * 101ULL +
                 static_cast<uint64_t>(s);
        auto prompt = training::make_passkey_prompt_for_tokens(length, p, count);
        auto c = make_case(prompt.context, prompt.question, prompt.answer);
        c.length = length;
        c.depth = o.depths[d];
        cases.push_back(std::move(c));
      }
  return cases;
}

struct PasskeyTotals {
  int64_t correct = 0, prompts = 0, kv_bytes = 0;
  double forward_seconds = 0, compression_seconds = 0;
  std::vector<std::pair<json, json>> cells;          // (length, depth) in first-seen order
  std::map<std::string, std::pair<int64_t, int64_t>> by_cell;  // key -> (correct, prompts)
  std::vector<json> outputs;
  void add(const PasskeyCase& c, bool ok) {
    const std::string key = c.length.dump() + "|" + c.depth.dump();
    if (!by_cell.count(key)) cells.emplace_back(c.length, c.depth);
    auto& cell = by_cell[key];
    cell.first += ok;
    cell.second += 1;
    correct += ok;
    prompts += 1;
  }
  double accuracy() const { return prompts ? static_cast<double>(correct) / static_cast<double>(prompts) : 0.0; }
  json by_length_depth() const {
    json out = json::array();
    for (const auto& [length, depth] : cells) {
      const auto& cell = by_cell.at(length.dump() + "|" + depth.dump());
      out.push_back({{"length", length},
                     {"depth", depth},
                     {"accuracy", static_cast<double>(cell.first) / static_cast<double>(cell.second)},
                     {"samples", cell.second}});
    }
    return out;
  }
};

// Prefill (compressed when `compressor`), then greedy answer generation from the uncompressed question.
void run_passkey_case(const inference::Model& model, const inference::Tokenizer& tokenizer,
                      const std::vector<int64_t>& stops, const PasskeyCase& c, int64_t max_new_tokens,
                      inference::PrefillCompressor* compressor, PasskeyTotals& t) {
  auto cache = model.new_cache();
  const double compressed_before = compressor ? compressor->seconds() : 0.0;
  const auto start = Clock::now();
  model.forward(c.context, cache, /*last_only=*/true, compressor ? compressor->observer() : inference::LayerObserver());
  t.kv_bytes += cache.bytes();
  inference::GenerationRequest request;
  request.prompt = c.question;
  request.sampling.temperature = 0;
  request.max_new_tokens = max_new_tokens;
  request.stop_token_ids = stops;
  auto result = inference::generate(model, &tokenizer, cache, request);
  t.forward_seconds += seconds_since(start);
  if (compressor) t.compression_seconds += compressor->seconds() - compressed_before;
  t.add(c, result.text.find(c.answer) != std::string::npos);
  t.outputs.push_back({{"length", c.length}, {"depth", c.depth}, {"answer", c.answer}, {"output", result.text}});
}

json passkey_row(const std::string& method, const std::string& press, double ratio, const PasskeyTotals& t,
                 const PasskeyTotals& base) {
  return {{"method", method},
          {"press", press},
          {"ratio", ratio},
          {"keep_ratio", 1.0 / ratio},
          {"accuracy", t.accuracy()},
          {"correct", t.correct},
          {"prompts", t.prompts},
          {"by_length_depth", t.by_length_depth()},
          {"kv_bytes", t.prompts ? static_cast<double>(t.kv_bytes) / static_cast<double>(t.prompts) : 0.0},
          {"kv_bytes_ratio", base.kv_bytes ? static_cast<double>(t.kv_bytes) / static_cast<double>(base.kv_bytes) : 0.0},
          {"scoring_share", t.forward_seconds > 0 ? t.compression_seconds / t.forward_seconds : 0.0},
          {"compression_seconds", t.compression_seconds},
          {"forward_seconds", t.forward_seconds},
          {"capped", false}};
}

json run_passkey(const KvEvalOptions& o, const inference::Model& model, const std::vector<Method>& methods,
                 const std::vector<double>& ratios, json out) {
  if (!std::filesystem::exists(o.model / "tokenizer.json"))
    throw std::invalid_argument("the passkey task needs the model's tokenizer: " + (o.model / "tokenizer.json").string() +
                                " does not exist (the perplexity task accepts token ids instead)");
  auto tokenizer = load_tokenizer(o.model);
  const auto stops = eos_ids(model, &tokenizer, o.model);
  const auto cases = passkey_cases(o, tokenizer);
  for (const auto& c : cases) {
    check_ids(c.context, model.config().vocab_size, "passkey context");
    check_ids(c.question, model.config().vocab_size, "passkey question");
  }

  PasskeyTotals base;
  for (const auto& c : cases) run_passkey_case(model, tokenizer, stops, c, o.max_new_tokens, nullptr, base);
  out["baseline"] = {{"ratio", 1},
                     {"accuracy", base.accuracy()},
                     {"correct", base.correct},
                     {"prompts", base.prompts},
                     {"by_length_depth", base.by_length_depth()},
                     {"kv_bytes", static_cast<double>(base.kv_bytes) / static_cast<double>(base.prompts)},
                     {"forward_seconds", base.forward_seconds},
                     {"outputs", base.outputs}};
  json results = json::array();
  for (const auto& m : methods) {
    for (double ratio : ratios) {
      if (ratio == 1.0) {
        results.push_back(passkey_row(m.name, m.press, ratio, base, base));
        continue;
      }
      try {
        PasskeyTotals t;
        for (const auto& c : cases) {
          kept_entries(o, static_cast<int64_t>(c.context.size()), ratio);
          inference::PrefillCompressor compressor(compression(o, m, ratio));
          run_passkey_case(model, tokenizer, stops, c, o.max_new_tokens, &compressor, t);
        }
        results.push_back(passkey_row(m.name, m.press, ratio, t, base));
      } catch (const std::exception& e) {
        results.push_back({{"method", m.name}, {"press", m.press}, {"ratio", ratio}, {"keep_ratio", 1.0 / ratio},
                           {"error", error_message(e)}});
      }
    }
  }
  out["results"] = results;
  return out;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3) bytes /= 1024, ++u;
  return u == 0 ? fixed(bytes, 0) + " B" : fixed(bytes, 1) + " " + units[u];
}

}  // namespace

std::vector<std::vector<int64_t>> read_token_documents(
    const std::filesystem::path& file, const std::function<std::vector<int64_t>(const std::string&)>& encode) {
  std::ifstream in(file, std::ios::binary);
  if (!std::filesystem::is_regular_file(file) || !in)
    throw std::invalid_argument(file.string() + ": cannot read the data file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::invalid_argument(file.string() + ": the data file is empty");
  const bool looks_json = file.extension() == ".json" || text[first] == '[';
  std::vector<std::vector<int64_t>> docs;
  if (looks_json) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(file.string() + ": not valid JSON: " + e.what());
    }
    const std::string shape = ": expected a JSON list of token ids (non-negative integers) or a list of such lists";
    if (!j.is_array() || j.empty()) throw std::invalid_argument(file.string() + shape);
    auto read_ids = [&](const nlohmann::json& list) {
      if (!list.is_array() || list.empty()) throw std::invalid_argument(file.string() + shape);
      std::vector<int64_t> ids;
      for (const auto& v : list) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0) throw std::invalid_argument(file.string() + shape);
        ids.push_back(v.get<int64_t>());
      }
      return ids;
    };
    if (j.front().is_array())
      for (const auto& d : j) docs.push_back(read_ids(d));
    else
      docs.push_back(read_ids(j));
    return docs;
  }
  if (!encode)
    throw std::invalid_argument(file.string() + " is text and the model has no tokenizer.json to encode it; give "
                                "token ids as a JSON list instead");
  docs.push_back(encode(text));
  return docs;
}

nlohmann::ordered_json run_kv_eval(const KvEvalOptions& o) {
  validate_options(o);
  const auto ratios = unique_ratios(o.ratios);
  auto model = inference::Model::load(o.model, load_options(o.device));
  const auto methods = prepare_methods(o, model->config());
  json out = {{"task", o.task}, {"model", o.model.string()}, {"methods", json::array()}, {"ratios", ratios}};
  for (const auto& m : methods) out["methods"].push_back(m.name);
  out["settings"] = settings_json(o);
  if (o.task == "perplexity") return run_perplexity(o, *model, methods, ratios, out);
  return run_passkey(o, *model, methods, ratios, out);
}

std::string kv_eval_table(const nlohmann::ordered_json& r) {
  const bool ppl = r.value("task", "") == "perplexity";
  const std::string quality = ppl ? "perplexity" : "accuracy";
  std::string t = "| method | ratio | keep | " + quality + " | KV bytes | KV vs full | scoring share | capped |\n";
  t += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |\n";
  auto quality_text = [&](const nlohmann::ordered_json& row) {
    return ppl ? fixed(row.value("perplexity", 0.0), 3) : fixed(row.value("accuracy", 0.0), 3);
  };
  if (r.contains("baseline")) {
    const auto& b = r["baseline"];
    t += "| full cache | 1 | 1.000 | " + quality_text(b) + " | " + human_bytes(b.value("kv_bytes", 0.0)) +
         " | 1.000 | 0.0% | no |\n";
  }
  for (const auto& row : r.value("results", nlohmann::ordered_json::array())) {
    t += "| " + row.value("method", std::string()) + " | " + format_ratio(row.value("ratio", 0.0)) + " | " +
         fixed(row.value("keep_ratio", 0.0), 3) + " | ";
    if (row.contains("error")) {
      std::string message = row["error"].get<std::string>();
      std::replace(message.begin(), message.end(), '|', '/');
      t += "error: " + message + " | | | | |\n";
      continue;
    }
    t += quality_text(row) + " | " + human_bytes(row.value("kv_bytes", 0.0)) + " | " +
         fixed(row.value("kv_bytes_ratio", 0.0), 3) + " | " + fixed(100.0 * row.value("scoring_share", 0.0), 1) +
         "% | " + (row.value("capped", false) ? "yes" : "no") + " |\n";
  }
  return t;
}

std::string kv_eval_chart(const nlohmann::ordered_json& r) {
  const bool ppl = r.value("task", "") == "perplexity";
  LineChart chart;
  const std::string model = std::filesystem::path(r.value("model", std::string())).filename().string();
  chart.title = (model.empty() ? std::string() : model + ": ") +
                (ppl ? "perplexity" : "passkey accuracy") + " vs KV compression";
  chart.x_label = "compression ratio R (keep 1/R of the KV entries, log2 axis)";
  chart.y_label = ppl ? "perplexity (lower is better)" : "passkey accuracy (higher is better)";
  const std::string key = ppl ? "perplexity" : "accuracy";
  for (const auto& m : r.value("methods", nlohmann::ordered_json::array())) {
    ChartSeries s;
    s.name = m.get<std::string>();
    for (const auto& row : r.value("results", nlohmann::ordered_json::array()))
      if (row.value("method", std::string()) == s.name && row.contains(key))
        s.points.emplace_back(row["ratio"].get<double>(), row[key].get<double>());
    chart.series.push_back(std::move(s));
  }
  return render_svg(chart);
}

void write_kv_eval_outputs(const nlohmann::ordered_json& results, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::invalid_argument("--out " + dir.string() + ": cannot create the directory: " + ec.message());
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream f(dir / name, std::ios::binary);
    f << content;
    if (!f) throw std::invalid_argument((dir / name).string() + ": cannot write");
  };
  write("results.json", results.dump(2) + "\n");
  write("results.md", "# chorus kv eval: " + results.value("task", std::string()) + " on " +
                          results.value("model", std::string()) + "\n\n" + kv_eval_table(results));
  write("chart.svg", kv_eval_chart(results));
}

}  // namespace chorus::cli
