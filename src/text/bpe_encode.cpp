// Encoding: normalise (tokenizer.json's normaliser, if any), pre-tokenise with GPT-2's regex (or
// the file's), then byte-level BPE inside each piece, with a per-thread cache of finished pieces
// (natural text repeats its words: most pieces are hits). The SentencePiece kind (sp_encode.cpp)
// cuts its pieces at Metaspace's replacement character instead, and shares the cache.
#include <algorithm>
#include <climits>

#include "core/error.h"
#include "text/gpt2_pretokenize.h"
#include "text/string_table.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

namespace {

bool later(const BpeScratch::Candidate& a, const BpeScratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

// GPT-2's bpe() repeatedly takes the lowest-ranked adjacent pair and merges *all* its
// occurrences left to right, then looks again. Done literally that is quadratic in the piece
// length, and pieces can be long (CJK text has no spaces, whitespace runs, base64...). Here a
// min-heap of candidate pairs ordered by (rank, position) gives the same result in O(n log n):
// one "pass" pops every candidate of the lowest rank in position order; candidates that a merge
// creates during the pass are held back until the pass ends, because GPT-2 only looks at them
// after it has merged all occurrences of the current pair. Stale candidates (a symbol changed
// or died) are recognised by their recorded ids and dropped.
void Tokenizer::Impl::bpe(std::string_view piece, std::vector<TokenId>& out,
                          BpeScratch& s) const {
  if (piece.size() > std::size_t(INT32_MAX))
    fail("encode", "a single pre-token of " + std::to_string(piece.size()) + " bytes is too long");
  if (ignore_merges) {
    auto whole = whole_ids.find(std::string(piece));
    if (whole != whole_ids.end()) {
      out.push_back(whole->second);
      return;
    }
  }
  const std::int32_t n = std::int32_t(piece.size());
  s.symbol.resize(n);
  s.prev.resize(n);
  s.next.resize(n);
  s.heap.clear();
  for (std::int32_t i = 0; i < n; ++i) {
    s.symbol[i] = byte_ids[static_cast<unsigned char>(piece[i])];
    s.prev[i] = i - 1;
    s.next[i] = i + 1 < n ? i + 1 : -1;
  }
  for (std::int32_t i = 0; i + 1 < n; ++i)
    if (const detail::Merge* m = merge_table.find(s.symbol[i], s.symbol[i + 1]))
      s.heap.push_back({m->rank, i, s.symbol[i], s.symbol[i + 1], m->merged});
  std::make_heap(s.heap.begin(), s.heap.end(), later);

  auto consider = [&](std::int32_t left) {
    const std::int32_t right = s.next[left];
    if (right < 0) return;
    if (const detail::Merge* m = merge_table.find(s.symbol[left], s.symbol[right]))
      s.deferred.push_back({m->rank, left, s.symbol[left], s.symbol[right], m->merged});
  };
  while (!s.heap.empty()) {
    const std::uint32_t rank = s.heap.front().rank;
    s.deferred.clear();
    while (!s.heap.empty() && s.heap.front().rank == rank) {
      std::pop_heap(s.heap.begin(), s.heap.end(), later);
      const BpeScratch::Candidate c = s.heap.back();
      s.heap.pop_back();
      const std::int32_t right = s.next[c.pos];
      if (s.symbol[c.pos] != c.left || right < 0 || s.symbol[right] != c.right) continue;
      s.symbol[c.pos] = c.merged;
      s.symbol[right] = kDead;
      s.next[c.pos] = s.next[right];
      if (s.next[right] >= 0) s.prev[s.next[right]] = c.pos;
      if (s.prev[c.pos] >= 0) consider(s.prev[c.pos]);
      consider(c.pos);
    }
    for (const BpeScratch::Candidate& c : s.deferred) {
      s.heap.push_back(c);
      std::push_heap(s.heap.begin(), s.heap.end(), later);
    }
  }
  for (std::int32_t i = 0; i >= 0; i = s.next[i]) out.push_back(s.symbol[i]);
}

namespace {

// Finished pieces of one tokenizer, on one thread. Several slots, so that a thread switching
// between two tokenizers (GPT-2's and a trained one) does not wipe its cache each time.
struct EncodeCache {
  std::uint64_t owner = 0;
  std::uint64_t last_use = 0;
  detail::StringTable pieces;  // piece -> its token ids
};

struct ThreadCaches {
  std::array<EncodeCache, 4> slots;
  std::uint64_t clock = 0;
  BpeScratch scratch;
};

// Long pieces rarely repeat and would crowd out the words that do.
constexpr std::size_t kMaxCachedPiece = 64;
// Bounds each cache's memory; natural text reaches a steady state far below this.
constexpr std::size_t kMaxCachedBytes = std::size_t(32) << 20;

ThreadCaches& thread_caches() {
  thread_local ThreadCaches caches;
  return caches;
}

EncodeCache& cache_for(ThreadCaches& tc, std::uint64_t instance) {
  EncodeCache* victim = &tc.slots[0];
  for (EncodeCache& c : tc.slots) {
    if (c.owner == instance) {
      c.last_use = ++tc.clock;
      return c;
    }
    if (c.last_use < victim->last_use) victim = &c;
  }
  // Instance numbers are never reused, so a slot can never serve a destroyed tokenizer's
  // results to a new one that happens to live at the same address.
  victim->pieces.clear();
  victim->owner = instance;
  victim->last_use = ++tc.clock;
  return *victim;
}


// A SentencePiece-style text cut into pieces: the whole text, or with Metaspace's split a new
// piece before every replacement character (tokenizers' MergedWithNext: the delimiter begins
// the piece that follows it).
class MetaspacePieces {
 public:
  MetaspacePieces(std::string_view text, std::string_view replacement, bool split)
      : text_(text), r_(replacement), split_(split) {}
  bool next(std::string_view& piece) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.size();
    if (split_) {
      const std::size_t at = text_.find(r_, text_.compare(pos_, r_.size(), r_) == 0 ? pos_ + r_.size() : pos_);
      if (at != std::string_view::npos) end = at;
    }
    piece = text_.substr(pos_, end - pos_);
    pos_ = end;
    return true;
  }

 private:
  std::string_view text_, r_;
  bool split_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<TokenId> Tokenizer::encode(std::string_view text) const {
  if (!impl_ || impl_->strings.empty()) fail("encode", "the tokenizer is empty (load or train one)");
  const Impl& im = *impl_;
  ThreadCaches& tc = thread_caches();
  EncodeCache& cache = cache_for(tc, im.instance);
  // The normaliser (tokenizer.json: NFC, or a SentencePiece file's Prepend and Replace), then
  // Metaspace's replacement and prepend: the encoder works on that text.
  std::string normalized, spaced;
  if (!im.normalizer.empty() && detail::normalize(text, im.normalizer, normalized)) text = normalized;
  if (im.sentencepiece && im.metaspace_text(text, spaced)) text = spaced;

  std::vector<TokenId> out;
  out.reserve(text.size() / 4 + 16);
  auto run_bpe = [&](std::string_view piece) {
    if (im.sentencepiece) im.sp_bpe(piece, out, tc.scratch);
    else im.bpe(piece, out, tc.scratch);
  };
  auto encode_piece = [&](std::string_view piece, std::uint64_t h) {
    if (piece.size() == 1 && !im.sentencepiece) {
      out.push_back(im.byte_ids[static_cast<unsigned char>(piece[0])]);
      return;
    }
    if (piece.size() > kMaxCachedPiece) {
      run_bpe(piece);
      return;
    }
    std::uint32_t n = 0;
    if (const std::uint32_t* ids = cache.pieces.find(piece, h, n)) {
      out.insert(out.end(), ids, ids + n);
      return;
    }
    const std::size_t first = out.size();
    run_bpe(piece);
    if (cache.pieces.memory_bytes() > kMaxCachedBytes) cache.pieces.clear();
    cache.pieces.insert(piece, h, out.data() + first, std::uint32_t(out.size() - first));
  };
  if (im.sentencepiece) {
    MetaspacePieces sp_pieces(text, im.metaspace.replacement, !im.metaspace.replacement.empty() && im.metaspace.split);
    std::string_view piece;
    while (sp_pieces.next(piece))
      encode_piece(piece, piece.size() <= kMaxCachedPiece ? detail::StringTable::hash(piece) : 0);
    return out;
  }
  // Pieces are cut a batch ahead and their cache lookups prefetched in two stages (slot, then
  // record): on a real corpus the cache outgrows the CPU caches, and overlapping the misses of
  // a batch instead of paying them one after another is worth about a third of the run time.
  struct Piece {
    std::string_view text;
    std::uint64_t hash;
  };
  constexpr std::size_t kBatch = 16;
  Piece batch[kBatch];
  detail::PreTokenizer pieces(text, im.pattern);
  for (bool more = true; more;) {
    std::size_t k = 0;
    std::string_view piece;
    while (k < kBatch && (more = pieces.next(piece))) {
      const bool cached = piece.size() > 1 && piece.size() <= kMaxCachedPiece;
      batch[k] = {piece, cached ? detail::StringTable::hash(piece) : 0};
      if (cached) cache.pieces.prefetch_slot(batch[k].hash);
      ++k;
    }
    for (std::size_t i = 0; i < k; ++i)
      if (batch[i].text.size() > 1 && batch[i].text.size() <= kMaxCachedPiece)
        cache.pieces.prefetch_record(batch[i].hash);
    for (std::size_t i = 0; i < k; ++i) encode_piece(batch[i].text, batch[i].hash);
  }
  return out;
}

}  // namespace structlm::text
