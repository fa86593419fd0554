// SentencePiece-style BPE with byte fallback, as Hugging Face `tokenizers` encodes it (its BPE
// model with byte_fallback, behind a Prepend/Replace normaliser or a Metaspace pre-tokenizer:
// Llama 2, TinyLlama, Mistral v0.1). The pieces are cut and merged in bpe_encode.cpp's
// Tokenizer::encode, which calls these two.
#include <algorithm>
#include <climits>

#include "core/error.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

// Metaspace: every space becomes the replacement; the replacement goes in front unless the
// text starts with one already (prepend_scheme "always", and "first" for the first split of
// the text, which, special tokens never being split out here, is the whole text).
bool Tokenizer::Impl::metaspace_text(std::string_view text, std::string& out) const {
  if (metaspace.replacement.empty()) return false;
  const std::string_view r = metaspace.replacement;
  std::string s;
  const bool prepend = metaspace.prepend != MetaspaceSpec::Prepend::kNever && !text.empty() &&
                       text.find(' ') != 0 && text.substr(0, r.size()) != r;
  if (!prepend && text.find(' ') == std::string_view::npos) return false;
  s.reserve(text.size() + text.size() / 4 + r.size());
  if (prepend) s += r;
  s += detail::replace_all(text, " ", r);
  out = std::move(s);
  return true;
}

namespace {

// `tokenizers`' Merge ordering: a min-heap on (rank, position).
bool later(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

// tokenizers' BPE::merge_word + Word::merge_all, step for step. Symbols: each character that is
// a vocabulary entry, else its UTF-8 bytes as <0xXX> tokens (bytes that are not valid UTF-8,
// which a Rust string cannot hold, are byte tokens too). Then the lowest (rank, position) pair
// is merged, one at a time: unlike GPT-2's bpe() (bpe_encode.cpp), a pair created by a merge
// competes at once, even with the other occurrences of the pair just merged. A queued pair is
// stale when its left symbol died or was merged away, or when the pair now there merges into
// another token than the one queued (tokenizers compares the new id only, and so does this).
void Tokenizer::Impl::sp_bpe(std::string_view piece, std::vector<TokenId>& out, BpeScratch& s) const {
  if (piece.size() > std::size_t(INT32_MAX))
    fail("encode", "a single pre-token of " + std::to_string(piece.size()) + " bytes is too long");
  if (ignore_merges) {
    auto whole = piece_ids.find(std::string(piece));
    if (whole != piece_ids.end()) {
      out.push_back(whole->second);
      return;
    }
  }
  s.symbol.clear();
  for (std::size_t i = 0; i < piece.size();) {
    const std::size_t n = detail::utf8_char_length(piece.substr(i));
    TokenId id = kDead;
    if (n == 1) {
      id = ascii_ids[static_cast<unsigned char>(piece[i])];
    } else if (n > 1) {
      auto it = char_ids.find(char_key(piece.substr(i, n)));
      if (it != char_ids.end()) id = it->second;
    }
    if (id != kDead) {
      s.symbol.push_back(id);
      i += n;
      continue;
    }
    for (std::size_t k = 0; k < std::max<std::size_t>(n, 1); ++k)
      s.symbol.push_back(byte_ids[static_cast<unsigned char>(piece[i + k])]);
    i += std::max<std::size_t>(n, 1);
  }
  const std::int32_t count = std::int32_t(s.symbol.size());
  s.prev.resize(count);
  s.next.resize(count);
  s.heap.clear();
  for (std::int32_t i = 0; i < count; ++i) {
    s.prev[i] = i - 1;
    s.next[i] = i + 1 < count ? i + 1 : -1;
  }
  for (std::int32_t i = 0; i + 1 < count; ++i)
    if (const detail::Merge* m = merge_table.find(s.symbol[i], s.symbol[i + 1]))
      s.heap.push_back({m->rank, i, s.symbol[i], s.symbol[i + 1], m->merged});
  std::make_heap(s.heap.begin(), s.heap.end(), later);
  auto push = [&](std::int32_t left) {
    const std::int32_t right = s.next[left];
    if (right < 0) return;
    if (const detail::Merge* m = merge_table.find(s.symbol[left], s.symbol[right])) {
      s.heap.push_back({m->rank, left, s.symbol[left], s.symbol[right], m->merged});
      std::push_heap(s.heap.begin(), s.heap.end(), later);
    }
  };
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    const BpeScratch::Candidate top = s.heap.back();
    s.heap.pop_back();
    if (s.symbol[top.pos] == kDead) continue;
    const std::int32_t right = s.next[top.pos];
    if (right < 0) continue;
    const detail::Merge* m = merge_table.find(s.symbol[top.pos], s.symbol[right]);
    if (!m || m->merged != top.merged) continue;
    s.symbol[top.pos] = top.merged;
    s.symbol[right] = kDead;
    s.next[top.pos] = s.next[right];
    if (s.next[right] >= 0) s.prev[s.next[right]] = top.pos;
    if (s.prev[top.pos] >= 0) push(s.prev[top.pos]);
    push(top.pos);
  }
  if (count == 0) return;
  for (std::int32_t i = 0; i >= 0; i = s.next[i]) out.push_back(s.symbol[i]);
}

}  // namespace structlm::text
