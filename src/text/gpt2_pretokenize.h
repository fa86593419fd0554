// GPT-2's pre-tokenisation: the text is cut into pieces by GPT-2's regex (PCRE2, JIT), and BPE
// then runs inside each piece only. Private to text/.
#pragma once
#include <cstddef>
#include <string_view>

namespace structlm::text::detail {

// Walks the pieces of `text` in order; the pieces cover every byte exactly once. Invalid UTF-8
// never matches the regex (PCRE2_MATCH_INVALID_UTF), so each run of bytes that falls between two
// matches becomes a piece of its own: any byte string splits, and nothing is lost. For valid
// UTF-8 the pieces are exactly GPT-2's. Cheap to construct; one per call, per thread.
class PreTokenizer {
 public:
  explicit PreTokenizer(std::string_view text) : text_(text) {}
  bool next(std::string_view& piece);

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  // A match found beyond an unmatched gap, returned after the gap.
  std::size_t pending_begin_ = 0, pending_end_ = 0;
  bool pending_ = false;
};

}  // namespace structlm::text::detail
