// structlm demo: the main job end to end on the bundled corpora, into one run directory:
// prepare splits -> train a BPE tokenizer -> token shards -> train a GPT (step count calibrated so
// training fits the time budget) -> evaluate on every corpus's test split against xz -9 ->
// sample -> summary.md. Re-running it resumes an interrupted run and skips finished stages.
#include <chrono>
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "cli/corpus_eval.h"
#include "cli/workspace.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "eval/generate.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/report.h"
#include "report/run_info.h"
#include "torch/version.h"  // TORCH_VERSION for run_info.json
#include "train/trainer.h"

namespace structlm::cli {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Times a few optimizer steps of this model shape on this machine (after one warm-up step), so
// the demo can choose a step count that fits its time budget and still runs a full cosine schedule.
double measure_tokens_per_s(const model::GPTConfig& mc, const train::TrainConfig& tc) {
  torch::manual_seed(0);
  model::GPT net(mc);
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

}  // namespace

void add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the main job end to end on the bundled corpora");
  struct Opts {
    std::string out = "runs/demo", data_dir = "data", config;
    double minutes = -1;
  };
  auto o = std::make_shared<Opts>();
  o->config = repo_root() + "/configs/demo.json";
  cmd->add_option("--out", o->out, "Run directory")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "Where prepared data lives")->capture_default_str();
  cmd->add_option("--config", o->config, "Demo config (model, train, demo sections)")->capture_default_str();
  cmd->add_option("--minutes", o->minutes, "Training time budget in minutes (default: the config's)");
  cmd->callback([o] {
    auto t_all = Clock::now();
    json stages = json::object();
    auto stage = [&](const char* name, Clock::time_point t0) {
      stages[name] = seconds_since(t0);
      std::fprintf(stderr, "demo: %s done in %s\n", name, Progress::format_duration(stages[name]).c_str());
    };

    json cfg_file = load_json(o->config);
    check(cfg_file.contains("demo") && cfg_file["demo"].is_object(), o->config, "missing the 'demo' section");
    json demo = cfg_file["demo"];
    auto strings = [&](const char* key) {
      check(demo.contains(key) && demo[key].is_array() && !demo[key].empty(), o->config,
            std::string("demo field '") + key + "' must be a non-empty list");
      return demo[key].get<std::vector<std::string>>();
    };
    auto train_corpora = strings("train_corpora"), eval_corpora = strings("eval_corpora"), prompts = strings("prompts");
    std::size_t vocab_size = demo.value("vocab_size", 4096);
    double minutes = o->minutes > 0 ? o->minutes : demo.value("train_minutes", 6.0);
    make_dirs(o->out);
    report::write_run_info(o->out, repo_root(), TORCH_VERSION, file_exists(o->out + "/run_info.json"));

    // 1. splits
    auto t0 = Clock::now();
    for (const auto& c : eval_corpora) prepare_corpus(o->data_dir, c);
    for (const auto& c : train_corpora) prepare_corpus(o->data_dir, c);
    stage("prepare", t0);

    // 2. tokenizer, learned from the training corpora's train splits only
    t0 = Clock::now();
    std::string tok_dir = o->out + "/tokenizer";
    ensure_trained_tokenizer(o->data_dir, train_corpora, vocab_size, tok_dir);
    auto tok = load_tokenizer(tok_dir);
    stage("tokenizer", t0);

    // 3. shards
    t0 = Clock::now();
    json data = training_data_section(o->data_dir, train_corpora, tok_dir);
    for (const auto& c : eval_corpora) ensure_shards(o->data_dir, c, tok_dir);
    stage("shards", t0);

    // 4. train (resuming if a previous demo run was interrupted)
    t0 = Clock::now();
    std::string run_cfg_path = o->out + "/config.json";
    bool resume = file_exists(o->out + "/checkpoints/latest.safetensors") && file_exists(run_cfg_path);
    train::RunConfig cfg;
    if (resume) {
      cfg = train::RunConfig::load(run_cfg_path);
    } else {
      json run = {{"model", cfg_file.at("model")}, {"train", cfg_file.at("train")}, {"data", data}};
      run["model"]["vocab_size"] = tok.vocab_size();
      cfg = train::RunConfig::from_json(run, o->config);
      model::init_threads(cfg.train.threads);
      double tps = measure_tokens_per_s(cfg.model, cfg.train);
      std::int64_t tokens_per_step = cfg.train.batch_size * cfg.train.grad_accum * cfg.model.block_size;
      // Evaluations and checkpoints cost time too: budget 90% of the time for steps.
      std::int64_t steps = std::int64_t(0.9 * minutes * 60 * tps / tokens_per_step);
      cfg.train.max_steps = std::max<std::int64_t>(std::min(cfg.train.max_steps, steps), cfg.train.warmup_steps + 1);
      cfg.train.max_minutes = minutes * 1.2;  // a safety net only; the step count is the plan
      std::fprintf(stderr, "demo: measured %.0f tokens/s -> %lld steps (%.1f M tokens) in %.1f minutes\n", tps,
                   (long long)cfg.train.max_steps, cfg.train.max_steps * tokens_per_step / 1e6, minutes);
    }
    auto tr = train::train(cfg, o->out, resume);
    stage("train", t0);

    // 5. evaluate on every corpus's test split
    t0 = Clock::now();
    auto net = model::load_model(o->out + "/checkpoints/latest.safetensors");
    CorpusEvalOptions eopt;
    eopt.corpora = eval_corpora;
    eopt.data_dir = o->data_dir;
    eopt.tokenizer = tok_dir;
    json ev = evaluate_corpora(net, eopt);
    save_json(o->out + "/eval.json", ev);
    stage("eval", t0);

    // 6. samples, one fixed decoder
    t0 = Clock::now();
    eval::SampleOptions sopt;
    json sj = demo.value("sample", json::object());
    sopt.max_new_tokens = sj.value("max_new_tokens", 80);
    sopt.temperature = sj.value("temperature", 1.0);
    sopt.top_k = sj.value("top_k", 40);
    sopt.top_p = sj.value("top_p", 1.0);
    sopt.seed = sj.value("seed", 1);
    std::ostringstream samples;
    for (const auto& p : prompts) samples << "### " << p << "\n\n" << p << eval::sample_text(net, tok, p, sopt) << "\n\n";
    write_file_atomic(o->out + "/samples.md", samples.str());
    stage("sample", t0);

    // 7. summary
    stages["total"] = seconds_since(t_all);
    std::ostringstream md;
    md << "# structlm demo run\n\n"
       << "Model: " << net->num_params() << " parameters (" << cfg.model.n_layer << " layers, " << cfg.model.n_embd
       << " wide, " << cfg.model.n_head << " heads, context " << cfg.model.block_size << ", vocabulary "
       << cfg.model.vocab_size << "), trained on " << json(train_corpora).dump() << " for " << tr.steps
       << " steps at " << fmt("%.0f", tr.tokens_per_s) << " tokens/s.\n\n"
       << "Final train loss " << fmt("%.4f", tr.final_train_loss) << ", validation loss "
       << fmt("%.4f", tr.final_val_loss) << ".\n\n"
       << "## Test split (1 seed)\n\n| corpus | tokens | loss | perplexity | bits/byte | xz -9 bits/byte |\n|---|---|---|---|---|---|\n";
    for (const auto& r : ev["corpora"])
      md << "| " << r["corpus"].get<std::string>() << " | " << r["tokens"].get<std::size_t>() << " | "
         << fmt("%.4f", r["loss"]) << " | " << fmt("%.2f", r["perplexity"]) << " | " << fmt("%.4f", r["bits_per_byte"])
         << " | " << fmt("%.4f", r["xz_bits_per_byte"]) << " |\n";
    for (const auto& r : ev["corpora"])
      if (r["corpus"] == train_corpora[0]) {
        bool beats = r["bits_per_byte"].get<double>() < r["xz_bits_per_byte"].get<double>();
        md << "\nOn " << train_corpora[0] << "'s test split the model " << (beats ? "beats" : "does NOT beat")
           << " xz -9: " << fmt("%.4f", r["bits_per_byte"]) << " vs " << fmt("%.4f", r["xz_bits_per_byte"])
           << " bits per byte.\n";
      }
    md << "\n## Stage times (seconds)\n\n| stage | s |\n|---|---|\n";
    for (auto it = stages.begin(); it != stages.end(); ++it) md << "| " << it.key() << " | " << fmt("%.1f", it.value()) << " |\n";
    md << "\n## Samples (top-k " << sopt.top_k << ", temperature " << sopt.temperature << ", seed " << sopt.seed
       << ")\n\n" << samples.str()
       << "## Files\n\n- `config.json` the run's config\n- `metrics.jsonl` training log\n"
          "- `checkpoints/` safetensors checkpoints (`latest.safetensors`)\n- `tokenizer/` encoder.json + vocab.bpe\n"
          "- `eval.json` test metrics\n- `samples.md` generations\n";
    write_file_atomic(o->out + "/summary.md", md.str());
    save_json(o->out + "/stages.json", stages);
    auto report_files = report::write_report({o->out}, o->out);
    std::printf("\ndemo finished in %s. Results: %s/summary.md (run directory %s)\nReport: %s\n",
                Progress::format_duration(stages["total"]).c_str(), o->out.c_str(), o->out.c_str(),
                report_files.html.c_str());
  });
}

}  // namespace structlm::cli
