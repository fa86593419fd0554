// structlm prepare: corpora -> deterministic train/val/test splits by document, written once.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/io.h"
#include "data/dedup.h"
#include "data/mix.h"
#include "data/sources.h"
#include "data/split.h"

namespace structlm::cli {

namespace {

// The mix (configs/mix.json): how many of its sources are installed, and its size once built.
std::vector<std::string> mix_row(const workspace::Workspace& ws) {
  const auto recipe = data::load_mix_recipe(ws.config_path("mix.json"));
  std::size_t installed = 0;
  for (const auto& s : data::corpus_sources(ws.corpus_paths()))
    for (const auto& m : recipe.sources) installed += m.name == s.name && s.installed();
  std::string prepared = "no";
  if (file_exists(ws.corpus_dir(workspace::kMixName) + "/mix.json")) {
    const auto r = data::read_mix_report(ws.corpus_dir(workspace::kMixName));
    prepared = std::to_string(r.train_bytes) + " train bytes";
  }
  const std::size_t n = recipe.sources.size();
  return {workspace::kMixName, "the " + std::to_string(n) + " corpora of configs/mix.json", "per document", "mix",
          installed == n ? "yes" : std::to_string(n - installed) + " missing (setup.sh --corpus mix)", prepared};
}

// The mix's sources after `prepare mix`: what was removed and what each holds of the training set.
void print_mix(const data::MixReport& r) {
  std::printf("%-12s %9s %7s %6s %9s %9s %7s %6s %s\n", "source", "documents", "exact", "near", "train", "train MB",
              "weight", "share", "licence");
  for (const auto& c : r.sources)
    std::printf("%-12s %9zu %7zu %6zu %9zu %9.2f %7.2f %6.3f %s\n", c.name.c_str(), c.documents, c.exact, c.near,
                c.docs[0], double(c.bytes[0]) / 1e6, c.weight, double(c.mix_train_bytes) / double(r.train_bytes),
                c.licence.c_str());
  std::printf("mix: %.1f MB of training text (%.1f MB before weighting)\n", double(r.train_bytes) / 1e6,
              double(r.unique_train_bytes) / 1e6);
}

// Every packaged corpus: its package, licence, whether it is installed, and its size once prepared.
void print_sources(const workspace::Workspace& ws) {
  std::vector<std::vector<std::string>> rows = {{"corpus", "package", "licence", "kind", "installed", "prepared"}};
  for (const auto& s : data::corpus_sources(ws.corpus_paths())) {
    std::string prepared = "no";
    if (file_exists(ws.corpus_dir(s.name) + "/split.json")) {
      const auto sp = data::read_split_summary(ws.corpus_dir(s.name));  // its counts, not its documents
      prepared = std::to_string(sp.docs[0] + sp.docs[1] + sp.docs[2]) + " docs, " +
                 std::to_string(sp.bytes[0] + sp.bytes[1] + sp.bytes[2]) + " bytes";
    }
    std::string installed = s.installed() ? "yes" : s.optional ? "no (setup.sh --corpus " + s.name + ")" : "no";
    rows.push_back({s.name, s.package, s.licence, s.kind, installed, prepared});
  }
  rows.push_back(mix_row(ws));
  std::vector<std::size_t> width(rows[0].size(), 0);  // columns as wide as their widest cell
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += i + 1 < r.size() ? r[i] + std::string(width[i] - r[i].size() + 1, ' ') : r[i];
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace

void add_prepare(CLI::App& app) {
  auto* cmd = app.add_subcommand("prepare", "Split corpora into train/val/test by document (written once, then reused)");
  auto corpora = std::make_shared<std::vector<std::string>>();
  auto data_dir = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  cmd->add_option("corpus", *corpora,
                  "A packaged corpus (structlm prepare --list: brown, kjv, gcide, foldoc, ...), 'mix' (the corpora of configs/mix.json, "
                  "deduplicated and weighted; 'mix:NAME' is one source of it with its own held-out split), or a path: .txt/.md file, .jsonl file ({\"text\": ...} per "
                  "line) or a directory of text files");
  cmd->add_flag("--list", *list, "List the packaged corpora: package, licence, installed, prepared size");
  auto duplicates = std::make_shared<bool>(false);
  cmd->add_flag("--duplicates", *duplicates,
                "Also count exact and near duplicates (MinHash, docs/CORPORA.md) within each corpus and against the "
                "corpora named before it; nothing is removed");
  auto dedup = std::make_shared<bool>(false);
  cmd->add_flag("--dedup", *dedup,
                "Remove exact and near duplicates (MinHash, docs/CORPORA.md) from each corpus before splitting it; "
                "the first copy stays. Recorded in its split.json; not for 'mix', which always removes them");
  add_data_dir_option(cmd, *data_dir);
  cmd->callback([=] {
    const auto ws = make_workspace(*data_dir);
    if (*list) return print_sources(ws);
    if (corpora->empty()) throw Error("prepare: name at least one corpus (or --list to see the packaged ones)");
    data::DuplicateCensus census;
    for (const auto& spec : *corpora) {
      const std::string dir = ws.corpus_dir(spec);  // first: refuses a "mix:NAME" whose NAME is not a source
      const bool mix = spec == workspace::kMixName || spec.rfind(std::string(workspace::kMixName) + ":", 0) == 0;
      if (mix && *dedup) throw Error("prepare: --dedup is for single corpora; '" + spec + "' has its duplicates removed already");
      // Streamed to disk and counted from split.json: no corpus is held in memory here.
      data::SplitSummary s;
      if (mix) {
        const auto report = ws.prepare_mix();  // builds it, resumes it, or checks the finished one
        if (spec == workspace::kMixName) print_mix(report);
        s = data::read_split_summary(dir);
      } else {
        data::PrepareOptions o;
        o.dedup = *dedup;
        s = data::ensure_split(spec, dir, o, ws.corpus_paths());
      }
      if (s.dedup)
        std::printf("%-12s %zu documents, removed %zu exact + %zu near duplicates\n", ws.corpus_name(spec).c_str(),
                    s.documents_read, s.exact_removed, s.near_removed);
      std::printf("%-12s train %5zu docs %9zu bytes | val %4zu docs %8zu bytes | test %4zu docs %8zu bytes -> %s\n",
                  ws.corpus_name(spec).c_str(), s.docs[0], s.bytes[0], s.docs[1], s.bytes[1], s.docs[2], s.bytes[2],
                  dir.c_str());
      if (!*duplicates) continue;
      census.start_source(ws.corpus_name(spec));
      for (const char* part : {"train", "val", "test"})
        data::for_each_jsonl_line(dir + "/" + part + ".jsonl",
                                  [&](json& j) { census.add(j["text"].get_ref<const std::string&>()); });
      const auto& r = census.finish_source();
      std::printf("%-12s duplicates: %zu exact, %zu near within its %zu documents; %zu more of earlier corpora\n",
                  r.name.c_str(), r.exact, r.near, r.documents, r.earlier);
    }
  });
}

void add_shards(CLI::App& app) {
  auto* cmd = app.add_subcommand("shards", "Tokenize prepared corpora into llm.c-format token shards");
  auto corpora = std::make_shared<std::vector<std::string>>();
  auto data_dir = std::make_shared<std::string>();
  auto tokenizer = std::make_shared<std::string>();
  cmd->add_option("corpus", *corpora, "Corpora to tokenize (prepared on first use)")->required();
  cmd->add_option("--tokenizer", *tokenizer, "Tokenizer directory, or 'gpt2' for GPT-2's own")->required();
  add_data_dir_option(cmd, *data_dir);
  cmd->callback([=] {
    const auto ws = make_workspace(*data_dir);
    for (const auto& spec : *corpora) {
      auto s = ws.ensure_shards(spec, *tokenizer);
      std::printf("%s\n%s\n%s\n", s.train.c_str(), s.val.c_str(), s.test.c_str());
    }
  });
}

}  // namespace structlm::cli
