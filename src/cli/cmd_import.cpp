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
#include "interop/gguf_llama.h"
#include "interop/hf_llama.h"
#include "model/checkpoint.h"

namespace structlm::cli {

namespace {

std::string default_tokenizer_dir(const std::string& out) {
  std::filesystem::path p(out);
  return (p.parent_path() / (p.stem().string() + "-tokenizer")).string();
}

struct ImportOpts {
  std::string from, file, out, tokenizer_out, tokenizer, llmc_tokenizer;
  std::int64_t n_head = 0;
};

// A Llama-family model (from a Hugging Face folder or a GGUF llama file) and its tokenizer.
void save_llama(const ImportOpts& o, interop::ImportedLlama& imported, const std::string& tok_dir,
                const std::string& format) {
  std::string tokenizer = !o.tokenizer.empty() ? o.tokenizer : imported.wrote_tokenizer ? tok_dir : "";
  const auto& c = imported.model->config();
  if (!tokenizer.empty())
    workspace::check_model_fits_tokenizer(c.vocab_size, make_workspace().load_tokenizer(tokenizer).vocab_size(), o.file,
                                          tokenizer);
  json meta = {{"imported_from", {{"format", format}, {"file", o.file}}}};
  if (!tokenizer.empty()) meta["tokenizer"] = workspace::tokenizer_reference(o.out, tokenizer);
  model::save_checkpoint(o.out, imported.model, meta);
  std::printf("imported %s (%s): %lld layers, %lld heads (%lld key/value), %lld wide, head %lld, SwiGLU %lld, vocabulary "
              "%lld, context %lld, %s -> %s\n",
              c.model_type.c_str(), format.c_str(), (long long)c.num_hidden_layers, (long long)c.num_attention_heads,
              (long long)c.num_key_value_heads, (long long)c.hidden_size, (long long)c.head_dim,
              (long long)c.intermediate_size, (long long)c.vocab_size, (long long)c.max_position_embeddings,
              c.tie_word_embeddings ? "tied" : "untied", o.out.c_str());
  if (!imported.tokenizer_problem.empty())
    std::printf("the file's tokenizer was not taken: %s\n", imported.tokenizer_problem.c_str());
  if (tokenizer.empty())
    std::printf("no tokenizer recorded: pass --tokenizer DIR|gpt2 to eval and sample, or import again with --tokenizer\n");
  else
    std::printf("tokenizer: %s\n", tokenizer.c_str());
}

}  // namespace

void add_import(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "import", "Convert a GGUF (gpt2 or llama), llm.c or Hugging Face GPT-2 model, or a Hugging Face "
                "Llama/Mistral/Qwen2 folder, into a structlm checkpoint");
  auto o = std::make_shared<ImportOpts>();
  cmd->add_option("file", o->file,
                  "The model file (.gguf, llm.c .bin, HF GPT-2 .safetensors) or a Hugging Face Llama-family folder "
                  "(config.json, model.safetensors or its index and shards, tokenizer.json)")
      ->required();
  cmd->add_option("--from", o->from, "gguf, llmc or hf (default: detected from the file)")
      ->check(CLI::IsMember({"gguf", "llmc", "hf"}));
  cmd->add_option("--out", o->out, "The structlm checkpoint to write (.safetensors)")->required();
  cmd->add_option("--tokenizer-out", o->tokenizer_out,
                  "Where the file's own tokenizer goes (GGUF; HF vocab.json + merges.txt; a folder's tokenizer.json) [default: OUT's name + -tokenizer/]");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer directory or 'gpt2' to record for a file that carries none (llm.c, HF without vocab.json)");
  cmd->add_option("--llmc-tokenizer", o->llmc_tokenizer,
                  "llm.c tokenizer .bin to check the tokenizer against (default --tokenizer: gpt2)");
  cmd->add_option("--n-head", o->n_head, "Attention heads, for HF files without config.json");
  cmd->callback([o] {
    const std::string tok_dir = o->tokenizer_out.empty() ? default_tokenizer_dir(o->out) : o->tokenizer_out;
    if (std::filesystem::is_directory(o->file)) {
      if (!o->from.empty() && o->from != "hf") fail(o->file, "a folder is a Hugging Face model; --from " + o->from + " names a file format");
      auto imported = interop::import_hf_llama_folder(o->file, tok_dir);
      return save_llama(*o, imported, tok_dir, "hf-" + imported.model->config().model_type);
    }
    const std::string format = o->from.empty() ? formats::detect_model_format(o->file) : o->from;
    const std::string arch = format == "gguf" ? interop::gguf_architecture(o->file) : "";
    if (arch == "llama" || arch == "qwen2") {  // the Llama family's GGUF architectures
      auto imported = interop::import_gguf_llama(o->file, tok_dir);
      return save_llama(*o, imported, tok_dir, "gguf-" + arch);
    }
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
