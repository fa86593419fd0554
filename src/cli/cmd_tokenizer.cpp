// structlm tokenizer train|encode|decode: byte-level BPE in GPT-2's file format.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "core/error.h"
#include "core/io.h"

namespace structlm::cli {

static void add_train_tokenizer(CLI::App& parent) {
  auto* cmd = parent.add_subcommand("train", "Learn a byte-level BPE vocabulary from corpora's train splits");
  struct Opts {
    std::vector<std::string> corpora;
    std::string data_dir, out;
    std::size_t vocab_size = 4096;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("corpus", o->corpora, "Corpora whose train split to learn from")->required();
  cmd->add_option("--out", o->out, "Output directory (encoder.json + vocab.bpe)")->required();
  cmd->add_option("--vocab-size", o->vocab_size, "Vocabulary size, bytes and <|endoftext|> included")
      ->capture_default_str()
      ->check(CLI::Range(257, 1 << 20));
  add_data_dir_option(cmd, o->data_dir);
  cmd->callback([o] {
    const auto ws = make_workspace(o->data_dir);
    std::vector<std::string> docs;
    for (const auto& spec : o->corpora)
      for (auto& d : ws.prepare_corpus(spec).train) docs.push_back(std::move(d.text));
    text::BpeTrainOptions opts;
    opts.vocab_size = o->vocab_size;
    auto tok = text::Tokenizer::train(docs, opts);
    tok.save(o->out);
    std::printf("tokenizer: %zu tokens -> %s\n", tok.vocab_size(), o->out.c_str());
  });
}

static std::string read_input(const std::string& text, const std::string& file) {
  if (!file.empty()) return file == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(file);
  return text;
}

void add_tokenizer(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenizer", "Train, apply and invert byte-level BPE tokenizers");
  cmd->require_subcommand(1);
  add_train_tokenizer(*cmd);

  struct Opts {
    std::string tokenizer, text, file;
    std::vector<text::TokenId> ids;
  };
  auto o = std::make_shared<Opts>();
  auto* enc = cmd->add_subcommand("encode", "Print the token ids of a text");
  enc->add_option("--tokenizer", o->tokenizer, "Tokenizer directory, or 'gpt2'")->required();
  enc->add_option("--text", o->text, "Text to encode");
  enc->add_option("--file", o->file, "File to encode ('-' for stdin)");
  enc->callback([o] {
    auto tok = make_workspace().load_tokenizer(o->tokenizer);
    auto ids = tok.encode(read_input(o->text, o->file));
    for (std::size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %u" : "%u", ids[i]);
    std::printf("\n");
  });

  auto* dec = cmd->add_subcommand("decode", "Print the text of token ids");
  dec->add_option("--tokenizer", o->tokenizer, "Tokenizer directory, or 'gpt2'")->required();
  dec->add_option("ids", o->ids, "Token ids")->required();
  dec->callback([o] {
    auto tok = make_workspace().load_tokenizer(o->tokenizer);
    for (auto id : o->ids)
      if (id >= tok.vocab_size())
        throw Error("decode: token id " + std::to_string(id) + " is outside the vocabulary (size " +
                    std::to_string(tok.vocab_size()) + ")");
    std::string s = tok.decode(o->ids);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::printf("\n");
  });
}

}  // namespace structlm::cli
