// structlm import: another tool's model file -> a structlm checkpoint (+ its tokenizer).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "workspace/run_files.h"
#include "core/error.h"
#include "core/io.h"
#include "formats/detect.h"
#include "interop/convert.h"

namespace structlm::cli {

namespace {

std::string default_tokenizer_dir(const std::string& out) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "-tokenizer")).string();
}

}  // namespace

void add_import(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "Convert a GGUF, llm.c or Hugging Face GPT-2 model into a structlm checkpoint");
  struct Opts {
    std::string from, file, out, tokenizer_out, tokenizer, llmc_tokenizer;
    std::int64_t n_head = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("file", o->file, "The model file (.gguf, llm.c .bin, HF .safetensors)")->required();
  cmd->add_option("--from", o->from, "gguf, llmc or hf (default: detected from the file)")
      ->check(CLI::IsMember({"gguf", "llmc", "hf"}));
  cmd->add_option("--out", o->out, "The structlm checkpoint to write (.safetensors)")->required();
  cmd->add_option("--tokenizer-out", o->tokenizer_out,
                  "Where the file's own tokenizer goes (GGUF; HF vocab.json + merges.txt) [default: OUT's name + -tokenizer/]");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer directory or 'gpt2' to record for a file that carries none (llm.c, HF without vocab.json)");
  cmd->add_option("--llmc-tokenizer", o->llmc_tokenizer,
                  "llm.c tokenizer .bin to check the tokenizer against (default --tokenizer: gpt2)");
  cmd->add_option("--n-head", o->n_head, "Attention heads, for HF files without config.json");
  cmd->callback([o] {
    const std::string format = o->from.empty() ? formats::detect_model_format(o->file) : o->from;
    const std::string tok_dir = o->tokenizer_out.empty() ? default_tokenizer_dir(o->out) : o->tokenizer_out;
    interop::Imported imported;
    if (format == "gguf") imported = interop::import_gguf(o->file, tok_dir);
    else if (format == "hf") imported = interop::import_hf(o->file, o->n_head, tok_dir);
    else imported = interop::import_llmc(o->file);

    std::string tokenizer = imported.wrote_tokenizer ? tok_dir : o->tokenizer;
    if (format == "llmc" && !o->llmc_tokenizer.empty()) {
      if (tokenizer.empty()) tokenizer = "gpt2";
      interop::check_llmc_tokenizer(o->llmc_tokenizer, make_workspace().load_tokenizer(tokenizer));
    }
    if (!tokenizer.empty()) {
      workspace::check_model_fits_tokenizer(imported.model.config.vocab_size,
                                            make_workspace().load_tokenizer(tokenizer).vocab_size(), o->file, tokenizer);
    }
    json meta = {{"imported_from", {{"format", format}, {"file", o->file}}}};
    if (!tokenizer.empty()) meta["tokenizer"] = workspace::tokenizer_reference(o->out, tokenizer);
    interop::save_as_checkpoint(imported.model, o->out, meta, o->file);

    const auto& c = imported.model.config;
    std::printf("imported %s: %lld layers, %lld heads, %lld wide, vocabulary %lld, context %lld, %s -> %s\n",
                format.c_str(), (long long)c.n_layer, (long long)c.n_head, (long long)c.n_embd, (long long)c.vocab_size,
                (long long)c.block_size, c.tied ? "tied" : "untied", o->out.c_str());
    if (tokenizer.empty())
      std::printf("no tokenizer recorded: pass --tokenizer DIR|gpt2 to eval and sample, or import again with --tokenizer\n");
    else
      std::printf("tokenizer: %s\n", tokenizer.c_str());
  });
}

}  // namespace structlm::cli
