#include "training/target-loss.h"

#include <cstdio>
#include <map>
#include <stdexcept>

namespace chorus::training {
namespace {

struct Sums {
  explicit Sums(size_t buckets) : position_total(buckets, 0.0), position_count(buckets, 0) {}
  int64_t examples = 0, targets = 0;
  double total = 0;
  std::vector<double> position_total;
  std::vector<int64_t> position_count;
};

TargetLossRow finish(const std::string& task, const Sums& s) {
  TargetLossRow row;
  row.task = task;
  row.examples = s.examples;
  row.targets = s.targets;
  row.loss = s.targets ? s.total / static_cast<double>(s.targets) : 0.0;
  row.position_count = s.position_count;
  for (size_t k = 0; k < s.position_total.size(); ++k)
    row.position_loss.push_back(s.position_count[k] ? s.position_total[k] / static_cast<double>(s.position_count[k]) : 0.0);
  return row;
}

}  // namespace

TargetLossReport score_targets(const LlamaTrainer& model, const std::vector<TrainExample>& examples, int64_t positions,
                               int64_t seq_len) {
  if (positions < 1) throw std::invalid_argument("positions must be at least 1");
  if (seq_len < 2) throw std::invalid_argument("seq_len must be at least 2");
  torch::NoGradGuard no_grad;
  const auto buckets = static_cast<size_t>(positions);
  Sums all(buckets);
  std::map<std::string, Sums> by_task;
  std::vector<std::string> order;
  for (const auto& e : examples) {
    const auto n = std::min<int64_t>(static_cast<int64_t>(e.ids.size()), seq_len);
    auto [slot, added] = by_task.try_emplace(e.task, buckets);
    if (added) order.push_back(e.task);
    Sums& task = slot->second;
    ++all.examples;
    ++task.examples;
    if (n < 2) continue;
    auto ids = torch::tensor(std::vector<int64_t>(e.ids.begin(), e.ids.begin() + n), torch::kInt64).to(model.device());
    auto logp = torch::log_softmax(model.forward(ids.unsqueeze(0))[0].to(torch::kFloat64), -1).cpu();
    auto next = ids.cpu();
    auto logp_a = logp.accessor<double, 2>();
    auto next_a = next.accessor<int64_t, 1>();
    size_t run = e.mask[0] ? 1 : 0;  // a target at t = 0 has no prediction but still starts its run
    for (int64_t t = 1; t < n; ++t) {
      if (!e.mask[static_cast<size_t>(t)]) {
        run = 0;
        continue;
      }
      const double nll = -logp_a[t - 1][next_a[t]];
      const size_t k = std::min(run, buckets - 1);
      for (Sums* s : {&all, &task}) {
        s->total += nll;
        ++s->targets;
        s->position_total[k] += nll;
        ++s->position_count[k];
      }
      ++run;
    }
  }
  TargetLossReport report;
  report.rows.push_back(finish("all", all));
  for (const auto& task : order) report.rows.push_back(finish(task, by_task.at(task)));
  return report;
}

nlohmann::json TargetLossReport::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows)
    out.push_back({{"task", r.task}, {"examples", r.examples}, {"targets", r.targets}, {"loss", r.loss},
                   {"position_loss", r.position_loss}, {"position_count", r.position_count}});
  return out;
}

std::string TargetLossReport::table() const {
  std::string out;
  char cell[64];
  auto add = [&](const char* format, auto value) {
    std::snprintf(cell, sizeof cell, format, value);
    out += cell;
  };
  const size_t buckets = rows.empty() ? 0 : rows.front().position_loss.size();
  add("%-24s", "task");
  add("%9s", "examples");
  add("%9s", "targets");
  add("%8s", "loss");
  for (size_t k = 0; k < buckets; ++k) add("%8s", (std::to_string(k + 1) + (k + 1 == buckets ? "+" : "")).c_str());
  out += "\n";
  for (const auto& r : rows) {
    add("%-24s", r.task.empty() ? "(no task)" : r.task.c_str());
    add("%9lld", static_cast<long long>(r.examples));
    add("%9lld", static_cast<long long>(r.targets));
    add("%8.3f", r.loss);
    for (size_t k = 0; k < r.position_loss.size(); ++k) {
      if (r.position_count[k]) add("%8.3f", r.position_loss[k]);
      else add("%8s", "-");
    }
    out += "\n";
  }
  return out;
}

}  // namespace chorus::training
