#include "experiment/steps.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/json_override.h"
#include "core/platform.h"
#include "dist/process_group.h"
#include "experiment/step_flags.h"
#include "model/checkpoint.h"
#include "model/runtime.h"
#include "report/align_markdown.h"
#include "report/run_info.h"
#include "torch/version.h"  // TORCH_VERSION for run_info.json
#include "workspace/run_files.h"
#include "zoo/zoo.h"

namespace structlm::experiment {

namespace fs = std::filesystem;

namespace {

struct Vocabulary {
  json record;            // what run_info.json records; null without a tokenizer
  std::int64_t eot = -1;  // the tokenizer's <|endoftext|>; -1 without a tokenizer
};

// The model's vocabulary against its tokenizer's, on the typed configuration: unset
// (`vocab_given` false) takes the tokenizer's size, smaller is refused, larger is padding (allowed).
Vocabulary settle_vocabulary(train::RunConfig& cfg, bool vocab_given, const std::string& config_path,
                             const workspace::Workspace& ws) {
  if (cfg.data.tokenizer.empty()) return {};  // no tokenizer: the shards are checked when training starts
  const std::string tok_spec = ws.tokenizer_spec(cfg.data.tokenizer);
  cfg.data.tokenizer = tok_spec;
  const auto tok = ws.load_tokenizer(tok_spec);
  const auto tok_vocab = std::int64_t(tok.vocab_size());
  const std::int64_t eot = tok.eot();
  if (!vocab_given) {
    cfg.model.vocab_size = tok_vocab;
    return {{{"model", tok_vocab}, {"tokenizer", tok_vocab}, {"source", "tokenizer"}, {"padding", 0}}, eot};
  }
  const auto model_vocab = cfg.model.vocab_size;
  check(model_vocab >= tok_vocab, config_path,
        "model.vocab_size " + std::to_string(model_vocab) + " is below the " + std::to_string(tok_vocab) +
            " tokens of tokenizer " + tok_spec + " (leave model.vocab_size out to take the tokenizer's)");
  if (model_vocab > tok_vocab)
    std::fprintf(stderr, "train: model.vocab_size %lld pads tokenizer %s's %lld tokens by %lld rows\n",
                 (long long)model_vocab, tok_spec.c_str(), (long long)tok_vocab, (long long)(model_vocab - tok_vocab));
  return {{{"model", model_vocab}, {"tokenizer", tok_vocab}, {"source", "config"}, {"padding", model_vocab - tok_vocab}},
          eot};
}

}  // namespace

std::string train_usage_path(const std::string& run_dir) { return run_dir + "/step_usage.json"; }

train::TrainResult run_training(const workspace::Workspace& ws, const TrainRequest& request, dist::ProcessGroup* group) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainRequest r = request;
  if (r.auto_resume && !r.resume) r.resume = file_exists(r.run_dir + "/checkpoints/latest.safetensors");
  const bool lead = !group || group->rank() == 0;
  if (!lead) group->barrier();  // until rank 0 has prepared the data (a rank 0 that fails ends this wait)
  std::string config_path = r.config;
  if (config_path.empty()) {
    if (!r.resume) throw Error("train: --config is required (or --resume an existing run)");
    config_path = r.run_dir + "/config.json";
  }
  json j = load_json(config_path);
  // A demo config (configs/demo.json) is also a run config plus a section only `demo` reads.
  if (j.is_object()) j.erase("demo");
  for (const auto& a : r.overrides) apply_override(j, a);
  if (!r.corpora.empty()) {
    if (r.tokenizer.empty()) throw Error("train: --corpus needs --tokenizer");
    j["data"] = ws.training_data_section(r.corpora, r.tokenizer);
  } else if (!r.tokenizer.empty()) {
    if (!j.contains("data") || !j["data"].is_object()) j["data"] = json::object();
    j["data"]["tokenizer"] = r.tokenizer;
  }
  const std::string origin = config_path + (r.overrides.empty() && r.corpora.empty() ? "" : " (with command-line overrides)");
  // From here on the configuration is typed; the JSON is asked only whether the model's
  // vocabulary was given (an unset one is filled from the tokenizer).
  const bool vocab_given = j.is_object() && j.contains("model") && j["model"].is_object() &&
                           j["model"].contains("vocab_size") && !j["model"]["vocab_size"].is_null();
  if (!vocab_given && j.is_object() && j.contains("model") && j["model"].is_object()) j["model"].erase("vocab_size");
  auto cfg = train::RunConfig::from_json(j, origin);
  // Stored paths work from any directory: the workspace's one rule (also what resume compares).
  cfg.data = train::DataConfig::from_json(workspace::absolute_data_paths(cfg.data.to_json()), origin);
  const Vocabulary vocabulary = settle_vocabulary(cfg, vocab_given, origin, ws);
  // Not over a finished run's record when train() is about to refuse to overwrite that run.
  if (lead && (r.resume || !file_exists(r.run_dir + "/checkpoints/latest.safetensors"))) {
    report::write_run_info(r.run_dir, ws.root(), TORCH_VERSION, r.resume);
    if (!vocabulary.record.is_null()) {
      json info = load_json(r.run_dir + "/run_info.json");
      info["vocabulary"] = vocabulary.record;
      save_json(r.run_dir + "/run_info.json", info);
    }
  }
  if (group && lead) group->barrier();
  // A resumed run's cost is that of all its attempts: the earlier ones' as they recorded it (an
  // attempt killed before recording is not counted).
  double earlier_wall_s = 0, earlier_peak_mib = 0;
  const std::string usage_path = train_usage_path(r.run_dir);
  if (lead && r.resume && file_exists(usage_path)) {
    const json u = load_json(usage_path);
    read_field(u, "wall_s", earlier_wall_s, usage_path);
    read_field(u, "peak_rss_mib", earlier_peak_mib, usage_path);
  }
  auto result = train::train(cfg, r.run_dir, r.resume, vocabulary.eot, group);
  // Written last, after the final checkpoint: its "step" is what says the step has ended
  // (experiment/step_plan.h, training_finished).
  if (lead)
    save_json(usage_path,
              {{"wall_s", earlier_wall_s + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
               {"peak_rss_mib", std::max(earlier_peak_mib, peak_rss_mib())},
               {"step", result.steps}});
  return result;
}

std::string align_report_dir(const std::string& out) {
  fs::path p(out);
  return (p.parent_path() / (p.stem().string() + ".align")).string();
}

namespace {

data::TokenStream calibration_stream(const workspace::Workspace& ws, const std::string& calib, const std::string& tokenizer) {
  // A shard file is used as it is; a corpus name or path is prepared and tokenized (train split).
  if (calib.size() > 4 && calib.compare(calib.size() - 4, 4, ".bin") == 0) return data::TokenStream({calib});
  return data::TokenStream({ws.ensure_shards(calib, tokenizer).train});
}

}  // namespace

json run_alignment(const workspace::Workspace& ws, const AlignRequest& r) {
  const auto t0 = std::chrono::steady_clock::now();
  check(!r.out.empty(), "align", "--out is required");
  auto files = workspace::resolve_run(r.model, r.tokenizer);
  model::init_threads(r.threads);
  auto device = model::resolve_device(r.device);
  auto source = model::read_any_checkpoint(files.checkpoint);
  auto loaded = zoo::load_any_model(files.checkpoint, device);  // the GPT or a Llama-family model
  model::CausalLM& net = loaded.lm();
  workspace::check_model_fits_tokenizer(net.vocabulary_rows(), ws.load_tokenizer(files.tokenizer).vocab_size(),
                             files.checkpoint, files.tokenizer);
  auto stream = calibration_stream(ws, r.calib, files.tokenizer);
  stream.check_ids_below(std::size_t(net.vocabulary_rows()), "the model's vocabulary");
  const std::string report_dir = r.report.empty() ? align_report_dir(r.out) : r.report;
  make_dirs(report_dir);

  std::fprintf(stderr, "align: %s on %s (%s, V %lld, d %lld, %s), calibration %s: %zu tokens\n", r.options.method.c_str(),
               files.checkpoint.c_str(), net.arch(), (long long)net.vocabulary_rows(), (long long)net.width(),
               net.tied_output() ? "tied" : "untied", r.calib.c_str(), stream.size());
  auto result = hcma::align_embeddings(net, stream, r.options, report_dir + "/log.jsonl", {}, r.context);
  auto aligned = hcma::with_input_embeddings(net, result.E);

  // The source's metadata minus what belongs to a training run (its optimizer state is not
  // copied either): the result is a model, not a run to resume. "config" is the aligned model's
  // own (untied), written by save_checkpoint.
  json meta = json::object();
  for (auto it = source.meta.begin(); it != source.meta.end(); ++it)
    if (it.key() != "config" && it.key() != "train_state" && it.key() != "tokenizer") meta[it.key()] = it.value();
  meta["tokenizer"] = workspace::tokenizer_reference(r.out, files.tokenizer);
  meta["aligned"] = {{"method", r.options.method}, {"from", files.checkpoint}, {"calibration", r.calib},
                     {"options", r.options.to_json()}};
  if (fs::path(r.out).has_parent_path()) make_dirs(fs::path(r.out).parent_path().string());
  if (aligned.arch == "gpt")
    model::save_checkpoint(r.out, aligned.gpt, {}, meta);
  else
    model::save_checkpoint(r.out, aligned.llama, meta);

  result.report["from"] = files.checkpoint;
  result.report["out"] = r.out;
  result.report["calibration"] = r.calib;
  result.report["peak_rss_mib"] = peak_rss_mib();
  result.report["step_wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  save_json(report_dir + "/report.json", result.report);
  write_file_atomic(report_dir + "/report.md", report::align_report_markdown(result.report));
  return result.report;
}

std::vector<std::string> train_args(const TrainRequest& r) {
  std::vector<std::string> a = {flag::kRunDir, r.run_dir};
  if (!r.config.empty()) a.insert(a.end(), {flag::kConfig, r.config});
  if (!r.tokenizer.empty()) a.insert(a.end(), {flag::kTokenizer, r.tokenizer});
  for (const auto& c : r.corpora) a.insert(a.end(), {flag::kCorpus, c});
  for (const auto& s : r.overrides) a.insert(a.end(), {flag::kSet, s});
  if (r.resume) a.push_back(flag::kResume);
  if (r.auto_resume) a.push_back(flag::kAutoResume);
  return a;
}

std::vector<std::string> align_args(const AlignRequest& r, const std::string& options_file) {
  std::vector<std::string> a = {flag::kModel, r.model, flag::kCalib,   r.calib,   flag::kOut,    r.out,
                                flag::kConfig, options_file, flag::kThreads, std::to_string(r.threads), flag::kDevice, r.device};
  if (!r.tokenizer.empty()) a.insert(a.end(), {flag::kTokenizer, r.tokenizer});
  if (!r.report.empty()) a.insert(a.end(), {flag::kReport, r.report});
  if (r.context > 0) a.insert(a.end(), {flag::kContext, std::to_string(r.context)});
  return a;
}

namespace {

std::vector<std::string> step_command(const workspace::Workspace& ws, const std::string& exe, const char* command,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {exe, flag::kRoot, ws.root(), command, flag::kDataDir, ws.data_dir()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

std::vector<std::string> train_command(const workspace::Workspace& ws, const std::string& exe, const TrainRequest& r) {
  return step_command(ws, exe, "train", train_args(r));
}
std::vector<std::string> align_command(const workspace::Workspace& ws, const std::string& exe, const AlignRequest& r,
                                       const std::string& options_file) {
  return step_command(ws, exe, "align", align_args(r, options_file));
}

namespace {

class SubprocessRunner : public StepRunner {
 public:
  SubprocessRunner(const workspace::Workspace& ws, std::string exe) : ws_(ws), exe_(std::move(exe)) {}

  ChildUsage train(const TrainRequest& r) override { return run_attached(train_command(ws_, exe_, r)); }
  ChildUsage align(const AlignRequest& r, const std::string& options_file) override {
    return run_attached(align_command(ws_, exe_, r, options_file));
  }

 private:
  workspace::Workspace ws_;
  std::string exe_;
};

class InProcessRunner : public StepRunner {
 public:
  explicit InProcessRunner(const workspace::Workspace& ws) : ws_(ws) {}

  ChildUsage train(const TrainRequest& r) override {
    return timed([&] { run_training(ws_, r); });
  }
  ChildUsage align(const AlignRequest& r, const std::string& options_file) override {
    AlignRequest copy = r;
    copy.options = hcma::AlignOptions::from_json(load_json(options_file), options_file);
    return timed([&] { run_alignment(ws_, copy); });
  }

 private:
  template <typename F>
  static ChildUsage timed(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ChildUsage u;
    u.exit_code = 0;
    u.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    u.peak_rss_mib = peak_rss_mib();
    return u;
  }
  workspace::Workspace ws_;
};

}  // namespace

std::unique_ptr<StepRunner> subprocess_runner(const workspace::Workspace& ws, const std::string& exe) {
  return std::make_unique<SubprocessRunner>(ws, exe);
}
std::unique_ptr<StepRunner> in_process_runner(const workspace::Workspace& ws) { return std::make_unique<InProcessRunner>(ws); }

}  // namespace structlm::experiment
