// structlm export: a structlm checkpoint -> a file another tool reads.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "workspace/run_files.h"
#include "workspace/tokenizer_ref.h"
#include "core/error.h"
#include "core/io.h"
#include "interop/convert.h"
#include "interop/gguf_llama.h"
#include "interop/hf_llama.h"
#include "model/checkpoint.h"
#include "zoo/zoo.h"

namespace structlm::cli {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string format_of(const std::string& out) {
  if (ends_with(out, ".gguf")) return "gguf";
  if (ends_with(out, ".bin")) return "llmc";
  if (ends_with(out, ".safetensors")) return "hf";
  fail(out, "cannot tell the format from the name (.gguf, .bin for llm.c, .safetensors for HF); pass --to");
}

// A Llama-family checkpoint goes out as a Hugging Face folder: --out names the folder, or its
// model.safetensors.
void export_llama(model::LlamaForCausalLM& net, const std::string& format, const std::string& out,
                  const std::string& tokenizer, interop::FloatType dtype, const std::string& name) {
  if (format == "gguf" || format == "hf") model::check_plain_llama(*net, out, format == "gguf" ? "GGUF" : "Hugging Face");
  if (format == "gguf") {
    if (!workspace::TokenizerRef(tokenizer).is_directory())
      fail(out, "a GGUF file carries its vocabulary: pass the model's tokenizer directory with --tokenizer");
    interop::export_gguf_llama(net, tokenizer, out, dtype, name.empty() ? std::filesystem::path(out).stem().string() : name);
    return;
  }
  if (format != "hf")
    fail(out, "a Llama-family model is exported as a Hugging Face folder (--to hf) or GGUF (--to gguf); llm.c's format is GPT-2 only");
  std::string path = out;
  if (ends_with(out, ".safetensors")) {
    if (std::filesystem::path(out).filename() != "model.safetensors")
      fail(out, "a Hugging Face folder holds its weights as model.safetensors; name that file or the folder");
  } else {
    std::filesystem::create_directories(out);
    path = (std::filesystem::path(out) / "model.safetensors").string();
  }
  const std::string tok_dir = workspace::TokenizerRef(tokenizer).is_directory() ? tokenizer : "";
  interop::export_hf_llama(net, tok_dir, path, dtype);
  const bool with_tok = !tok_dir.empty() && file_exists(tok_dir + "/tokenizer.json");
  std::printf("wrote config.json%s next to it\n", with_tok ? " and tokenizer.json" : "");
}

}  // namespace

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a structlm model as GGUF (llama.cpp), llm.c or Hugging Face GPT-2 files; a Llama-family model as a Hugging Face folder or GGUF");
  struct Opts {
    std::string to, model, out, dtype = "f32", tokenizer, tokenizer_out, name;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "Checkpoint (.safetensors) or run directory")->required();
  cmd->add_option("--to", o->to, "gguf, llmc or hf (default: from --out's extension)")
      ->check(CLI::IsMember({"gguf", "llmc", "hf"}));
  cmd->add_option("--out", o->out, "The file to write (.gguf, .bin, .safetensors); a Llama-family model: the folder, or its model.safetensors")->required();
  cmd->add_option("--dtype", o->dtype, "f32, f16 (GGUF, HF) or bf16 (llm.c, HF, GGUF)")->capture_default_str();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (default: the model's)");
  cmd->add_option("--tokenizer-out", o->tokenizer_out, "llm.c: tokenizer file [default: OUT's name + _tokenizer.bin]");
  cmd->add_option("--name", o->name, "GGUF general.name [default: OUT's file name]");
  cmd->callback([o] {
    const auto dtype = interop::parse_float_type(o->dtype, "--dtype");
    const auto found = workspace::resolve_run(o->model, o->tokenizer, /*require_tokenizer=*/false);
    auto loaded = zoo::load_any_model(found.checkpoint);
    if (loaded.arch == "llama") {
      const auto& files = found;
      // No extension: a folder.
      const std::string format = !o->to.empty()                  ? o->to
                                 : ends_with(o->out, ".gguf")    ? "gguf"
                                 : ends_with(o->out, ".bin")     ? "llmc"
                                                                 : "hf";
      export_llama(loaded.llama, format, o->out, files.tokenizer, dtype, o->name);
      std::printf("exported %s (%s) -> %s\n", files.checkpoint.c_str(), interop::float_type_name(dtype), o->out.c_str());
      return;
    }
    const std::string format = o->to.empty() ? format_of(o->out) : o->to;
    // GGUF files must carry their vocabulary; llm.c and HF files can go without one.
    auto files = workspace::resolve_run(o->model, o->tokenizer, /*require_tokenizer=*/format == "gguf");
    std::unique_ptr<text::Tokenizer> tok;
    if (!files.tokenizer.empty()) tok = std::make_unique<text::Tokenizer>(make_workspace().load_tokenizer(files.tokenizer));
    model::GPT net = loaded.gpt;
    if (tok) workspace::check_model_fits_tokenizer(net->config().vocab_size, tok->vocab_size(), files.checkpoint, files.tokenizer);
    const interop::GptTensors m = interop::tensors_of(net);
    const std::filesystem::path out(o->out);
    if (format == "gguf") {
      interop::export_gguf(m, *tok, o->out, dtype, o->name.empty() ? out.stem().string() : o->name);
    } else if (format == "llmc") {
      std::string tok_out = o->tokenizer_out;
      if (tok_out.empty() && tok) tok_out = (out.parent_path() / (out.stem().string() + "_tokenizer.bin")).string();
      interop::export_llmc(m, tok.get(), o->out, tok_out, dtype);
      if (!tok_out.empty()) std::printf("llm.c tokenizer: %s\n", tok_out.c_str());
    } else {
      interop::export_hf(m, tok.get(), o->out, dtype);
      std::printf("wrote config.json%s next to it\n", tok ? ", vocab.json and merges.txt" : "");
    }
    std::printf("exported %s (%s) -> %s\n", files.checkpoint.c_str(), interop::float_type_name(dtype), o->out.c_str());
  });
}

}  // namespace structlm::cli
