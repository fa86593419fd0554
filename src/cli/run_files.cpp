#include "cli/run_files.h"

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"

namespace structlm::cli {

RunFiles resolve_run(const std::string& path, const std::string& tokenizer) {
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
  }
  if (f.tokenizer.empty())
    throw Error(path + ": cannot tell which tokenizer this model uses; pass --tokenizer DIR (or 'gpt2')");
  return f;
}

}  // namespace structlm::cli
