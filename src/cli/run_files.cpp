#include "cli/run_files.h"

#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/safetensors.h"

namespace structlm::cli {

namespace {

namespace fs = std::filesystem;

// The tokenizer a checkpoint's metadata names, resolved against the checkpoint's directory.
std::string tokenizer_from_metadata(const std::string& checkpoint) {
  formats::SafetensorsReader r(checkpoint);  // header only: the tensors stay mapped, unread
  auto it = r.metadata().find("tokenizer");
  if (it == r.metadata().end()) return "";
  std::string spec = it->second;
  try {  // metadata values are JSON text
    json j = json::parse(spec);
    if (!j.is_string()) return "";
    spec = j.get<std::string>();
  } catch (const json::exception&) {
  }
  if (spec.empty() || spec == "gpt2" || fs::path(spec).is_absolute()) return spec;
  return (fs::path(checkpoint).parent_path() / spec).lexically_normal().string();
}

}  // namespace

RunFiles resolve_run(const std::string& path, const std::string& tokenizer, bool require_tokenizer) {
  RunFiles f{path, tokenizer};
  if (is_directory(path)) {
    f.checkpoint = path + "/checkpoints/latest.safetensors";
    check(file_exists(f.checkpoint), path, "run directory has no checkpoints/latest.safetensors (not trained yet?)");
    if (f.tokenizer.empty() && file_exists(path + "/config.json")) {
      json cfg = load_json(path + "/config.json");
      if (cfg.contains("data") && cfg["data"].contains("tokenizer") && cfg["data"]["tokenizer"].is_string())
        f.tokenizer = cfg["data"]["tokenizer"].get<std::string>();
    }
  } else {
    check(file_exists(path), path, "no such checkpoint file or run directory");
    if (f.tokenizer.empty()) f.tokenizer = tokenizer_from_metadata(path);
  }
  if (f.tokenizer.empty() && require_tokenizer)
    throw Error(path + ": cannot tell which tokenizer this model uses; pass --tokenizer DIR (or 'gpt2')");
  return f;
}

std::string tokenizer_reference(const std::string& checkpoint, const std::string& tokenizer) {
  if (tokenizer.empty() || tokenizer == "gpt2") return tokenizer;
  const fs::path dir = fs::absolute(fs::path(checkpoint)).parent_path().lexically_normal();
  const fs::path tok = fs::absolute(fs::path(tokenizer)).lexically_normal();
  const fs::path rel = tok.lexically_relative(dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return tok.string();
}

}  // namespace structlm::cli
