// chorus train plot: the loss curve of a training log (train_log.jsonl) as an SVG chart.
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/svg-chart.h"
#include "cli/train-command.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace chorus::cli {
namespace {

void install_train_plot(CLI::App& root) {
  static std::string log_file, out, title = "Training loss";
  static int smooth = 20;
  auto* cmd = train_app(root)->add_subcommand(
      "plot", "Draw the loss curve of a training log (DIR/train_log.jsonl of `chorus train model`) as SVG: the "
              "training loss (moving average) and the held-out loss; a log whose steps restart (stages appended one after another, "
              "as scripts/train-chorus-tiny writes) is drawn stage after stage");
  cmd->add_option("--log", log_file, "Training log JSONL")->required();
  cmd->add_option("--out", out, "Output .svg file")->required();
  cmd->add_option("--smooth", smooth, "Moving-average window over steps for the training loss (1: raw)")
      ->capture_default_str();
  cmd->add_option("--title", title, "Chart title")->capture_default_str();
  cmd->callback([] {
    run_reporting_errors("train plot", [] {
      std::ifstream in(log_file);
      if (!in) throw std::runtime_error("--log " + log_file + ": cannot read");
      if (smooth < 1) throw std::invalid_argument("--smooth must be >= 1");
      // A staged curriculum's log (scripts/train-chorus-tiny concatenates the stages' logs) restarts its steps
      // at each stage: later stages are drawn after the earlier ones, and the average restarts at each stage.
      struct Point {
        double step, loss;
        int stage;
      };
      std::vector<Point> train;
      std::vector<std::pair<double, double>> eval;
      double offset = 0, last = 0;
      int stage = 0;
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object() || !j.contains("step") || !j["step"].is_number())
          throw std::runtime_error(log_file + ":" + std::to_string(number) +
                                   ": not a training log line ({\"step\", \"loss\"} or {\"step\", \"eval_loss\"})");
        const double raw = j["step"].get<double>();
        if (raw < last) {
          offset += last;
          ++stage;
        }
        last = raw;
        if (j.contains("eval_loss")) eval.emplace_back(offset + raw, j["eval_loss"].get<double>());
        else if (j.contains("loss")) train.push_back({offset + raw, j["loss"].get<double>(), stage});
      }
      if (train.empty() && eval.empty()) throw std::runtime_error(log_file + ": no loss lines");
      ChartSeries smoothed{"training loss (mean of " + std::to_string(smooth) + " steps)", {}};
      double sum = 0;
      size_t first = 0;  // the first point of the current stage
      for (size_t i = 0; i < train.size(); ++i) {
        if (i > 0 && train[i].stage != train[i - 1].stage) {
          first = i;
          sum = 0;
        }
        sum += train[i].loss;
        if (i - first >= static_cast<size_t>(smooth)) sum -= train[i - smooth].loss;
        const size_t n = std::min(i - first + 1, static_cast<size_t>(smooth));
        const bool stage_ends = i + 1 == train.size() || train[i + 1].stage != train[i].stage;
        if ((i - first) % std::max(1, smooth / 4) == 0 || stage_ends)
          smoothed.points.emplace_back(train[i].step, sum / static_cast<double>(n));
      }
      LineChart chart;
      chart.title = title;
      chart.x_label = stage > 0 ? "step (the " + std::to_string(stage + 1) + " stages one after another)" : "step";
      chart.y_label = "cross-entropy on target tokens";
      chart.log2_x = false;
      chart.series = {smoothed, ChartSeries{"held-out loss", eval}};
      std::ofstream svg(out);
      if (!svg) throw std::runtime_error("--out " + out + ": cannot write");
      svg << render_svg(chart);
      std::cout << out << "\n";
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(train_plot, 63, install_train_plot);

}  // namespace chorus::cli
