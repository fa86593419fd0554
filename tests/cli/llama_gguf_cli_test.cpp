// `structlm import` of llama.cpp's qwen2 GGUF and of a llama GGUF with a SentencePiece
// vocabulary (scripts/reference/llama_ref.py's converter-style files, issue 16): the model and
// the tokenizer the file carries score a corpus exactly as the reference's Hugging Face folder,
// imported, does; `export --out x.gguf` and import again give the same loss.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"
#include "support/temp_dir.h"

namespace {

using cli_test::run;
using cli_test::run_shell;

class CliLlamaGguf : public ::testing::TestWithParam<const char*> {
 protected:
  std::string path(const std::string& name) const { return tmp / name; }
  structlm::test_util::TempDir tmp;
};

// Templated sentences with digits, punctuation and a non-ASCII word (byte fallback for the
// SentencePiece vocabulary, NFC for Qwen2's).
std::string write_corpus(const std::string& path) {
  const char* nouns[] = {"cat", "dog", "tree", "tent", "rain", "song"};
  std::string out;
  for (int d = 0; d < 12; ++d) {
    std::string doc;
    for (int s = 0; s < 20; ++s)
      doc += std::string("the ") + nouns[(d + s) % 6] + " sat on the " + nouns[(s * 5 + d) % 6] + " " +
             std::to_string(d * 37 + s) + " times, caf\u00e9! ";
    out += structlm::json({{"id", "doc" + std::to_string(d)}, {"text", doc}}).dump() + "\n";
  }
  structlm::write_file_atomic(path, out);
  return path;
}

TEST_P(CliLlamaGguf, ImportsTheFileAsItsHuggingFaceFolder) {
  const std::string arch = GetParam();
  auto r = run_shell("/usr/bin/python3 " STRUCTLM_SOURCE_DIR "/scripts/reference/llama_ref.py make --arch " + arch +
                     " --seed 5 --out " + path("ref"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string corpus = write_corpus(path("c.jsonl"));
  int evals = 0;
  auto loss_of = [&](const std::string& model) {
    const std::string n = std::to_string(evals++);
    const auto e = run("eval " + model + " --corpus " + corpus + " --data-dir " + path("data" + n) +
                       " --context 64 --max-tokens 3000 --no-xz --json " + path("e" + n + ".json"));
    EXPECT_EQ(e.code, 0) << e.out;
    return e.code == 0 ? structlm::load_json(path("e" + n + ".json"))["corpora"][0]["loss"].get<double>() : NAN;
  };

  const std::string type = arch == "qwen2" ? "qwen2" : "llama";
  r = run("import " + path("ref/model.gguf") + " --out " + path("g.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("imported " + type + " (gguf-" + type + ")"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(path("g-tokenizer/tokenizer.json"))) << r.out;
  r = run("import " + path("ref/hf") + " --out " + path("h.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  const double from_gguf = loss_of(path("g.safetensors")), from_folder = loss_of(path("h.safetensors"));
  EXPECT_GT(from_folder, 1.0);  // a random model: about log(vocabulary), or worse
  EXPECT_NEAR(from_gguf, from_folder, 1e-9 * from_folder);

  r = run("export " + path("g.safetensors") + " --out " + path("x.gguf"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("import " + path("x.gguf") + " --out " + path("x.safetensors"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NEAR(loss_of(path("x.safetensors")), from_folder, 1e-9 * from_folder);
}

// qwen2: GGUF architecture qwen2 with Qwen2's byte-level vocabulary; llama2: a llama file with a
// SentencePiece vocabulary.
INSTANTIATE_TEST_SUITE_P(Archs, CliLlamaGguf, ::testing::Values("qwen2", "llama2"));

}  // namespace
