#include "agents/local-provider.h"

#include "agents/local-chat-prompt.h"
#include "agents/local-kv.h"
#include "agents/local-model-cache.h"
#include "agents/local-settings.h"
#include "agents/tool-call-parser.h"
#include "inference/generator.h"
#include "inference/tool-call-constraint.h"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>

namespace chorus::agents {
namespace {

// An exception's message without libtorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

// Forwards generated text to a delta callback, holding back a tail that may still become a stop string (the
// engine cuts a stop string from the text, so it must never reach the caller).
class DeltaStream {
 public:
  DeltaStream(const LlmDeltaCallback& on_delta, const std::vector<std::string>& stops) : on_delta_(on_delta), stops_(stops) {}
  void feed(const std::string& piece) {
    if (!on_delta_) return;
    text_ += piece;
    emit_to(text_.size() - held_tail());
  }
  // The final text (stop string removed): whatever of it was not sent yet.
  void finish(const std::string& final_text) {
    if (!on_delta_) return;
    text_ = final_text;
    emit_to(text_.size());
  }

 private:
  size_t held_tail() const {
    size_t hold = 0;
    for (const auto& stop : stops_)
      for (size_t k = std::min(stop.size() - 1, text_.size()); k > hold; --k)
        if (text_.compare(text_.size() - k, k, stop, 0, k) == 0) {
          hold = k;
          break;
        }
    return hold;
  }
  void emit_to(size_t end) {
    if (end <= emitted_) return;
    on_delta_(text_.substr(emitted_, end - emitted_));
    emitted_ = end;
  }
  const LlmDeltaCallback& on_delta_;
  const std::vector<std::string>& stops_;
  std::string text_;
  size_t emitted_ = 0;
};

// Each offered tool's parameters schema by name (OpenAI {"type": "function", "function": {...}} or bare entries).
std::map<std::string, nlohmann::json> tool_parameters(const nlohmann::json& tools) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& tool : tools) {
    const nlohmann::json& f = tool.contains("function") ? tool["function"] : tool;
    if (f.is_object() && f.contains("name") && f["name"].is_string())
      out[f["name"].get<std::string>()] = f.value("parameters", nlohmann::json::object());
  }
  return out;
}

class LocalProvider : public LlmProvider {
 public:
  explicit LocalProvider(LocalSettings settings) : settings_(std::move(settings)) {}

  std::string describe() const override { return "local:" + settings_.model; }

  LlmResponse complete(const LlmRequest& request, const LlmDeltaCallback& on_delta) override {
    const auto start = std::chrono::steady_clock::now();
    auto model = loaded();
    // One generation (and template rendering) at a time per model; a cancelled caller stops waiting its turn.
    std::unique_lock lock(model->generation, std::defer_lock);
    if (!request.cancel.stop_possible()) lock.lock();
    while (!lock.owns_lock() && !lock.try_lock())
      if (!sleep_unless_cancelled(request.cancel, std::chrono::milliseconds(5))) throw llm_cancelled_error(describe());
    if (request.cancel.stop_requested()) throw llm_cancelled_error(describe());
    const std::string prompt =
        render_chat_prompt(*model->chat_template, request, (settings_.model_dir / "tokenizer_config.json").string());

    inference::GenerationRequest generation;
    for (auto id : model->tokenizer->encode(prompt, /*add_special_tokens=*/false)) generation.prompt.push_back(id);
    generation.sampling.temperature = request.temperature.value_or(settings_.temperature);
    generation.sampling.top_p = settings_.top_p;
    generation.sampling.top_k = settings_.top_k;
    generation.sampling.seed = request.seed ? static_cast<uint64_t>(*request.seed) : settings_.seed.value_or(0);
    generation.max_new_tokens = request.max_tokens.value_or(settings_.max_tokens);
    generation.stop_token_ids = model->stop_ids;
    for (const auto& stop : request.stop)
      if (!stop.empty()) generation.stop_strings.push_back(stop);

    const bool tools_offered = request.tool_choice != "none" && request.tools.is_array() && !request.tools.empty();
    std::optional<inference::ToolCallConstraint> constraint;
    if (const auto parameters = tool_parameters(request.tools); tools_offered && settings_.constrain_tool_calls &&
                                                                 !parameters.empty()) {
      if (!model->token_trie)
        model->token_trie = std::make_shared<const inference::TokenTrie>(inference::TokenTrie::of(*model->tokenizer));
      constraint.emplace(model->token_trie, inference::compile_tool_call_schema(parameters));
      generation.constraint = &*constraint;
    }

    inference::GenerationResult result;
    DeltaStream stream(on_delta, generation.stop_strings);
    bool cancelled = false;  // request.cancel stopped the generation
    try {
      std::optional<LocalKvRun> kv;
      if (settings_.kv) {
        kv.emplace(*settings_.kv, press_options(model->model->config()), model->model->config().num_layers,
                   static_cast<int64_t>(generation.prompt.size()));
        generation.observer = kv->observer();
      }
      if (settings_.threads) torch::set_num_threads(*settings_.threads);
      auto cache = model->model->new_cache();
      result = inference::generate(*model->model, model->tokenizer.get(), cache, generation,
                                   [&](int64_t, const std::string& piece) {
                                     if (request.cancel.stop_requested()) {
                                       cancelled = true;
                                       return false;  // ends generation after this token
                                     }
                                     stream.feed(piece);
                                     return true;
                                   });
    } catch (const LlmError&) {
      throw;
    } catch (const std::exception& e) {
      throw LlmError(describe() + ": generation failed: " + message_of(e), false);
    }
    lock.unlock();
    if (cancelled) throw llm_cancelled_error(describe());
    stream.finish(result.text);

    LlmResponse response;
    response.model = settings_.model;
    response.usage.prompt_tokens = result.prompt_tokens;
    response.usage.completion_tokens = static_cast<long long>(result.ids.size());
    response.finish_reason = result.finish_reason;
    response.content = result.text;
    if (tools_offered) {
      auto parsed = parse_tool_calls(result.text);
      std::string content = parsed.content;
      // A call that could not be read goes back as a call with its raw text, so the tool loop reports the
      // problem to the model instead of it vanishing.
      response.tool_calls = calls_with_errors(std::move(parsed));
      if (!response.tool_calls.empty()) {
        response.content = std::move(content);
        response.finish_reason = "tool_calls";
      }
    }
    response.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return response;
  }

 private:
  std::shared_ptr<LocalModel> loaded() {
    std::lock_guard lock(mutex_);
    if (!model_) model_ = shared_local_model(settings_.model_dir, settings_.device, settings_.dtype);
    return model_;
  }

  const inference::PressOptions& press_options(const inference::ModelConfig& config) {
    std::lock_guard lock(mutex_);
    if (!press_) {
      try {
        press_ = local_press_options(*settings_.kv, config);
      } catch (const std::exception& e) {
        throw LlmError(describe() + ": " + message_of(e), false);
      }
    }
    return *press_;
  }

  LocalSettings settings_;
  std::mutex mutex_;
  std::shared_ptr<LocalModel> model_;
  std::optional<inference::PressOptions> press_;
};

}  // namespace

std::unique_ptr<LlmProvider> make_local_provider(const nlohmann::json& settings, const std::string& base_dir) {
  return std::make_unique<LocalProvider>(parse_local_settings(settings, base_dir));
}

}  // namespace chorus::agents
