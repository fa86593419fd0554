#include "interop/tokenizer_files.h"

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"

namespace structlm::interop {

std::string encoder_json_text(const std::vector<std::string>& tokens, const std::string& source) {
  json encoder = json::object();
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (encoder.contains(tokens[id])) fail(source, "tokenizer: token " + std::to_string(id) + " appears twice");
    encoder[tokens[id]] = id;
  }
  try {
    return encoder.dump();
  } catch (const json::exception&) {
    fail(source, "tokenizer: a token is not valid UTF-8 (not a GPT-2 byte-level vocabulary)");
  }
}

std::string vocab_bpe_text(const std::vector<std::string>& merges, const std::string& source) {
  std::string bpe = "#version: 0.2\n";
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const std::string& m = merges[r];
    const auto space = m.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == m.size() || m.find(' ', space + 1) != std::string::npos ||
        m.find('\n') != std::string::npos)
      fail(source, "tokenizer: merge " + std::to_string(r) + " is not two tokens separated by one space");
    bpe += m + "\n";
  }
  return bpe;
}

text::Tokenizer write_gpt2_tokenizer(const std::string& dir, const std::vector<std::string>& tokens,
                                     const std::vector<std::string>& merges, const std::string& source) {
  const std::string encoder = encoder_json_text(tokens, source);
  const std::string bpe = vocab_bpe_text(merges, source);
  make_dirs(dir);
  write_file_atomic(dir + "/encoder.json", encoder);
  write_file_atomic(dir + "/vocab.bpe", bpe);
  try {
    return text::Tokenizer::load(dir);
  } catch (const Error& e) {
    fail(source, std::string("its tokenizer is not a GPT-2 byte-level BPE structlm can use: ") + e.what());
  }
}

std::vector<std::string> token_strings(const text::Tokenizer& tok) {
  std::vector<std::string> out;
  out.reserve(tok.vocab_size());
  for (std::size_t id = 0; id < tok.vocab_size(); ++id) out.push_back(tok.token_string(static_cast<text::TokenId>(id)));
  return out;
}

std::vector<std::string> merge_strings(const text::Tokenizer& tok) {
  std::vector<std::string> out;
  out.reserve(tok.merges().size());
  for (const auto& [a, b] : tok.merges()) out.push_back(a + " " + b);
  return out;
}

}  // namespace structlm::interop
