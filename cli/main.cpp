// chorus: the one command-line program. Subcommands are registered by cli/*-command.cpp files.
#include "cli/command-registry.h"
#include "inference/torch-info.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "0.0.0"
#endif

namespace {

std::string version_text() {
  auto torch = chorus::inference::torch_info();
  return std::string("chorus ") + CHORUS_VERSION + " (libtorch " + torch.version +
         ", CUDA " + (torch.cuda_available ? std::to_string(torch.cuda_device_count) + " device(s)" : "not available") +
         ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chorus: multi-agent orchestration with tool calling and a local KV-compressed LLM engine.",
               "chorus"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", version_text, "Print the version and exit");

  std::string log_level = "warn";
  if (const char* env = std::getenv("CHORUS_LOG_LEVEL")) log_level = env;
  const std::map<std::string, spdlog::level::level_enum> levels = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  app.add_option("--log-level", log_level, "Log verbosity on stderr (also CHORUS_LOG_LEVEL)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.parse_complete_callback([&] {
    auto logger = spdlog::stderr_color_mt("chorus");
    spdlog::set_default_logger(logger);
    auto it = levels.find(log_level);
    spdlog::set_level(it == levels.end() ? spdlog::level::warn : it->second);
  });

  chorus::cli::install_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "chorus: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
