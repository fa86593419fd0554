// structlm sample: text from a trained model (KV-cached decoding).
#include <cstdio>

#include "cli/commands.h"
#include "cli/precision_flag.h"
#include "model/precision.h"
#include "cli/workspace_flags.h"
#include "workspace/run_files.h"
#include "eval/generate.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "zoo/zoo.h"

namespace structlm::cli {

void add_sample(CLI::App& app) {
  auto* cmd = app.add_subcommand("sample", "Generate text from a prompt");
  struct Opts {
    std::string model, tokenizer, prompt, device = "auto", precision = "auto";
    eval::SampleOptions s;
    int n = 1;
  };
  auto o = std::make_shared<Opts>();
  o->s.max_new_tokens = 200;
  o->s.top_k = 40;
  cmd->add_option("model", o->model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (default: the run's)");
  cmd->add_option("--prompt,-p", o->prompt, "Prompt text (empty: start from <|endoftext|>)");
  cmd->add_option("--max-new-tokens,-m", o->s.max_new_tokens, "Tokens to generate")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--temperature,-t", o->s.temperature, "Softmax temperature (0: greedy)")->capture_default_str()->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k,-k", o->s.top_k, "Keep the k most likely tokens (0: off)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->s.top_p, "Nucleus sampling mass (1: off)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", o->s.seed, "Random seed")->capture_default_str();
  cmd->add_option("--num-samples,-n", o->n, "Samples, with seeds seed, seed+1, ...")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--device", o->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  add_precision_option(cmd, o->precision);
  cmd->callback([o] {
    auto files = workspace::resolve_run(o->model, o->tokenizer);
    model::init_threads();
    const auto device = model::resolve_device(o->device);
    auto loaded = zoo::load_any_model(files.checkpoint, device);
    auto& net = loaded.lm();
    // Not announced: stdout is the text; weights never change, so one autocast region serves.
    model::AutocastGuard autocast(model::resolve_precision(o->precision, device).precision, device);
    auto tok = make_workspace().load_tokenizer(files.tokenizer);
    workspace::check_model_fits_tokenizer(net.vocabulary_rows(), tok.vocab_size(), files.checkpoint, files.tokenizer);
    for (int i = 0; i < o->n; ++i) {
      auto opt = o->s;
      opt.seed = o->s.seed + i;
      std::string text = eval::sample_text(net, tok, o->prompt, opt);
      if (o->n > 1) std::printf("--- sample %d (seed %llu)\n", i + 1, (unsigned long long)opt.seed);
      std::printf("%s%s\n", o->prompt.c_str(), text.c_str());
    }
  });
}

}  // namespace structlm::cli
