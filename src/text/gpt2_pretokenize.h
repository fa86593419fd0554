// GPT-2's pre-tokenisation: the text is cut into pieces by GPT-2's regex (PCRE2, JIT), and BPE
// then runs inside each piece only. Private to text/.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace structlm::text::detail {

// Walks the pieces of `text` in order; the pieces cover every byte exactly once. Invalid UTF-8
// never matches the regex (PCRE2_MATCH_INVALID_UTF), so each run of bytes that falls between two
// matches becomes a piece of its own: any byte string splits, and nothing is lost. For valid
// UTF-8 the pieces are exactly GPT-2's. Cheap to construct; one per call, per thread.
// A pre-tokenizer regex compiled with PCRE2 (UTF, Unicode properties, invalid UTF-8 let through).
// GPT-2's by default; Hugging Face tokenizer.json files name their own (Llama 3, Qwen2).
class Pattern {
 public:
  explicit Pattern(const std::string& regex);  // throws Error naming the offset of a bad regex
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;
  static const Pattern* get(const std::string& regex);  // compiled once per process, thread-safe
  static const Pattern* gpt2();
  const void* code() const { return code_; }  // pcre2_code*, kept out of this header
  bool jit() const { return jit_; }
 private:
  void* code_ = nullptr;
  bool jit_ = false;
};

class PreTokenizer {
 public:
  explicit PreTokenizer(std::string_view text, const Pattern* pattern = nullptr) : text_(text), pattern_(pattern) {}
  bool next(std::string_view& piece);

 private:
  std::string_view text_;
  const Pattern* pattern_;  // nullptr: GPT-2's
  std::size_t pos_ = 0;
  // A match found beyond an unmatched gap, returned after the gap.
  std::size_t pending_begin_ = 0, pending_end_ = 0;
  bool pending_ = false;
};

}  // namespace structlm::text::detail
