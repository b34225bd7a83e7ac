#include "training/train-loop.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

namespace chorus::training {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_options(const TrainOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.steps <= 0) fail("steps must be positive");
  if (o.batch <= 0) fail("batch must be positive");
  if (o.seq_len < 2) fail("seq-len must be at least 2");
  if (!(o.lr > 0)) fail("lr must be positive");
  if (o.warmup < 0) fail("warmup must not be negative");
  if (o.min_lr_ratio < 0 || o.min_lr_ratio > 1) fail("min_lr_ratio must be in [0, 1]");
  if (o.weight_decay < 0) fail("weight_decay must not be negative");
  if (o.max_minutes < 0) fail("minutes must not be negative");
  if (o.checkpoint_every > 0 && o.checkpoint_dir.empty()) fail("checkpoint_every needs a checkpoint_dir");
}

// The examples of each step: epoch-wise seeded shuffles, consecutive groups of `batch`.
class BatchSchedule {
 public:
  BatchSchedule(size_t examples, int64_t batch, uint64_t seed) : n_(examples), batch_(static_cast<size_t>(batch)), seed_(seed) {
    per_epoch_ = std::max<size_t>(1, n_ / batch_);
  }
  std::vector<size_t> indices(int64_t step) {  // 1-based step
    const size_t g = static_cast<size_t>(step - 1);
    const size_t epoch = g / per_epoch_, i = g % per_epoch_;
    if (!cached_ || epoch_ != epoch) {
      perm_.resize(n_);
      std::iota(perm_.begin(), perm_.end(), size_t{0});
      std::seed_seq seq{static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32),
                        static_cast<uint32_t>(epoch), static_cast<uint32_t>(epoch >> 32), 0x5eedu};
      std::mt19937_64 rng(seq);
      for (size_t k = n_; k > 1; --k) {  // Fisher-Yates with our own draw (std::shuffle varies by library)
        const size_t j = static_cast<size_t>(rng() % k);
        std::swap(perm_[k - 1], perm_[j]);
      }
      epoch_ = epoch;
      cached_ = true;
    }
    const size_t begin = i * batch_, end = std::min(n_, begin + batch_);
    return {perm_.begin() + static_cast<std::ptrdiff_t>(begin), perm_.begin() + static_cast<std::ptrdiff_t>(end)};
  }

 private:
  size_t n_, batch_, per_epoch_;
  uint64_t seed_;
  std::vector<size_t> perm_;
  size_t epoch_ = 0;
  bool cached_ = false;
};

bool decays(const std::string& name, const torch::Tensor& t) {
  return t.dim() == 2 && name != "model.embed_tokens.weight";
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  std::filesystem::rename(tmp, path);
}

void save_checkpoint(const LlamaTrainer& model, torch::optim::AdamW& optimizer, const TrainOptions& options,
                     int64_t step, double loss) {
  const auto& dir = options.checkpoint_dir;
  model.save_hf(dir, torch::kFloat32, {{"step", std::to_string(step)}});
  auto opt_tmp = dir / "optimizer.pt.tmp";
  torch::save(optimizer, opt_tmp.string());
  std::filesystem::rename(opt_tmp, dir / "optimizer.pt");
  json state = {{"step", step},          {"seed", options.seed},   {"loss", loss},
                {"steps", options.steps}, {"batch", options.batch}, {"seq_len", options.seq_len},
                {"lr", options.lr},       {"warmup", options.warmup}, {"pack", options.pack}};
  write_text_atomically(dir / "trainer_state.json", state.dump(2) + "\n");
}

}  // namespace

std::vector<TrainExample> read_examples_jsonl(const std::filesystem::path& path, int64_t vocab_size) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error(path.string() + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw std::runtime_error(path.string() + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::vector<TrainExample> out;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      throw std::runtime_error(where + ": not valid JSON; expected {\"ids\": [...], \"mask\": [...]}");
    }
    if (!j.is_object() || !j.contains("ids") || !j["ids"].is_array())
      throw std::runtime_error(where + ": expected an object with an \"ids\" array");
    TrainExample e;
    for (const auto& id : j["ids"]) {
      if (!id.is_number_integer()) throw std::runtime_error(where + ": ids: " + id.dump() + " is not an integer");
      const auto v = id.get<int64_t>();
      if (v < 0 || (vocab_size > 0 && v >= vocab_size))
        throw std::runtime_error(where + ": ids: " + std::to_string(v) + " is outside the vocabulary [0, " +
                                 std::to_string(vocab_size) + ") of the model; its vocab_size must exceed every id "
                                 "in the data (the size of the tokenizer that made it)");
      e.ids.push_back(v);
    }
    if (e.ids.empty()) throw std::runtime_error(where + ": ids is empty");
    if (j.contains("mask")) {
      if (!j["mask"].is_array()) throw std::runtime_error(where + ": mask must be an array of 0/1");
      for (const auto& m : j["mask"]) {
        if (!m.is_number_integer() && !m.is_boolean())
          throw std::runtime_error(where + ": mask: " + m.dump() + " is not 0 or 1");
        const int64_t v = m.is_boolean() ? static_cast<int64_t>(m.get<bool>()) : m.get<int64_t>();
        if (v != 0 && v != 1) throw std::runtime_error(where + ": mask: " + m.dump() + " is not 0 or 1");
        e.mask.push_back(static_cast<uint8_t>(v));
      }
      if (e.mask.size() != e.ids.size())
        throw std::runtime_error(where + ": mask has " + std::to_string(e.mask.size()) + " entries, ids has " +
                                 std::to_string(e.ids.size()));
    } else {
      e.mask.assign(e.ids.size(), 1);
    }
    if (j.contains("task")) {
      if (!j["task"].is_string()) throw std::runtime_error(where + ": task must be a string (the curriculum task's name)");
      e.task = j["task"].get<std::string>();
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) throw std::runtime_error(path.string() + ": no examples (expected JSONL lines {\"ids\": [...], \"mask\": [...]})");
  return out;
}

double learning_rate(const TrainOptions& o, int64_t step) {
  if (o.warmup > 0 && step <= o.warmup) return o.lr * static_cast<double>(step) / static_cast<double>(o.warmup);
  const double min_lr = o.lr * o.min_lr_ratio;
  const int64_t decay_steps = o.steps - o.warmup;
  if (decay_steps <= 0) return o.lr;
  const double progress = std::clamp(static_cast<double>(step - o.warmup) / static_cast<double>(decay_steps), 0.0, 1.0);
  return min_lr + (o.lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

EvalInfo evaluate(const LlamaTrainer& model, const std::vector<TrainExample>& examples, const TrainOptions& options) {
  torch::NoGradGuard no_grad;
  EvalInfo info;
  size_t n = examples.size();
  if (options.eval_max_examples > 0) n = std::min(n, static_cast<size_t>(options.eval_max_examples));
  double total = 0;
  for (size_t begin = 0; begin < n; begin += static_cast<size_t>(options.batch)) {
    std::vector<const TrainExample*> group;
    for (size_t i = begin; i < std::min(n, begin + static_cast<size_t>(options.batch)); ++i) group.push_back(&examples[i]);
    auto batch = make_batch(group, options.seq_len, options.pack, model.device());
    if (batch.targets == 0) continue;
    total += model.loss(batch).item<double>() * static_cast<double>(batch.targets);
    info.targets += batch.targets;
  }
  info.loss = info.targets ? total / static_cast<double>(info.targets) : 0.0;
  return info;
}

TrainResult train(LlamaTrainer& model, const std::vector<TrainExample>& train_examples,
                  const std::vector<TrainExample>& eval_examples, const TrainOptions& options) {
  check_options(options);
  if (train_examples.empty()) throw std::invalid_argument("no training examples");
  if (options.threads > 0) torch::set_num_threads(options.threads);

  std::vector<torch::Tensor> with_decay, without_decay;
  for (const auto& [name, t] : model.named_parameters()) (decays(name, t) ? with_decay : without_decay).push_back(t);
  auto group_options = [&](double decay) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(options.lr);
    o->betas(std::make_tuple(options.beta1, options.beta2)).eps(options.eps).weight_decay(decay);
    return o;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(with_decay, group_options(options.weight_decay));
  groups.emplace_back(without_decay, group_options(0.0));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(options.lr)
                                            .betas(std::make_tuple(options.beta1, options.beta2))
                                            .eps(options.eps)
                                            .weight_decay(0.0));

  TrainResult result;
  if (!options.resume_from.empty()) {
    const auto state_path = options.resume_from / "trainer_state.json";
    const auto opt_path = options.resume_from / "optimizer.pt";
    if (!std::filesystem::exists(state_path)) throw std::runtime_error(state_path.string() + ": missing");
    if (!std::filesystem::exists(opt_path)) throw std::runtime_error(opt_path.string() + ": missing");
    std::ifstream in(state_path);
    json state;
    try {
      state = json::parse(in);
      result.first_step = state.at("step").get<int64_t>() + 1;
    } catch (const json::exception& e) {
      throw std::runtime_error(state_path.string() + ": " + e.what());
    }
    try {
      torch::load(optimizer, opt_path.string(), model.device());
    } catch (const c10::Error& e) {
      throw std::runtime_error(opt_path.string() + ": cannot restore the optimizer (" + e.what_without_backtrace() + ")");
    }
  }

  BatchSchedule schedule(train_examples.size(), options.batch, options.seed);
  const auto params = model.parameters();
  const auto start = Clock::now();
  result.stop_reason = "steps";
  auto run_eval = [&](int64_t step) {
    if (eval_examples.empty()) return;
    auto info = evaluate(model, eval_examples, options);
    info.step = step;
    result.last_eval_loss = info.loss;
    if (options.on_eval) options.on_eval(info);
  };
  auto checkpoint = [&](int64_t step) {
    save_checkpoint(model, optimizer, options, step, result.last_loss);
    if (options.on_checkpoint) options.on_checkpoint(step, options.checkpoint_dir);
  };
  int64_t last_eval = -1, last_checkpoint = -1;
  for (int64_t step = result.first_step; step <= options.steps; ++step) {
    if (options.stop_after > 0 && step > options.stop_after) {
      result.stop_reason = "stop_after";
      break;
    }
    if (options.max_minutes > 0 && seconds_since(start) > options.max_minutes * 60) {
      result.stop_reason = "time";
      break;
    }
    const auto step_start = Clock::now();
    std::vector<const TrainExample*> group;
    for (auto i : schedule.indices(step)) group.push_back(&train_examples[i]);
    auto batch = make_batch(group, options.seq_len, options.pack, model.device(),
                            static_cast<float>(options.context_loss_weight));
    const double lr = learning_rate(options, step);
    for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);

    optimizer.zero_grad();
    auto loss = model.loss(batch);
    loss.backward();
    double grad_norm = 0;
    if (options.grad_clip > 0) {
      grad_norm = static_cast<double>(torch::nn::utils::clip_grad_norm_(params, options.grad_clip));
    } else {
      torch::NoGradGuard g;
      double sq = 0;
      for (const auto& p : params)
        if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
      grad_norm = std::sqrt(sq);
    }
    optimizer.step();

    StepInfo info;
    info.step = step;
    info.loss = loss.item<double>();
    info.lr = lr;
    info.grad_norm = grad_norm;
    info.tokens = batch.tokens;
    info.targets = batch.targets;
    const double took = seconds_since(step_start);
    info.tokens_per_second = took > 0 ? static_cast<double>(batch.tokens) / took : 0.0;
    info.elapsed_seconds = seconds_since(start);
    result.last_step = step;
    result.last_loss = info.loss;
    result.tokens += batch.tokens;
    if (options.on_step) options.on_step(info);
    if (options.eval_every > 0 && step % options.eval_every == 0) {
      run_eval(step);
      last_eval = step;
    }
    if (options.checkpoint_every > 0 && step % options.checkpoint_every == 0) {
      checkpoint(step);
      last_checkpoint = step;
    }
  }
  if (result.last_step > 0) {
    if (options.eval_every > 0 && last_eval != result.last_step) run_eval(result.last_step);
    if (options.checkpoint_every > 0 && last_checkpoint != result.last_step) checkpoint(result.last_step);
  }
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace chorus::training
