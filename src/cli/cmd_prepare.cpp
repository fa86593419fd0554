// structlm prepare: corpora -> deterministic train/val/test splits by document, written once.
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/io.h"
#include "data/dedup.h"
#include "data/sources.h"

namespace structlm::cli {

namespace {

std::size_t bytes_of(const std::vector<data::Document>& docs) {
  std::size_t n = 0;
  for (const auto& d : docs) n += d.text.size();
  return n;
}

// Every packaged corpus: its package, licence, whether it is installed, and its size once prepared.
void print_sources(const workspace::Workspace& ws) {
  std::vector<std::vector<std::string>> rows = {{"corpus", "package", "licence", "kind", "installed", "prepared"}};
  for (const auto& s : data::corpus_sources(ws.corpus_paths())) {
    std::string prepared = "no";
    if (file_exists(ws.corpus_dir(s.name) + "/split.json")) {
      const auto sp = ws.prepare_corpus(s.name);  // already written: read back, not rebuilt
      prepared = std::to_string(sp.train.size() + sp.val.size() + sp.test.size()) + " docs, " +
                 std::to_string(bytes_of(sp.train) + bytes_of(sp.val) + bytes_of(sp.test)) + " bytes";
    }
    std::string installed = s.installed() ? "yes" : s.optional ? "no (setup.sh --corpus " + s.name + ")" : "no";
    rows.push_back({s.name, s.package, s.licence, s.kind, installed, prepared});
  }
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
                  "A packaged corpus (structlm prepare --list: brown, kjv, gcide, foldoc, ...), or a path: .txt/.md file, .jsonl file ({\"text\": ...} per "
                  "line) or a directory of text files");
  cmd->add_flag("--list", *list, "List the packaged corpora: package, licence, installed, prepared size");
  auto duplicates = std::make_shared<bool>(false);
  cmd->add_flag("--duplicates", *duplicates,
                "Also count exact and near duplicates (MinHash, docs/CORPORA.md) within each corpus and against the "
                "corpora named before it; nothing is removed");
  add_data_dir_option(cmd, *data_dir);
  cmd->callback([=] {
    const auto ws = make_workspace(*data_dir);
    if (*list) return print_sources(ws);
    if (corpora->empty()) throw Error("prepare: name at least one corpus (or --list to see the packaged ones)");
    data::DuplicateCensus census;
    for (const auto& spec : *corpora) {
      auto s = ws.prepare_corpus(spec);
      std::printf("%-12s train %5zu docs %9zu bytes | val %4zu docs %8zu bytes | test %4zu docs %8zu bytes -> %s\n",
                  ws.corpus_name(spec).c_str(), s.train.size(), bytes_of(s.train), s.val.size(), bytes_of(s.val),
                  s.test.size(), bytes_of(s.test), ws.corpus_dir(spec).c_str());
      if (!*duplicates) continue;
      std::vector<std::string_view> texts;
      for (const auto* part : {&s.train, &s.val, &s.test})
        for (const auto& d : *part) texts.push_back(d.text);
      const auto& r = census.add_source(ws.corpus_name(spec), texts);
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
