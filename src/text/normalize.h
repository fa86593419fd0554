// Hugging Face tokenizer.json normalisers this reader implements (NFC, Prepend, Replace of a
// string), and the UTF-8 scanning they and the SentencePiece-style encoder share. Private to text/.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace structlm::text::detail {

// The length of the UTF-8 character that starts `s` when it is one valid Unicode scalar value
// (shortest form, no surrogate, at most U+10FFFF: what a Rust &str may hold), else 0.
std::size_t utf8_char_length(std::string_view s);

// Unicode NFC (ICU's Normalizer2). Text that is not valid UTF-8 is normalised run by run: each
// maximal valid run on its own, every invalid byte kept as it is (Hugging Face `tokenizers` only
// ever sees valid text). False, and `out` untouched, when the text is NFC already.
bool nfc(std::string_view text, std::string& out);

// One step of a normaliser, applied in file order as `tokenizers` does:
//   Nfc;  Prepend(a): a + text unless the text is empty;  Replace(a -> b): every occurrence of
//   the string a, left to right, without overlaps.
struct NormalizerStep {
  enum Kind { kNfc, kPrepend, kReplace } kind;
  std::string a, b;
};

// The text after every step; false (and `out` untouched) when no step changed it.
bool normalize(std::string_view text, const std::vector<NormalizerStep>& steps, std::string& out);

// Every occurrence of `from` (non-empty) replaced by `to`, left to right, without overlaps.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

}  // namespace structlm::text::detail
