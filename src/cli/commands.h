// Each `structlm <command>` registers itself on the app; main() only dispatches and turns errors
// into one clear line and a non-zero exit.
#pragma once
#include <CLI/CLI.hpp>

namespace structlm::cli {

void add_prepare(CLI::App& app);
void add_tokenizer(CLI::App& app);
void add_shards(CLI::App& app);
void add_train(CLI::App& app);
void add_eval(CLI::App& app);
void add_sample(CLI::App& app);
void add_info(CLI::App& app);
void add_demo(CLI::App& app);
void add_report(CLI::App& app);
void add_experiment(CLI::App& app);
void add_parse(CLI::App& app);
void add_import(CLI::App& app);
void add_export(CLI::App& app);
void add_align(CLI::App& app);
void add_launch(CLI::App& app);

}  // namespace structlm::cli
