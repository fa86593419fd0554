// BPE training, GPT-2 style: documents are cut with GPT-2's regex, identical pieces ("words")
// are counted once, and the most frequent adjacent pair is merged until the vocabulary is full.
// Pair counts are kept up to date incrementally: a merge only revisits the words that contain
// the merged pair, so each step costs in proportion to those words, not to the corpus.
#include <algorithm>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "core/progress.h"
#include "text/byte_alphabet.h"
#include "text/gpt2_pretokenize.h"
#include "text/string_table.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

namespace {

std::uint64_t pair_key(TokenId l, TokenId r) { return (std::uint64_t(l) << 32) | r; }

// Every distinct piece of the corpus, as a symbol sequence that shrinks as merges apply.
struct Words {
  std::vector<TokenId> symbols;  // all words back to back
  std::vector<std::size_t> start;
  std::vector<std::uint32_t> length;
  std::vector<std::int64_t> count;  // occurrences in the corpus
};

Words count_words(const std::vector<std::string>& documents, const std::array<TokenId, 256>& byte_id) {
  // piece -> occurrences, keys in first-seen order (so everything downstream is deterministic)
  detail::StringTable table;
  for (const std::string& doc : documents) {
    detail::PreTokenizer pieces(doc);
    std::string_view piece;
    while (pieces.next(piece)) {
      const std::uint64_t h = detail::StringTable::hash(piece);
      std::uint32_t n = 0;
      if (std::uint32_t* count = table.find(piece, h, n)) {
        if (*count == ~0u) fail("train", "a word occurs more than 2^32 times");
        ++*count;
        continue;
      }
      const std::uint32_t one = 1;
      if (!table.insert(piece, h, &one, 1))
        fail("train", "too many distinct words (over 16 GB of them)");
    }
  }
  Words w;
  table.for_each([&](std::string_view key, const std::uint32_t* count, std::uint32_t) {
    w.start.push_back(w.symbols.size());
    w.length.push_back(std::uint32_t(key.size()));
    w.count.push_back(*count);
    for (unsigned char c : key) w.symbols.push_back(byte_id[c]);
  });
  return w;
}

struct PairStat {
  std::int64_t count = 0;
  std::vector<std::uint32_t> words;  // words that contained the pair at some point (may be stale)
};

// A heap entry. Entries go stale when counts change; they are checked against the live count
// when they reach the top.
struct Candidate {
  std::int64_t count;
  TokenId left, right;
  // Most frequent first; ties go to the smaller (left id, right id), which makes training a
  // pure function of the documents and the options.
  bool operator<(const Candidate& o) const {
    if (count != o.count) return count < o.count;
    if (left != o.left) return left > o.left;
    return right > o.right;
  }
};

class Trainer {
 public:
  Trainer(Words words) : w_(std::move(words)), visited_(w_.count.size(), ~0u) {
    for (std::uint32_t wi = 0; wi < w_.count.size(); ++wi) {
      const TokenId* s = &w_.symbols[w_.start[wi]];
      for (std::uint32_t i = 0; i + 1 < w_.length[wi]; ++i) add(s[i], s[i + 1], w_.count[wi], wi);
    }
    for (const auto& [key, stat] : pairs_)
      heap_.push({stat.count, TokenId(key >> 32), TokenId(key & 0xFFFFFFFFu)});
  }

  // The most frequent live pair, or false when none is at least `min_count` frequent.
  bool best(std::int64_t min_count, TokenId& left, TokenId& right) {
    while (!heap_.empty()) {
      Candidate c = heap_.top();
      heap_.pop();
      auto it = pairs_.find(pair_key(c.left, c.right));
      const std::int64_t live = it == pairs_.end() ? 0 : it->second.count;
      if (live != c.count) {
        // Increases were pushed when they happened; only a decrease needs a fresh entry.
        if (live > 0 && live < c.count) heap_.push({live, c.left, c.right});
        continue;
      }
      if (c.count < min_count) return false;
      left = c.left;
      right = c.right;
      return true;
    }
    return false;
  }

  // Replaces every occurrence of (a, b) by `merged`, in every word that has one.
  void merge(TokenId a, TokenId b, TokenId merged) {
    auto it = pairs_.find(pair_key(a, b));
    std::vector<std::uint32_t> words = std::move(it->second.words);
    pairs_.erase(it);
    merging_ = pair_key(a, b);
    ++step_;
    touched_.clear();
    for (std::uint32_t wi : words) {
      if (visited_[wi] == step_) continue;  // listed more than once
      visited_[wi] = step_;
      merge_in_word(wi, a, b, merged);
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (std::uint64_t key : touched_) {
      auto p = pairs_.find(key);
      if (p != pairs_.end() && p->second.count > 0)
        heap_.push({p->second.count, TokenId(key >> 32), TokenId(key & 0xFFFFFFFFu)});
    }
  }

 private:
  void add(TokenId l, TokenId r, std::int64_t n, std::uint32_t word) {
    PairStat& st = pairs_[pair_key(l, r)];
    st.count += n;
    if (st.words.empty() || st.words.back() != word) st.words.push_back(word);
  }
  void remove(TokenId l, TokenId r, std::int64_t n) {
    const std::uint64_t key = pair_key(l, r);
    if (key == merging_) return;  // already dropped as a whole
    auto it = pairs_.find(key);
    if (it == pairs_.end()) return;
    it->second.count -= n;
    if (it->second.count <= 0) pairs_.erase(it);  // no word holds it: its word list is stale
  }
  void gain(TokenId l, TokenId r, std::int64_t n, std::uint32_t word) {
    add(l, r, n, word);
    touched_.push_back(pair_key(l, r));
  }

  // Left to right, non-overlapping, like the encoder. Neighbour pairs are updated against the
  // already rewritten prefix, so runs like "a b a b" or "a a a" come out exact.
  void merge_in_word(std::uint32_t wi, TokenId a, TokenId b, TokenId merged) {
    TokenId* s = &w_.symbols[w_.start[wi]];
    const std::uint32_t n = w_.length[wi];
    const std::int64_t f = w_.count[wi];
    std::uint32_t out = 0;
    for (std::uint32_t i = 0; i < n;) {
      if (i + 1 < n && s[i] == a && s[i + 1] == b) {
        if (out > 0) {
          remove(s[out - 1], a, f);
          gain(s[out - 1], merged, f, wi);
        }
        if (i + 2 < n) {
          remove(b, s[i + 2], f);
          gain(merged, s[i + 2], f, wi);
        }
        s[out++] = merged;
        i += 2;
      } else {
        s[out++] = s[i++];
      }
    }
    w_.length[wi] = out;
  }

  Words w_;
  std::unordered_map<std::uint64_t, PairStat> pairs_;
  std::priority_queue<Candidate> heap_;
  std::vector<std::uint32_t> visited_;  // per word: the last merge step that rewrote it
  std::uint32_t step_ = 0;
  std::uint64_t merging_ = ~std::uint64_t(0);
  std::vector<std::uint64_t> touched_;
};

}  // namespace

Tokenizer Tokenizer::train(const std::vector<std::string>& documents, const BpeTrainOptions& opts) {
  if (opts.vocab_size < 257)
    fail("vocab_size", "must be at least 257 (256 byte tokens and <|endoftext|>), got " +
                           std::to_string(opts.vocab_size));
  if (opts.vocab_size > (std::size_t(1) << 31))
    fail("vocab_size", "must be at most 2^31, got " + std::to_string(opts.vocab_size));

  Tokenizer t;
  Impl& im = *t.impl_;
  const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
  std::array<TokenId, 256> byte_id{};
  for (TokenId id = 0; id < 256; ++id) {
    const std::uint8_t byte = alphabet.gpt2_order[id];
    byte_id[byte] = id;
    im.strings.push_back(alphabet.utf8[byte]);
    im.ids.emplace(im.strings.back(), id);
  }

  Trainer trainer(count_words(documents, byte_id));
  const std::size_t target = opts.vocab_size - 1;  // the last id is <|endoftext|>
  Progress progress("bpe merges", std::int64_t(target - 256));
  TokenId a, b;
  while (im.strings.size() < target &&
         trainer.best(std::int64_t(std::max<std::size_t>(opts.min_pair_count, 1)), a, b)) {
    // Two different merges can spell the same string; the later one then reuses the id (the
    // file format maps strings to ids, and so does GPT-2's encoder).
    std::string merged = im.strings[a] + im.strings[b];
    auto [it, added] = im.ids.emplace(merged, TokenId(im.strings.size()));
    if (added) im.strings.push_back(merged);
    im.merges.emplace_back(im.strings[a], im.strings[b]);
    im.merge_ids.push_back({a, b, it->second});
    trainer.merge(a, b, it->second);
    if (opts.verbose) progress.update(std::int64_t(im.strings.size() - 256));
  }
  if (opts.verbose)
    progress.finish(std::to_string(im.merges.size()) + " merges");

  im.eot = TokenId(im.strings.size());
  im.strings.push_back("<|endoftext|>");
  im.ids.emplace(im.strings.back(), im.eot);
  im.finish();
  return t;
}

}  // namespace structlm::text
