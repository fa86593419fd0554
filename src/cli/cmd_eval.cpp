// structlm eval: perplexity and bits per byte of a model on held-out corpora, or the HCMA suite.
#include <cstdio>

#include "cli/commands.h"
#include "cli/precision_flag.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "experiment/corpus_eval.h"
#include "experiment/hcma_metrics.h"
#include "experiment/hcma_suite.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "workspace/run_files.h"
#include "zoo/zoo.h"

namespace structlm::cli {

namespace {

struct EvalOpts {
  std::string model, tokenizer, out, device = "auto", precision = "auto", suite = "ppl", data_dir;
  experiment::CorpusEvalOptions eval;
  experiment::HcmaSuiteOptions hcma;
};

json run_suite(EvalOpts& o, model::CausalLM& net, const workspace::Workspace& ws, const workspace::RunFiles& files) {
  auto& h = o.hcma;
  h.corpus = o.eval.corpora.front();
  h.split = o.eval.split;
  h.tokenizer = files.tokenizer;
  if (o.eval.max_tokens > 0) h.recall_tokens = o.eval.max_tokens;
  if (h.frequency_shards.empty() && file_exists(o.model + "/config.json")) {
    json cfg = load_json(o.model + "/config.json");
    if (cfg.contains("data") && cfg["data"].contains("train_shards"))
      h.frequency_shards = cfg["data"]["train_shards"].get<std::vector<std::string>>();
  }
  const auto suite = experiment::run_hcma_suite(net, ws, h);
  json result = suite.to_json();
  result["checkpoint"] = files.checkpoint;
  result["summary"] = experiment::hcma_summary(suite);
  std::printf("%-22s %s\n", "metric", "value");
  for (auto it = result["summary"].begin(); it != result["summary"].end(); ++it)
    std::printf("%-22s %s\n", it.key().c_str(), it.value().dump().c_str());
  return result;
}

}  // namespace

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Perplexity and bits per byte on held-out corpora (with xz -9 for reference)");
  auto o = std::make_shared<EvalOpts>();
  o->eval.corpora = {"brown"};
  cmd->add_option("model", o->model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (default: the run's)");
  cmd->add_option("--corpus", o->eval.corpora, "Corpora to evaluate on")->capture_default_str();
  cmd->add_option("--split", o->eval.split, "train, val or test")->capture_default_str();
  add_data_dir_option(cmd, o->data_dir);
  cmd->add_option("--max-tokens", o->eval.max_tokens, "Cap tokens scored per corpus (0: all)")->capture_default_str();
  cmd->add_option("--context", o->eval.context,
                  "Scoring window in tokens (0: the model's context; a Llama-family model's is max_position_embeddings)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("!--no-xz", o->eval.xz, "Skip the xz -9 reference");
  cmd->add_option("--json", o->out, "Also write the results as JSON here");
  cmd->add_option("--device", o->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  add_precision_option(cmd, o->precision);
  cmd->add_option("--suite", o->suite,
                  "ppl: perplexity and bits/byte per corpus; hcma: every measurement of docs/METHODS.md §2d "
                  "(rare-token recall, attacks, long range, stability, isotropy, WordNet, speed) on the first --corpus")
      ->check(CLI::IsMember({"ppl", "hcma"}))
      ->capture_default_str();
  cmd->add_option("--frequency-shards", o->hcma.frequency_shards,
                  "hcma: token shards whose counts define the frequency buckets (default: a run's training shards, "
                  "else the corpus's train split)");
  cmd->add_option("--frequency-tokens", o->hcma.frequency_tokens,
                  "hcma: count frequencies on the first N tokens of those shards only (0: all)")
      ->capture_default_str();
  cmd->add_option("--long-corpus", o->hcma.long_corpus, "hcma: long documents for loss by position")->capture_default_str();
  cmd->add_option("--seed", o->hcma.seed, "hcma: seed of the attacks and probes")->capture_default_str();
  cmd->callback([o] {
    const auto ws = make_workspace(o->data_dir);
    auto files = workspace::resolve_run(o->model, o->tokenizer);
    model::init_threads();
    const auto device = model::resolve_device(o->device);
    auto loaded = zoo::load_any_model(files.checkpoint, device);
    json result;
    if (o->suite == "hcma") {
      // The suite runs the model under autocast and the table's geometry outside it; a GPT or a
      // Llama-family model alike (model/causal_lm.h's embedding view).
      o->hcma.precision = o->precision;
      result = run_suite(*o, loaded.lm(), ws, files);
    } else {
      const auto precision = announce_precision(o->precision, device);
      // One autocast region for the whole command: evaluation never changes a weight, so
      // autocast's bf16 copies of them stay valid throughout.
      model::AutocastGuard autocast(precision.precision, device);
      o->eval.tokenizer = files.tokenizer;
      result = experiment::corpus_scores_json(experiment::evaluate_corpora(loaded.lm(), ws, o->eval));
      result["checkpoint"] = files.checkpoint;
      result["precision"] = precision.name();
    }
    if (!o->out.empty()) save_json(o->out, result);
  });
}

}  // namespace structlm::cli
