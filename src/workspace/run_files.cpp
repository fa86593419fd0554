#include "workspace/run_files.h"

#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "workspace/tokenizer_ref.h"
#include "workspace/workspace.h"

namespace structlm::workspace {

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
  const TokenizerRef ref(spec);  // a relative directory is relative to the checkpoint's
  if (!ref.is_directory() || fs::path(spec).is_absolute()) return spec;
  return Workspace::absolute((fs::path(checkpoint).parent_path() / spec).string());
}

}  // namespace

RunFiles resolve_run(const std::string& path, const std::string& tokenizer, bool require_tokenizer) {
  RunFiles f{Workspace::absolute(path), TokenizerRef(tokenizer).absolute().spec()};
  if (is_directory(path)) {
    const std::string dir = f.checkpoint;
    f.checkpoint = dir + "/checkpoints/latest.safetensors";
    check(file_exists(f.checkpoint), path, "run directory has no checkpoints/latest.safetensors (not trained yet?)");
    if (f.tokenizer.empty() && file_exists(dir + "/config.json")) {
      json cfg = load_json(dir + "/config.json");
      if (cfg.contains("data") && cfg["data"].contains("tokenizer") && cfg["data"]["tokenizer"].is_string())
        f.tokenizer = TokenizerRef(cfg["data"]["tokenizer"].get<std::string>()).anchored(dir).spec();
    }
  } else {
    check(file_exists(path), path, "no such checkpoint file or run directory");
    if (f.tokenizer.empty()) f.tokenizer = tokenizer_from_metadata(f.checkpoint);
  }
  if (f.tokenizer.empty() && require_tokenizer)
    throw Error(path + ": cannot tell which tokenizer this model uses; pass --tokenizer DIR (or '" + std::string(TokenizerRef::kGpt2) + "')");
  return f;
}

std::string tokenizer_reference(const std::string& checkpoint, const std::string& tokenizer) {
  if (!TokenizerRef(tokenizer).is_directory()) return tokenizer;
  const fs::path dir = fs::path(Workspace::absolute(checkpoint)).parent_path();
  const fs::path tok = Workspace::absolute(tokenizer);
  const fs::path rel = tok.lexically_relative(dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return tok.string();
}

}  // namespace structlm::workspace
