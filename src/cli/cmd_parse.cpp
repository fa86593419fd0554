// structlm parse: the structure a model induces on a sentence. For each token, its most likely
// head among the earlier tokens: from the last layer's dependency distribution D (CSTDE models)
// and from the last layer's head-averaged attention (every model), optionally next to
// link-grammar's reference links, as a text table or CoNLL-U.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "eval/induced_heads.h"
#include "model/checkpoint.h"
#include "workspace/run_files.h"
#include "zoo/zoo.h"

namespace structlm::cli {

void add_parse(CLI::App& app) {
  auto* cmd = app.add_subcommand("parse", "Print the heads a model induces on sentences (text or CoNLL-U)");
  struct Opts {
    std::string model, tokenizer, format = "text";
    std::vector<std::string> sentences;
    bool links = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--model", o->model, "Checkpoint file or run directory")->required();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (default: the run's)");
  cmd->add_option("--format", o->format, "text or conllu")->check(CLI::IsMember({"text", "conllu"}))->capture_default_str();
  cmd->add_flag("--link-grammar", o->links, "Also show link-grammar's reference heads, mapped onto the tokens");
  cmd->add_option("sentences", o->sentences, "Sentences (default: one per line on stdin)");
  cmd->callback([o] {
    auto files = workspace::resolve_run(o->model, o->tokenizer);
    auto net = zoo::load_model(files.checkpoint);
    auto tok = make_workspace().load_tokenizer(files.tokenizer);
    workspace::check_model_fits_tokenizer(net->config().vocab_size, tok.vocab_size(), files.checkpoint, files.tokenizer);
    if (o->sentences.empty())
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) o->sentences.push_back(line);
    int id = 0;
    for (const auto& s : o->sentences) {
      auto h = eval::induce_heads(net, tok, s, o->links);
      std::fputs((o->format == "conllu" ? eval::heads_as_conllu(h, s, ++id) : eval::heads_as_text(h, s) + "\n").c_str(), stdout);
    }
  });
}

}  // namespace structlm::cli
