// structlm eval: perplexity and bits per byte of a model on held-out corpora.
#include <cstdio>

#include "cli/commands.h"
#include "cli/corpus_eval.h"
#include "cli/run_files.h"
#include "core/json.h"
#include "model/checkpoint.h"
#include "model/runtime.h"

namespace structlm::cli {

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Perplexity and bits per byte on held-out corpora (with xz -9 for reference)");
  struct Opts {
    std::string model, tokenizer, out, device = "auto";
    CorpusEvalOptions eval;
  };
  auto o = std::make_shared<Opts>();
  o->eval.corpora = {"brown"};
  cmd->add_option("model", o->model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (default: the run's)");
  cmd->add_option("--corpus", o->eval.corpora, "Corpora to evaluate on")->capture_default_str();
  cmd->add_option("--split", o->eval.split, "train, val or test")->capture_default_str();
  cmd->add_option("--data-dir", o->eval.data_dir, "Where prepared data lives")->capture_default_str();
  cmd->add_option("--max-tokens", o->eval.max_tokens, "Cap tokens scored per corpus (0: all)")->capture_default_str();
  cmd->add_flag("!--no-xz", o->eval.xz, "Skip the xz -9 reference");
  cmd->add_option("--json", o->out, "Also write the results as JSON here");
  cmd->add_option("--device", o->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  cmd->callback([o] {
    auto files = resolve_run(o->model, o->tokenizer);
    model::init_threads();
    auto net = model::load_model(files.checkpoint, model::resolve_device(o->device));
    o->eval.tokenizer = files.tokenizer;
    json result = evaluate_corpora(net, o->eval);
    result["checkpoint"] = files.checkpoint;
    if (!o->out.empty()) save_json(o->out, result);
  });
}

}  // namespace structlm::cli
