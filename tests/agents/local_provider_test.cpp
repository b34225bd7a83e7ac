// The local provider on a real (tiny, random) model directory with the Qwen2.5 chat template: prompt rendering and
// token counts, determinism, the shared model cache, max_tokens, stop strings and streaming, KV settings, errors;
// and the bundled model's tool calls held to the tools' schemas.
#include "agents/local-model-cache.h"
#include "agents/local-provider.h"
#include "inference/chat-template.h"
#include "inference/model.h"
#include "inference/qfilters-calibration.h"
#include "inference/safetensors-writer.h"
#include "inference/tokenizer.h"
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/temp-dir.h"
#include "tools/builtin-tools.h"
#include "tools/json-schema.h"
#include "tools/tool-registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <stop_token>
#include <thread>

namespace chorus::agents {
namespace {

using chorus::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

fs::path fixture_tokenizer_dir() { return chorus::testing::shared_dir() / "fixtures/tokenizers/qwen2-style"; }

class LocalProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!chorus::testing::oracle_available(&why)) return;
    dir_ = new TempDir("local-llm");
    // A random qwen2-shaped model whose vocabulary matches the qwen2-style fixture tokenizer (128005 ids), with the
    // fixture's tokenizer.json, tokenizer_config.json (Qwen2.5-Instruct chat template) and eos ids.
    const fs::path model = dir_->path() / "model";
    chorus::testing::make_tiny_model(model, {"--arch", "qwen2", "--layers", "2", "--hidden", "64", "--heads", "4",
                                             "--kv-heads", "2", "--intermediate", "128", "--vocab", "128005", "--std",
                                             "0.1"});
    for (const char* file : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
      fs::copy_file(fixture_tokenizer_dir() / file, model / file, fs::copy_options::overwrite_existing);
    // The same weights without a chat template.
    const fs::path plain = dir_->path() / "plain";
    fs::create_directories(plain);
    for (const auto& entry : fs::directory_iterator(model))
      if (entry.path().filename() != "tokenizer_config.json") fs::create_symlink(entry.path(), plain / entry.path().filename());
    chorus::testing::write_file(plain / "tokenizer_config.json", R"({"eos_token": "<|im_end|>"})");
    tokenizer_ = new inference::Tokenizer(inference::Tokenizer::from_file(model / "tokenizer.json"));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete dir_;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "oracle (/usr/bin/python3 + numpy, shared/oracle) unavailable";
  }
  static fs::path model_dir() { return dir_->path() / "model"; }
  static json settings(json extra = json::object()) {
    json s = {{"provider", "local"}, {"model", model_dir().string()}, {"max_tokens", 6}};
    s.update(extra);
    return s;
  }
  static LlmRequest question(const std::string& text = "Say something about foxes.") {
    LlmRequest r;
    r.messages = {{"system", "You are terse.", {}, "", ""}, {"user", text, {}, "", ""}};
    return r;
  }
  static LlmResponse run(const json& s, const LlmRequest& request, const LlmDeltaCallback& on_delta = {}) {
    return make_local_provider(s, "")->complete(request, on_delta);
  }
  static std::string invalid_argument_message(const json& s, const std::string& base_dir = "") {
    try {
      make_local_provider(s, base_dir);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no error)";
  }
  static TempDir* dir_;
  static inference::Tokenizer* tokenizer_;
};

TempDir* LocalProviderTest::dir_ = nullptr;
inference::Tokenizer* LocalProviderTest::tokenizer_ = nullptr;

TEST_F(LocalProviderTest, PromptIsTheTemplateRenderingAndUsageCountsItsTokensExactly) {
  LlmRequest request;
  request.messages = {{"system", "You are terse.", {}, "", ""},
                      {"user", "What is 2+2?", {}, "", ""},
                      {"assistant", "", {{"call_0", "calculator", R"({"expression":"2+2"})"}}, "", ""},
                      {"tool", "4", {}, "call_0", "calculator"},
                      {"user", "Thanks. And 3+3?", {}, "", ""}};
  request.tools = json::parse(R"([{"type": "function", "function": {"name": "calculator", "description": "Evaluate",
      "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}])");
  // The same conversation written by hand in the shape Hugging Face templates expect.
  auto messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call_0", "type": "function",
       "function": {"name": "calculator", "arguments": {"expression": "2+2"}}}]},
    {"role": "tool", "content": "4", "tool_call_id": "call_0", "name": "calculator"},
    {"role": "user", "content": "Thanks. And 3+3?"}])");
  auto config = json::parse(chorus::testing::read_file(model_dir() / "tokenizer_config.json"));
  inference::ChatTemplate chat_template(config["chat_template"].get<std::string>());
  const std::string prompt =
      chat_template.render(messages, nlohmann::ordered_json::parse(request.tools.dump()), /*add_generation_prompt=*/true);
  ASSERT_NE(prompt.find("<tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"2+2\"}}"),
            std::string::npos)
      << prompt;
  ASSERT_NE(prompt.find("<tool_response>\n4\n</tool_response>"), std::string::npos) << prompt;

  auto response = run(settings(), request);
  EXPECT_EQ(response.usage.prompt_tokens, static_cast<long long>(tokenizer_->encode(prompt, false).size()));
  EXPECT_EQ(response.usage.completion_tokens, 6);
  EXPECT_EQ(response.finish_reason, "length");
  EXPECT_EQ(response.model, model_dir().string());
  EXPECT_GT(response.elapsed_ms, 0);
}

TEST_F(LocalProviderTest, GreedyIsDeterministicAcrossCallsAndProvidersThatShareOneModel) {
  auto first = make_local_provider(settings(), "");
  auto a = first->complete(question());
  const int loads = local_model_loads();
  const size_t cached = local_model_cache_size();
  auto b = first->complete(question());
  // A second provider naming the same directory differently (relative to a base dir, with a "./").
  auto second = make_local_provider(settings({{"model", "./model"}}), dir_->path().string());
  auto c = second->complete(question());
  // float32 is what CPU uses by default: the same model.
  auto d = make_local_provider(settings({{"dtype", "float32"}, {"device", "cpu"}}), "")->complete(question());
  EXPECT_EQ(local_model_loads(), loads);
  EXPECT_EQ(local_model_cache_size(), cached);
  EXPECT_FALSE(a.content.empty());
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.content, c.content);
  EXPECT_EQ(a.content, d.content);
  EXPECT_EQ(a.usage.completion_tokens, c.usage.completion_tokens);
  EXPECT_EQ(second->describe(), "local:./model");
}

TEST_F(LocalProviderTest, ConcurrentProvidersOnOneModelGiveTheSameGreedyText) {
  auto expected = run(settings(), question()).content;
  std::vector<std::string> got(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] { got[i] = run(settings(), question()).content; });
  for (auto& t : threads) t.join();
  for (const auto& text : got) EXPECT_EQ(text, expected);
}

TEST_F(LocalProviderTest, SeededSamplingIsReproducible) {
  auto request = question();
  request.temperature = 1.0;
  request.seed = 7;
  auto a = run(settings({{"max_tokens", 10}}), request);
  auto b = run(settings({{"max_tokens", 10}}), request);
  EXPECT_EQ(a.content, b.content);
  request.seed = 8;
  auto c = run(settings({{"max_tokens", 10}}), request);
  EXPECT_NE(a.content, c.content);
}

TEST_F(LocalProviderTest, MaxTokensFromTheRequestOrTheSettings) {
  auto request = question();
  request.max_tokens = 3;
  auto r = run(settings({{"max_tokens", 20}}), request);
  EXPECT_EQ(r.usage.completion_tokens, 3);
  EXPECT_EQ(r.finish_reason, "length");
  auto s = run(settings({{"max_tokens", 4}}), question());
  EXPECT_EQ(s.usage.completion_tokens, 4);
  EXPECT_EQ(s.finish_reason, "length");
  // The first 3 greedy tokens are the same either way.
  EXPECT_EQ(s.content.rfind(r.content, 0), 0u) << r.content << " | " << s.content;
}

TEST_F(LocalProviderTest, DeltasStreamTheContentAndStopStringsCutIt) {
  std::string streamed;
  auto full = run(settings({{"max_tokens", 12}}), question(), [&](const std::string& d) { streamed += d; });
  EXPECT_EQ(streamed, full.content);
  ASSERT_GE(full.content.size(), 8u);
  auto request = question();
  request.stop = {full.content.substr(full.content.size() / 2, 3)};
  streamed.clear();
  auto cut = run(settings({{"max_tokens", 12}}), request, [&](const std::string& d) { streamed += d; });
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.content, full.content.substr(0, full.content.find(request.stop[0])));
  EXPECT_EQ(streamed, cut.content);
  EXPECT_LT(cut.usage.completion_tokens, 12);
}

TEST_F(LocalProviderTest, KeepRatioOneIsTheSameAsNoCompressionAndOtherKvSettingsRun) {
  const auto plain = run(settings({{"max_tokens", 8}}), question());
  const auto kept = run(settings({{"max_tokens", 8}, {"kv", {{"method", "knorm"}, {"keep_ratio", 1.0}}}}), question());
  EXPECT_EQ(kept.content, plain.content);

  std::vector<json> kvs = {{{"method", "knorm"}, {"keep_ratio", 0.3}},
                           {{"method", "streaming_llm"}, {"cap", 12}, {"sinks", 2}, {"window", 4}},
                           {{"method", "knorm"}, {"keep_ratio", 0.5}, {"cap", 16}, {"window", 4}}};
  bool any_differs = false;
  for (const auto& kv : kvs) {
    auto r = run(settings({{"max_tokens", 8}, {"kv", kv}}), question());
    EXPECT_EQ(r.usage.completion_tokens, 8) << kv.dump();
    EXPECT_EQ(r.usage.prompt_tokens, plain.usage.prompt_tokens) << kv.dump();
    any_differs = any_differs || r.content != plain.content;
  }
  // Dropping most of a random model's context changes what it says: the settings reach the engine.
  EXPECT_TRUE(any_differs);
}

TEST_F(LocalProviderTest, SnapKvCompressesLongPromptsAndLeavesShortOnesWhole) {
  const json snapkv = {{"method", "snapkv"}, {"keep_ratio", 0.3}};
  // The prompt is shorter than snapkv's 64-query observation window: nothing to compress, same text.
  EXPECT_EQ(run(settings({{"kv", snapkv}}), question()).content, run(settings(), question()).content);
  std::string story;
  for (int i = 0; i < 20; ++i) story += "The fox number " + std::to_string(i) + " jumped over the fence. ";
  auto long_prompt = run(settings({{"kv", snapkv}}), question(story));
  EXPECT_GT(long_prompt.usage.prompt_tokens, 64);
  EXPECT_EQ(long_prompt.usage.completion_tokens, 6);
}

TEST_F(LocalProviderTest, QFiltersCalibratedForTheModelAreUsed) {
  // Calibrate filters from the model's own post-RoPE queries on some text, store them the official way.
  auto model = inference::Model::load(model_dir());
  std::vector<torch::Tensor> queries(static_cast<size_t>(model->config().num_layers));
  auto cache = model->new_cache();
  std::vector<int64_t> ids;
  for (auto id : tokenizer_->encode("The quick brown fox jumps over the lazy dog. " + std::string(200, 'a'), false))
    ids.push_back(id);
  model->forward(ids, cache, false, [&](const inference::LayerActivations& a, inference::KvCache&) {
    queries[static_cast<size_t>(a.layer)] = a.queries.clone();
  });
  auto filters = inference::qfilters_calibrate(queries, model->config().num_kv_heads);
  const fs::path file = dir_->path() / "filters.safetensors";
  inference::write_safetensors(file, {{"q_filters", filters.stored().to(torch::kFloat32)}});

  auto r = run(settings({{"max_tokens", 5}, {"kv", {{"method", "qfilters"}, {"keep_ratio", 0.5}, {"filters", file.string()}}}}),
               question());
  EXPECT_EQ(r.usage.completion_tokens, 5);
  auto capped = run(settings({{"max_tokens", 5}, {"kv", {{"method", "qfilters"}, {"cap", 10}, {"window", 2},
                                                         {"filters", file.string()}}}}),
                    question());
  EXPECT_EQ(capped.usage.completion_tokens, 5);

  // Filters of the wrong shape are refused with the shape this model needs.
  const fs::path wrong = dir_->path() / "wrong.safetensors";
  inference::write_safetensors(wrong, {{"q_filters", torch::zeros({3, 2, 16})}});
  try {
    run(settings({{"kv", {{"method", "qfilters"}, {"keep_ratio", 0.5}, {"filters", wrong.string()}}}}), question());
    ADD_FAILURE() << "wrong filters accepted";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("llm.kv.filters"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 2, 16]"), std::string::npos) << e.what();
  }
}

TEST_F(LocalProviderTest, BadKvSettingsNameTheField) {
  auto message = [&](const json& kv) { return invalid_argument_message(settings({{"kv", kv}})); };
  EXPECT_NE(message({{"method", "qfilters"}, {"keep_ratio", 0.5}}).find("llm.kv.filters"), std::string::npos);
  EXPECT_NE(message({{"method", "qfilters"}, {"keep_ratio", 0.5}}).find("q_filters.safetensors"), std::string::npos);
  EXPECT_NE(message({{"method", "nope"}, {"keep_ratio", 0.5}}).find("llm.kv.method"), std::string::npos);
  EXPECT_NE(message({{"method", "snapkv"}, {"cap", 64}}).find("cannot evict during decoding"), std::string::npos);
  EXPECT_NE(message({{"method", "knorm"}}).find("keep_ratio"), std::string::npos);
  EXPECT_NE(message({{"method", "knorm"}, {"keep_ratio", 0}}).find("llm.kv.keep_ratio"), std::string::npos);
  EXPECT_NE(message({{"method", "knorm"}, {"cap", 8}, {"window", 8}}).find("llm.kv.cap"), std::string::npos);
  EXPECT_NE(message({{"method", "knorm"}, {"ratio", 0.5}}).find("llm.kv.ratio is not a setting"), std::string::npos);
}

TEST_F(LocalProviderTest, UnknownAndMistypedSettingsAreRejected) {
  auto unknown = invalid_argument_message(settings({{"temprature", 0.5}}));
  EXPECT_NE(unknown.find("llm.temprature is not a setting of the local provider"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("did you mean llm.temperature"), std::string::npos) << unknown;
  EXPECT_NE(invalid_argument_message(settings({{"temperature", "hot"}})).find("llm.temperature must be a number"),
            std::string::npos);
  EXPECT_NE(invalid_argument_message(settings({{"max_tokens", 0}})).find("llm.max_tokens"), std::string::npos);
  EXPECT_NE(invalid_argument_message(settings({{"device", "tpu"}})).find("llm.device"), std::string::npos);
  EXPECT_NE(invalid_argument_message({{"provider", "local"}}).find("llm.model is required"), std::string::npos);
}

TEST_F(LocalProviderTest, ConstrainToolCallsMustBeABoolean) {
  EXPECT_NE(invalid_argument_message(settings({{"constrain_tool_calls", "yes"}})).find("llm.constrain_tool_calls must be true or false"),
            std::string::npos);
  EXPECT_NO_THROW(make_local_provider(settings({{"constrain_tool_calls", false}}), ""));
}

TEST_F(LocalProviderTest, MissingModelDirectoryNamesThePath) {
  auto message = invalid_argument_message(settings({{"model", "no-such-model"}}), dir_->path().string());
  EXPECT_NE(message.find("llm.model"), std::string::npos) << message;
  EXPECT_NE(message.find((dir_->path() / "no-such-model").string()), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST_F(LocalProviderTest, CudaWithoutCudaFailsWithTheFix) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA is available here";
  try {
    run(settings({{"device", "cuda"}}), question());
    ADD_FAILURE() << "no error";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA is not available"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("device: cpu"), std::string::npos) << e.what();
  }
}

TEST_F(LocalProviderTest, ModelWithoutChatTemplateFailsNamingTokenizerConfig) {
  auto provider = make_local_provider(settings({{"model", (dir_->path() / "plain").string()}}), "");
  try {
    provider->complete(question());
    ADD_FAILURE() << "no error without a chat template";
  } catch (const LlmError& e) {
    const std::string message = e.what();
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(message.find((dir_->path() / "plain" / "tokenizer_config.json").string()), std::string::npos) << message;
    EXPECT_NE(message.find("chat_template"), std::string::npos) << message;
  }
}

TEST_F(LocalProviderTest, StopRequestEndsTheGenerationAfterTheCurrentToken) {
  auto provider = make_local_provider(settings({{"max_tokens", 200}}), "");
  auto request = question();
  std::stop_source source;
  request.cancel = source.get_token();
  int deltas = 0;
  try {
    provider->complete(request, [&](const std::string&) {
      if (++deltas == 2) source.request_stop();  // between tokens, as a deadline would
    });
    FAIL() << "expected the cancellation LlmError";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled: the step's deadline passed or the run was cancelled"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("local:"), std::string::npos) << e.what();
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_EQ(deltas, 2);  // no token after the stop request reached the caller
  // The model is free again for the next call.
  auto after = run(settings({{"max_tokens", 4}}), question());
  EXPECT_EQ(after.usage.completion_tokens, 4);
}

TEST_F(LocalProviderTest, StopRequestFromAnotherThreadEndsALongGenerationPromptly) {
  auto provider = make_local_provider(settings({{"max_tokens", 100000}}), "");
  auto request = question();
  std::stop_source source;
  request.cancel = source.get_token();
  std::atomic<int> tokens = 0;
  std::jthread stopper([&] {
    while (tokens.load() < 3 && !source.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    source.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  try {
    const auto r = provider->complete(request, [&](const std::string&) { ++tokens; });
    error = "finished: " + r.finish_reason + " after " + std::to_string(r.usage.completion_tokens) + " tokens";
  } catch (const LlmError& e) {
    error = e.what();
  }
  source.request_stop();  // releases the stopper if the generation ended on its own
  EXPECT_NE(error.find("cancelled"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(LocalProviderTest, AlreadyRequestedStopGeneratesNothing) {
  auto request = question();
  std::stop_source source;
  source.request_stop();
  request.cancel = source.get_token();
  int deltas = 0;
  EXPECT_THROW(run(settings(), request, [&](const std::string&) { ++deltas; }), LlmError);
  EXPECT_EQ(deltas, 0);
}

// With tools offered, the bundled model's calls are held to the real tools' schemas (constrain_tool_calls, the
// default). The questions are held-out ones on which the bundled model of 2026-11-25 wrote malformed calls unguided
// (a date where the integer `amount` goes, a call cut off); guided, every call parses and validates.
TEST(LocalProviderConstrained, TheBundledModelsCallsFitTheToolSchemas) {
  const tools::ToolRegistry registry = tools::make_builtin_registry();
  json offered = json::array();
  std::map<std::string, tools::JsonSchema> schemas;
  for (const char* name : {"calculator", "calendar"}) {
    offered.push_back(tools::to_openai_tool(registry.find(name)->spec));
    schemas.emplace(name, tools::JsonSchema(offered.back()["function"]["parameters"]));
  }
  const json base = {{"provider", "local"},
                     {"model", (chorus::testing::repo_dir() / "models/chorus-tiny").string()},
                     {"temperature", 0},
                     {"max_tokens", 160}};
  json unguided_settings = base;
  unguided_settings["constrain_tool_calls"] = false;
  auto guided = make_local_provider(base, "");
  auto unguided = make_local_provider(unguided_settings, "");
  int malformed_unguided = 0;
  for (const char* question : {"In which calendar week does 2011-04-13 fall?",
                               "In weeks, how far apart are May 14, 2014 and 18 November 2058?",
                               "What is the number of days separating 2013-05-13 and Nov 23, 2013?",
                               "The 18th of December 2005: what day of the week is that?",
                               "Give me both the sum of 2776 and 165.4 and the square of 15."}) {
    LlmRequest request;
    request.messages = {{"user", question, {}, "", ""}};
    request.tools = offered;
    const LlmResponse r = guided->complete(request);
    ASSERT_FALSE(r.tool_calls.empty()) << question << ": " << r.content;
    for (const auto& call : r.tool_calls) {
      ASSERT_EQ(schemas.count(call.name), 1u) << question << ": " << call.name;
      const json args = json::parse(call.arguments_text, nullptr, false);
      ASSERT_TRUE(args.is_object()) << question << ": " << call.arguments_text;
      EXPECT_TRUE(schemas.at(call.name).is_valid(args))
          << question << ": " << args.dump() << ": " << tools::join_errors(schemas.at(call.name).validate(args));
    }
    for (const auto& call : unguided->complete(request).tool_calls)
      malformed_unguided += call.name.empty() || !json::parse(call.arguments_text, nullptr, false).is_object() ||
                            !schemas.count(call.name) ||
                            !schemas.at(call.name).is_valid(json::parse(call.arguments_text, nullptr, false));
  }
  std::cout << "unguided calls that break their schema on these questions: " << malformed_unguided << "\n";
}

}  // namespace
}  // namespace chorus::agents
