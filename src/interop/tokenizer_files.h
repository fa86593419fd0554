// GPT-2 tokenizer files (encoder.json + vocab.bpe) from the token strings and merges that other
// formats carry, validated by loading them back with structlm's own tokenizer.
#pragma once
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace structlm::interop {

// tokens: GPT-2 token strings ("Ġthe") by id; merges: "left right" in rank order. Writes both
// files into `dir` (created) and returns the loaded tokenizer; a vocabulary that is not a GPT-2
// byte-level BPE is an error naming `source`.
text::Tokenizer write_gpt2_tokenizer(const std::string& dir, const std::vector<std::string>& tokens,
                                     const std::vector<std::string>& merges, const std::string& source);

// The two files' text: encoder.json (token string -> id) and vocab.bpe ("#version: 0.2", then
// one merge per line). Hugging Face names the same files vocab.json and merges.txt.
std::string encoder_json_text(const std::vector<std::string>& tokens, const std::string& source);
std::string vocab_bpe_text(const std::vector<std::string>& merges, const std::string& source);
std::vector<std::string> token_strings(const text::Tokenizer& tok);

// The tokenizer's merges as "left right" strings, rank order.
std::vector<std::string> merge_strings(const text::Tokenizer& tok);

}  // namespace structlm::interop
