// structlm align: a new input embedding table for a frozen model (HCMA or a baseline). Writes
//   OUT                    the model: only the input table differs from MODEL's (untied when MODEL
//                          was tied: the output keeps the original matrix)
//   OUT's stem + .align/   log.jsonl (each term, every log_every steps), report.json, report.md
#include <cstdio>

#include "cli/commands.h"
#include "cli/precision_flag.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/json_override.h"
#include "experiment/step_flags.h"
#include "experiment/steps.h"
#include "report/align_markdown.h"

namespace structlm::cli {

namespace flag = experiment::flag;

void add_align(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "align", "Re-align a frozen model's input embeddings (HCMA, docs/METHODS.md §2) or apply a baseline; "
               "every other tensor is kept byte for byte");
  struct Opts {
    experiment::AlignRequest r;
    std::vector<std::string> sets;
    std::string config, method = "hcma", data_dir, precision = "auto";
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--method", o->method, "hcma, abtt, whiten, emb-finetune, emb-noise, cosreg or shrink")->capture_default_str();
  cmd->add_option(flag::kModel, o->r.model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option(flag::kCalib, o->r.calib, "Calibration corpus (name or path; its train split) or a token shard (.bin)")->required();
  cmd->add_option(flag::kOut, o->r.out, "Output checkpoint (.safetensors)")->required();
  cmd->add_option(flag::kConfig, o->config, "JSON file of alignment options (docs/HCMA.md); --set overrides it");
  cmd->add_option(flag::kSet, o->sets, "Option override, e.g. --set steps=500 --set lambda_h=0.5");
  cmd->add_option(flag::kTokenizer, o->r.tokenizer, "Tokenizer directory or 'gpt2' (default: the model's)");
  add_data_dir_option(cmd, o->data_dir);
  cmd->add_option(flag::kReport, o->r.report, "Report directory (default: OUT's stem + .align/)");
  cmd->add_option(flag::kDevice, o->r.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  add_precision_option(cmd, o->precision);  // the frozen model's forward passes
  cmd->add_option(flag::kThreads, o->r.threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_option(flag::kContext, o->r.context,
                  "Windows of the model's forward passes (statistics, LM terms) in tokens (0: the model's context; "
                  "a Llama-family model's is max_position_embeddings, often far longer than calibration needs)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->footer("Alignment options (--config FILE or --set FIELD=VALUE, docs/HCMA.md):\n" + hcma::AlignOptions::fields().help());
  cmd->callback([o, cmd] {
    json j = o->config.empty() ? json::object() : load_json(o->config);
    const std::string where = o->config.empty() ? std::string("--set") : o->config;
    check(j.is_object(), where, "alignment options must be a JSON object");
    if (cmd->count("--method") || !j.contains("method")) j["method"] = o->method;
    if (cmd->count("--precision") || !j.contains("precision")) j["precision"] = o->precision;
    for (const auto& s : o->sets) apply_override(j, s);
    o->r.options = hcma::AlignOptions::from_json(j, where);
    const json report = experiment::run_alignment(make_workspace(o->data_dir), o->r);
    std::printf("%s\nwrote %s (report: %s/report.md)\n", report::align_report_markdown(report).c_str(), o->r.out.c_str(),
                (o->r.report.empty() ? experiment::align_report_dir(o->r.out) : o->r.report).c_str());
  });
}

}  // namespace structlm::cli
