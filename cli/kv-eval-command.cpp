// chorus kv eval: quality of KV-cache compression methods against the compression ratio (perplexity, passkey).
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/kv-args.h"
#include "cli/kv-command.h"
#include "cli/kv-eval.h"

#include <iostream>

namespace chorus::cli {
namespace {

void install_kv_eval_command(CLI::App& root) {
  auto* kv = kv_app(root);
  static KvEvalOptions args;
  static std::string methods = "knorm,streaming,snapkv,compactor", ratios = "1,2,4,8", lengths = "1024,2048",
                     depths = "0,0.25,0.5,0.75,1", data, out;
  static bool as_json = false;
  auto* cmd = kv->add_subcommand(
      "eval", "Quality (perplexity or passkey accuracy) of KV compression methods against the compression ratio");
  cmd->footer(
      "A ratio R keeps 1/R of the KV entries; R = 1 is the full cache, computed once as the shared baseline. Prints "
      "a table (or --json) and with --out writes results.json, results.md and chart.svg.\n"
      "  perplexity: the first --context-tokens of --data are prefilled with the method at keep 1/R, then the next "
      "--continuation-tokens are scored one by one with the cache capped at the compressed size (Q-Filters "
      "protocol); methods that need queries or pre-RoPE keys (snapkv, compactor, leverage, noncausal_attn) cannot "
      "evict while decoding, so their cache grows (\"capped\": false). Several documents/windows: token-weighted "
      "mean NLL.\n"
      "  passkey: a 5-digit pass key hidden in filler at each depth of each context length (tokens of the model's "
      "tokenizer); the context is compressed, the question is not; greedy decoding of up to --max-new-tokens; "
      "correct when the output contains the key. --seed also seeds the prompts; with --data (JSON lines) --lengths, "
      "--depths and --samples are not used. The baseline lists every prompt's output.\n"
      "  Both: --sinks and --window entries are always kept and count toward the 1/R budget (a ratio leaving no "
      "room beyond them is an error in that cell only); scoring_share = compression seconds / forward seconds "
      "(all forwards of the cell, decoding included).");
  cmd->add_option("--model", args.model, "Model directory")->required();
  cmd->add_option("--task", args.task, "perplexity or passkey")->capture_default_str()
      ->check(CLI::IsMember({"perplexity", "passkey"}));
  cmd->add_option("--methods", methods,
                  "Comma-separated presses: knorm, streaming, snapkv, qfilters, compactor, leverage, noncausal_attn, "
                  "random (qfilters needs --filters or MODEL/q_filters.safetensors)")->capture_default_str();
  cmd->add_option("--ratios", ratios, "Comma-separated compression ratios R >= 1 (keep 1/R)")->capture_default_str();
  cmd->add_option("--data", data,
                  "perplexity: a text file (encoded with MODEL/tokenizer.json) or a JSON list of token ids (or a list "
                  "of such lists, one per document); passkey: optional JSON lines {\"context\", \"question\", "
                  "\"answer\"} used instead of generated prompts");
  cmd->add_option("--out", out, "Directory for results.json, results.md and chart.svg");
  cmd->add_flag("--json", as_json, "Print the results JSON on stdout instead of the table");
  cmd->add_option("--window", args.window, "Most recent entries always kept (prefill and decode)")->capture_default_str();
  cmd->add_option("--sinks", args.sinks, "First entries always kept (attention sinks)")->capture_default_str();
  cmd->add_option("--selection", args.selection,
                  "per_head (each KV head keeps its own top entries) or shared (same positions for all heads)")
      ->capture_default_str();
  cmd->add_option("--context-tokens", args.context_tokens, "perplexity: tokens of each window's context (compressed)")
      ->capture_default_str();
  cmd->add_option("--continuation-tokens", args.continuation_tokens,
                  "perplexity: tokens scored after the context in each window")->capture_default_str();
  cmd->add_option("--max-windows", args.max_windows,
                  "perplexity: most (context + continuation) windows taken from the data (0 = all)")->capture_default_str();
  cmd->add_option("--lengths", lengths, "passkey: comma-separated context lengths in tokens")->capture_default_str();
  cmd->add_option("--depths", depths, "passkey: comma-separated needle depths in [0, 1]")->capture_default_str();
  cmd->add_option("--samples", args.samples, "passkey: prompts per length x depth cell")->capture_default_str();
  cmd->add_option("--max-new-tokens", args.max_new_tokens, "passkey: most tokens generated for the answer")
      ->capture_default_str();
  cmd->add_flag("--chat", args.chat,
                "passkey: ask in the model's chat template (one user turn, then the assistant's turn), for chat models "
                "such as models/chorus-tiny");
  add_press_options(cmd, args.press);
  add_device_option(cmd, args.device);
  cmd->callback([] {
    run_reporting_errors("kv eval", [] {
      args.methods = parse_names(methods, "--methods");
      args.ratios = parse_numbers(ratios, "--ratios");
      args.data = data;
      if (args.task == "passkey") {
        args.lengths.clear();
        for (double l : parse_numbers(lengths, "--lengths")) {
          if (l < 1 || l != static_cast<double>(static_cast<int64_t>(l)))
            throw std::invalid_argument("--lengths: " + std::to_string(l) + " is not a whole token count >= 1");
          args.lengths.push_back(static_cast<int64_t>(l));
        }
        args.depths = parse_numbers(depths, "--depths");
      }
      auto results = run_kv_eval(args);
      if (!out.empty()) write_kv_eval_outputs(results, out);
      if (as_json)
        std::cout << results.dump(2) << "\n";
      else
        std::cout << kv_eval_table(results);
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(kv_eval, 41, install_kv_eval_command);

}  // namespace chorus::cli
