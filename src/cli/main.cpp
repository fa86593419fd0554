// structlm: one binary, one subcommand per job. Errors from bad input (files, configs, options)
// become one line "structlm: error: ..." and exit code 1; a crash is a bug.
#include <c10/util/Exception.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/platform.h"

int main(int argc, char** argv) {
  structlm::ensure_fast_blas(argc, argv);

  CLI::App app{"structlm: train, evaluate and restructure GPT language models (CSTDE, HCMA)", "structlm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "structlm 0.1.0");
  structlm::cli::add_root_option(app);
  structlm::cli::add_prepare(app);
  structlm::cli::add_tokenizer(app);
  structlm::cli::add_shards(app);
  structlm::cli::add_train(app);
  structlm::cli::add_eval(app);
  structlm::cli::add_sample(app);
  structlm::cli::add_info(app);
  structlm::cli::add_demo(app);
  structlm::cli::add_report(app);
  structlm::cli::add_experiment(app);
  structlm::cli::add_parse(app);
  structlm::cli::add_import(app);
  structlm::cli::add_export(app);
  structlm::cli::add_align(app);
  structlm::cli::add_launch(app);

  try {
    app.parse(argc, argv);  // subcommand callbacks run here
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const structlm::Error& e) {
    std::fprintf(stderr, "structlm: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "structlm: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "structlm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
