// structlm align: a new input embedding table for a frozen model (HCMA or a baseline). Writes
//   OUT                    the model: only the input table differs from MODEL's (untied when MODEL
//                          was tied: the output keeps the original matrix)
//   OUT's stem + .align/   log.jsonl (each term, every log_every steps), report.json, report.md
#include <cstdio>
#include <filesystem>

#include "align/align.h"
#include "cli/align_report.h"
#include "cli/commands.h"
#include "cli/run_files.h"
#include "cli/workspace.h"
#include "core/error.h"
#include "core/io.h"
#include "core/platform.h"
#include "model/checkpoint.h"
#include "model/runtime.h"

namespace structlm::cli {

namespace fs = std::filesystem;

std::string align_report_dir(const std::string& out) {
  fs::path p(out);
  return (p.parent_path() / (p.stem().string() + ".align")).string();
}

data::TokenStream calibration_stream(const std::string& calib, const std::string& data_dir, const std::string& tokenizer) {
  // A shard file is used as it is; a corpus name or path is prepared and tokenized (train split).
  if (calib.size() > 4 && calib.compare(calib.size() - 4, 4, ".bin") == 0) return data::TokenStream({calib});
  prepare_corpus(data_dir, calib);
  return data::TokenStream({ensure_shards(data_dir, calib, tokenizer).train});
}

void run_align(const AlignCommand& c) {
  auto files = resolve_run(c.model, c.tokenizer);
  model::init_threads(c.threads);
  auto device = model::resolve_device(c.device);
  auto source = model::read_checkpoint(files.checkpoint);
  auto net = model::load_model(files.checkpoint, device);
  auto stream = calibration_stream(c.calib, c.data_dir, files.tokenizer);
  check(!c.out.empty(), "align", "--out is required");
  const std::string report_dir = c.report.empty() ? align_report_dir(c.out) : c.report;
  make_dirs(report_dir);

  std::fprintf(stderr, "align: %s on %s (V %lld, d %lld, %s), calibration %s: %zu tokens\n", c.options.method.c_str(),
               files.checkpoint.c_str(), (long long)net->config().vocab_size, (long long)net->config().n_embd,
               net->config().tied ? "tied" : "untied", c.calib.c_str(), stream.size());
  auto result = align::align_embeddings(net, stream, c.options, report_dir + "/log.jsonl");
  auto aligned = align::with_input_embeddings(net, result.E);

  // The source's metadata minus what belongs to a training run (its optimizer state is not
  // copied either): the result is a model, not a run to resume.
  json meta = json::object();
  for (auto it = source.meta.begin(); it != source.meta.end(); ++it)
    if (it.key() != "config" && it.key() != "train_state" && it.key() != "tokenizer") meta[it.key()] = it.value();
  meta["tokenizer"] = tokenizer_reference(c.out, files.tokenizer);
  meta["aligned"] = {{"method", c.options.method}, {"from", files.checkpoint}, {"calibration", c.calib},
                     {"options", c.options.to_json()}};
  if (fs::path(c.out).has_parent_path()) make_dirs(fs::path(c.out).parent_path().string());
  model::save_checkpoint(c.out, aligned, {}, meta);

  result.report["from"] = files.checkpoint;
  result.report["out"] = c.out;
  result.report["calibration"] = c.calib;
  result.report["peak_rss_mib"] = peak_rss_mib();
  save_json(report_dir + "/report.json", result.report);
  write_file_atomic(report_dir + "/report.md", align_report_markdown(result.report));
  std::printf("%s\nwrote %s (report: %s/report.md)\n", align_report_markdown(result.report).c_str(), c.out.c_str(),
              report_dir.c_str());
}

void add_align(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "align", "Re-align a frozen model's input embeddings (HCMA, docs/METHODS.md §2) or apply a baseline; "
               "every other tensor is kept byte for byte");
  auto c = std::make_shared<AlignCommand>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto config = std::make_shared<std::string>();
  auto method = std::make_shared<std::string>("hcma");
  cmd->add_option("--method", *method, "hcma, abtt, whiten, emb-finetune, emb-noise or cosreg")->capture_default_str();
  cmd->add_option("--model", c->model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option("--calib", c->calib, "Calibration corpus (name or path; its train split) or a token shard (.bin)")->required();
  cmd->add_option("--out", c->out, "Output checkpoint (.safetensors)")->required();
  cmd->add_option("--config", *config, "JSON file of alignment options (docs/HCMA.md); --set overrides it");
  cmd->add_option("--set", *sets, "Option override, e.g. --set steps=500 --set lambda_h=0.5");
  cmd->add_option("--tokenizer", c->tokenizer, "Tokenizer directory or 'gpt2' (default: the model's)");
  cmd->add_option("--data-dir", c->data_dir, "Where prepared data lives")->capture_default_str();
  cmd->add_option("--report", c->report, "Report directory (default: OUT's stem + .align/)");
  cmd->add_option("--device", c->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  cmd->add_option("--threads", c->threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->callback([c, sets, config, method, cmd] {
    json j = config->empty() ? json::object() : load_json(*config);
    const std::string where = config->empty() ? std::string("--set") : *config;
    check(j.is_object(), where, "alignment options must be a JSON object");
    if (cmd->count("--method") || !j.contains("method")) j["method"] = *method;
    for (const auto& s : *sets) apply_override(j, s);
    c->options = align::AlignOptions::from_json(j, where);
    run_align(*c);
  });
}

}  // namespace structlm::cli
