// structlm prepare: corpora -> deterministic train/val/test splits by document, written once.
#include <cstdio>

#include "cli/commands.h"
#include "cli/workspace_flags.h"

namespace structlm::cli {

void add_prepare(CLI::App& app) {
  auto* cmd = app.add_subcommand("prepare", "Split corpora into train/val/test by document (written once, then reused)");
  auto corpora = std::make_shared<std::vector<std::string>>();
  auto data_dir = std::make_shared<std::string>();
  cmd->add_option("corpus", *corpora,
                  "brown, nlp-corpus, kjv, wordnet, or a path: .txt/.md file, .jsonl file ({\"text\": ...} per "
                  "line) or a directory of text files")
      ->required();
  add_data_dir_option(cmd, *data_dir);
  cmd->callback([=] {
    const auto ws = make_workspace(*data_dir);
    for (const auto& spec : *corpora) {
      auto s = ws.prepare_corpus(spec);
      auto bytes = [](const std::vector<data::Document>& docs) {
        std::size_t n = 0;
        for (const auto& d : docs) n += d.text.size();
        return n;
      };
      std::printf("%-12s train %5zu docs %9zu bytes | val %4zu docs %8zu bytes | test %4zu docs %8zu bytes -> %s\n",
                  ws.corpus_name(spec).c_str(), s.train.size(), bytes(s.train), s.val.size(), bytes(s.val),
                  s.test.size(), bytes(s.test), ws.corpus_dir(spec).c_str());
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
