#include "experiment/demo.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "eval/generate.h"
#include "experiment/corpus_eval.h"
#include "experiment/experiment_config.h"
#include "experiment/run_report.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/report.h"
#include "report/run_info.h"
#include "torch/version.h"  // TORCH_VERSION for run_info.json
#include "train/trainer.h"
#include "zoo/zoo.h"

namespace structlm::experiment {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Times a few optimizer steps of this model shape on this machine (after one warm-up step), so
// the demo can choose a step count that fits its time budget and still runs a full cosine schedule.
double measure_tokens_per_s(const model::GPTConfig& mc, const train::TrainConfig& tc) {
  torch::manual_seed(0);
  model::GPT net = zoo::make_gpt(mc);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(tc.lr));
  auto x = torch::randint(mc.vocab_size, {tc.batch_size, mc.block_size}, torch::kLong);
  auto step = [&] {
    opt.zero_grad();
    net->loss(x, x).backward();
    opt.step();
  };
  step();
  const int n = 3;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) step();
  return n * tc.batch_size * tc.grad_accum * mc.block_size / seconds_since(t0);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}


struct DemoConfig {
  json file;
  DemoSection demo;
  double minutes = 6;
};

DemoConfig read_demo_config(const std::string& path, double minutes) {
  auto f = load_demo_config(path);
  DemoConfig c{f.file, f.section, minutes > 0 ? minutes : f.section.train_minutes};
  return c;
}

// The run config, resumed from OUT/config.json, or new with a step count that fits the budget.
train::RunConfig demo_run_config(const DemoConfig& c, const std::string& config_path, const std::string& out,
                                 const json& data, std::size_t vocab, bool resume) {
  if (resume) return train::RunConfig::load(out + "/config.json");
  json run = {{"model", c.file.at("model")}, {"train", c.file.at("train")}, {"data", data}};
  run["model"]["vocab_size"] = vocab;
  auto cfg = train::RunConfig::from_json(run, config_path);
  check(!cfg.model.is_llama(), config_path,
        "model field 'arch' is \"llama\": the demo trains a GPT (train a Llama with structlm train, e.g. configs/llama-tiny.json)");
  model::init_threads(cfg.train.threads);
  double tps = measure_tokens_per_s(cfg.model, cfg.train);
  std::int64_t tokens_per_step = cfg.train.batch_size * cfg.train.grad_accum * cfg.model.block_size;
  // Evaluations and checkpoints cost time too: budget 90% of the time for steps.
  std::int64_t steps = std::int64_t(0.9 * c.minutes * 60 * tps / double(tokens_per_step));
  cfg.train.max_steps = std::max<std::int64_t>(std::min(cfg.train.max_steps, steps), cfg.train.warmup_steps + 1);
  cfg.train.max_minutes = c.minutes * 1.2;  // a safety net only; the step count is the plan
  std::fprintf(stderr, "demo: measured %.0f tokens/s -> %lld steps (%.1f M tokens) in %.1f minutes\n", tps,
               (long long)cfg.train.max_steps, double(cfg.train.max_steps * tokens_per_step) / 1e6, c.minutes);
  return cfg;
}

// One sample per prompt under the config's fixed decoder, as Markdown.
std::string demo_samples(model::GPT& net, const text::Tokenizer& tok, const DemoConfig& c, eval::SampleOptions& sopt) {
  c.demo.sample.decoder.apply(sopt);
  sopt.seed = c.demo.sample.seed;
  std::ostringstream samples;
  for (const auto& p : c.demo.prompts) samples << "### " << p << "\n\n" << p << eval::sample_text(net, tok, p, sopt) << "\n\n";
  return samples.str();
}

std::string demo_summary(const DemoConfig& c, const train::RunConfig& cfg, model::GPT& net, const train::TrainResult& tr,
                         const std::vector<CorpusScore>& ev, const json& stages, const eval::SampleOptions& sopt, const std::string& samples) {
  std::ostringstream md;
  md << "# structlm demo run\n\n"
     << "Model: " << net->num_params() << " parameters (" << cfg.model.n_layer << " layers, " << cfg.model.n_embd
     << " wide, " << cfg.model.n_head << " heads, context " << cfg.model.block_size << ", vocabulary "
     << cfg.model.vocab_size << "), trained on " << json(c.demo.train_corpora).dump() << " for " << tr.steps
     << " steps at " << fmt("%.0f", tr.tokens_per_s) << " tokens/s.\n\n"
     << "Final train loss " << fmt("%.4f", tr.final_train_loss) << ", validation loss "
     << fmt("%.4f", tr.final_val_loss) << ".\n\n"
     << "## Test split (1 seed)\n\n| corpus | tokens | loss | perplexity | bits/byte | xz -9 bits/byte |\n|---|---|---|---|---|---|\n";
  for (const auto& r : ev)
    md << "| " << r.corpus << " | " << r.tokens << " | " << fmt("%.4f", r.loss) << " | " << fmt("%.2f", r.perplexity)
       << " | " << fmt("%.4f", r.bits_per_byte) << " | " << fmt("%.4f", r.xz_bits_per_byte.value_or(NAN)) << " |\n";
  for (const auto& r : ev)
    if (r.corpus == c.demo.train_corpora[0] && r.xz_bits_per_byte) {
      bool beats = r.bits_per_byte < *r.xz_bits_per_byte;
      md << "\nOn " << c.demo.train_corpora[0] << "'s test split the model " << (beats ? "beats" : "does NOT beat")
         << " xz -9: " << fmt("%.4f", r.bits_per_byte) << " vs " << fmt("%.4f", *r.xz_bits_per_byte)
         << " bits per byte.\n";
    }
  md << "\n## Stage times (seconds)\n\n| stage | s |\n|---|---|\n";
  for (auto it = stages.begin(); it != stages.end(); ++it) md << "| " << it.key() << " | " << fmt("%.1f", it.value()) << " |\n";
  md << "\n## Samples (top-k " << sopt.top_k << ", temperature " << sopt.temperature << ", seed " << sopt.seed
     << ")\n\n" << samples
     << "## Files\n\n- `config.json` the run's config\n- `metrics.jsonl` training log\n"
        "- `checkpoints/` safetensors checkpoints (`latest.safetensors`)\n- `tokenizer/` encoder.json + vocab.bpe\n"
        "- `eval.json` test metrics\n- `samples.md` generations\n";
  return md.str();
}

}  // namespace

std::string run_demo(const DemoOptions& opts, const workspace::Workspace& ws) {
  const std::string out = workspace::Workspace::absolute(opts.out);
  const std::string config_path = opts.config.empty() ? ws.config_path("demo.json") : opts.config;
  auto t_all = Clock::now();
  json stages = json::object();
  auto stage = [&](const char* name, Clock::time_point t0) {
    stages[name] = seconds_since(t0);
    std::fprintf(stderr, "demo: %s done in %s\n", name, Progress::format_duration(stages[name]).c_str());
  };
  const DemoConfig c = read_demo_config(config_path, opts.minutes);
  make_dirs(out);
  report::write_run_info(out, ws.root(), TORCH_VERSION, file_exists(out + "/run_info.json"));

  auto t0 = Clock::now();  // 1. splits
  for (const auto& corpus : c.demo.eval_corpora) ws.prepare_corpus(corpus);
  for (const auto& corpus : c.demo.train_corpora) ws.prepare_corpus(corpus);
  stage("prepare", t0);

  t0 = Clock::now();  // 2. tokenizer, learned from the training corpora's train splits only
  const std::string tok_dir = out + "/tokenizer";
  ws.ensure_trained_tokenizer(c.demo.train_corpora, c.demo.vocab_size, tok_dir);
  auto tok = ws.load_tokenizer(tok_dir);
  stage("tokenizer", t0);

  t0 = Clock::now();  // 3. shards
  json data = ws.training_data_section(c.demo.train_corpora, tok_dir);
  for (const auto& corpus : c.demo.eval_corpora) ws.ensure_shards(corpus, tok_dir);
  stage("shards", t0);

  t0 = Clock::now();  // 4. train (resuming if a previous demo run was interrupted)
  const bool resume = file_exists(out + "/checkpoints/latest.safetensors") && file_exists(out + "/config.json");
  const auto cfg = demo_run_config(c, config_path, out, data, tok.vocab_size(), resume);
  auto tr = train::train(cfg, out, resume, tok.eot());
  stage("train", t0);

  t0 = Clock::now();  // 5. evaluate on every corpus's test split
  auto net = zoo::load_model(out + "/checkpoints/latest.safetensors");
  CorpusEvalOptions eopt;
  eopt.corpora = c.demo.eval_corpora;
  eopt.tokenizer = tok_dir;
  const auto ev = evaluate_corpora(net, ws, eopt);
  save_json(out + "/eval.json", corpus_scores_json(ev));
  stage("eval", t0);

  t0 = Clock::now();  // 6. samples, one fixed decoder
  eval::SampleOptions sopt;
  const std::string samples = demo_samples(net, tok, c, sopt);
  write_file_atomic(out + "/samples.md", samples);
  stage("sample", t0);

  stages["total"] = seconds_since(t_all);  // 7. summary
  write_file_atomic(out + "/summary.md", demo_summary(c, cfg, net, tr, ev, stages, sopt, samples));
  save_json(out + "/stages.json", stages);
  auto report_files = write_run_report({out}, out);
  std::printf("\ndemo finished in %s. Results: %s/summary.md (run directory %s)\nReport: %s\n",
              Progress::format_duration(stages["total"]).c_str(), out.c_str(), out.c_str(), report_files.html.c_str());
  return out + "/summary.md";
}

}  // namespace structlm::experiment
