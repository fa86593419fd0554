// Training: exact merges on small corpora (against a from-scratch reference trainer), the id
// layout, determinism, the vocabulary budget, and train -> save -> load.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>

#include "core/io.h"
#include "text_test_support.h"

namespace structlm::text {
namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

BpeTrainOptions quiet(std::size_t vocab, std::size_t min_count = 2) {
  BpeTrainOptions o;
  o.vocab_size = vocab;
  o.min_pair_count = min_count;
  o.verbose = false;
  return o;
}

TEST(BpeTrain, MergesTheMostFrequentPairFirst) {
  // Pieces: "abab", " abab" twice, " cd". (a,b) occurs 6 times, then (ab,ab) 3, then (Ġ,abab) 2;
  // everything else once, below min_pair_count.
  Tokenizer tok = Tokenizer::train({"abab abab abab cd"}, quiet(1000));
  EXPECT_EQ(tok.merges(), (Merges{{"a", "b"}, {"ab", "ab"}, {"Ġ", "abab"}}));
  EXPECT_EQ(tok.vocab_size(), 260u);
  EXPECT_EQ(tok.eot(), 259u);
  EXPECT_EQ(tok.token_string(256), "ab");
  EXPECT_EQ(tok.token_bytes(258), " abab");
  EXPECT_EQ(tok.token_string(259), "<|endoftext|>");
  EXPECT_EQ(tok.encode("abab abab"), (std::vector<TokenId>{257, 258}));
}

TEST(BpeTrain, BreaksTiesBySmallerIds) {
  // Every pair occurs once. Ids follow GPT-2's byte order: w=86 x=87 y=88 z=89, Ġ=220.
  Tokenizer tok = Tokenizer::train({"xy zw"}, quiet(1000, 1));
  EXPECT_EQ(tok.merges(), (Merges{{"x", "y"}, {"z", "w"}, {"Ġ", "zw"}}));
}

TEST(BpeTrain, ByteIdsFollowGpt2) {
  Tokenizer tok = Tokenizer::train({"hello"}, quiet(257));
  const Tokenizer& gpt2 = testing::gpt2();
  for (TokenId id = 0; id < 256; ++id) ASSERT_EQ(tok.token_string(id), gpt2.token_string(id));
  EXPECT_EQ(tok.vocab_size(), 257u);
  EXPECT_TRUE(tok.merges().empty());
}

// A literal trainer: recount every pair from scratch at every step. Words are space-separated
// lowercase letters, so GPT-2's pre-split is simply "first word, then ' word' for each other".
Merges reference_train(const std::vector<std::string>& docs, std::size_t vocab) {
  const Tokenizer bytes = Tokenizer::train({}, quiet(257));
  std::map<std::string, TokenId> id;
  std::vector<std::string> str;
  for (TokenId i = 0; i < 256; ++i) {
    str.push_back(bytes.token_string(i));
    id[str.back()] = i;
  }
  std::map<std::string, std::int64_t> counts;
  for (const std::string& d : docs)
    for (std::size_t start = 0; start < d.size();) {
      std::size_t end = d.find(' ', start + 1);
      if (end == std::string::npos) end = d.size();
      ++counts[d.substr(start, end - start)];
      start = end;
    }
  std::vector<std::pair<std::vector<TokenId>, std::int64_t>> words;
  for (const auto& [w, c] : counts) {
    std::vector<TokenId> syms;
    for (char ch : w) syms.push_back(bytes.encode(std::string(1, ch))[0]);
    words.push_back({syms, c});
  }
  Merges merges;
  while (str.size() < vocab - 1) {
    std::map<std::pair<TokenId, TokenId>, std::int64_t> pairs;
    for (const auto& [syms, c] : words)
      for (std::size_t i = 0; i + 1 < syms.size(); ++i) pairs[{syms[i], syms[i + 1]}] += c;
    std::pair<TokenId, TokenId> best{};
    std::int64_t best_count = 0;
    for (const auto& [p, c] : pairs)  // map order: the first of equal counts has smaller ids
      if (c > best_count) best = p, best_count = c;
    if (best_count < 2) break;
    const std::string s = str[best.first] + str[best.second];
    if (!id.count(s)) {
      id[s] = TokenId(str.size());
      str.push_back(s);
    }
    merges.emplace_back(str[best.first], str[best.second]);
    for (auto& [syms, c] : words) {
      std::vector<TokenId> out;
      for (std::size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == best.first && syms[i + 1] == best.second) {
          out.push_back(id[s]);
          ++i;
        } else {
          out.push_back(syms[i]);
        }
      }
      syms = out;
    }
  }
  return merges;
}

TEST(BpeTrain, IncrementalCountsMatchRecountingFromScratch) {
  // Few letters and repetitive words, so that runs like "aaaa" and "abab" (where merges overlap)
  // and ties are common.
  std::mt19937 rng(7);
  std::vector<std::string> docs;
  for (int d = 0; d < 40; ++d) {
    std::string doc;
    for (int w = 0; w < 60; ++w) {
      std::string word;
      for (int k = std::uniform_int_distribution<int>(1, 7)(rng); k > 0; --k)
        word += "aabbc"[std::uniform_int_distribution<int>(0, 4)(rng)];
      doc += (w ? " " : "") + word;
    }
    docs.push_back(doc);
  }
  const Merges expected = reference_train(docs, 400);
  ASSERT_GT(expected.size(), 50u);
  EXPECT_EQ(Tokenizer::train(docs, quiet(400)).merges(), expected);
}

TEST(BpeTrain, DeterministicAndWithinBudget) {
  const std::vector<std::string> docs = testing::brown_texts(40);
  Tokenizer a = Tokenizer::train(docs, quiet(2000));
  Tokenizer b = Tokenizer::train(docs, quiet(2000));
  EXPECT_EQ(a.vocab_size(), 2000u);
  EXPECT_EQ(a.eot(), 1999u);
  EXPECT_EQ(a.merges(), b.merges());
  for (const std::string& d : docs) {
    const std::vector<TokenId> ids = a.encode(d);
    ASSERT_EQ(ids, b.encode(d));
    ASSERT_EQ(a.decode(ids), d);
    ASSERT_LT(ids.size(), d.size() / 2) << "merges are not being used";
  }
  // Too little text to fill the budget: training stops when pairs get rare.
  EXPECT_LT(Tokenizer::train({"a tiny corpus, a tiny corpus"}, quiet(2000)).vocab_size(), 300u);
}

TEST(BpeTrain, SaveLoadKeepsEncodings) {
  const std::vector<std::string> docs = testing::brown_texts(20);
  Tokenizer trained = Tokenizer::train(docs, quiet(1500));
  const testing::ScratchDir scratch("train_save");
  const std::string dir = scratch.path() + "/a", again = scratch.path() + "/b";
  trained.save(dir);
  Tokenizer loaded = Tokenizer::load(dir);
  EXPECT_EQ(loaded.vocab_size(), trained.vocab_size());
  EXPECT_EQ(loaded.eot(), trained.eot());
  EXPECT_EQ(loaded.merges(), trained.merges());
  for (TokenId id = 0; id < trained.vocab_size(); ++id)
    ASSERT_EQ(loaded.token_string(id), trained.token_string(id));
  for (const std::string& d : docs) ASSERT_EQ(loaded.encode(d), trained.encode(d));
  const std::string unseen = "Zebras' 2024 résumés: 😀 naïve\xff\xfe text";
  EXPECT_EQ(loaded.encode(unseen), trained.encode(unseen));
  EXPECT_EQ(loaded.decode(loaded.encode(unseen)), unseen);

  loaded.save(again);
  EXPECT_EQ(read_file(again + "/encoder.json"), read_file(dir + "/encoder.json"));
  EXPECT_EQ(read_file(again + "/vocab.bpe"), read_file(dir + "/vocab.bpe"));
}

TEST(BpeTrain, RejectsImpossibleVocabularySizes) {
  try {
    Tokenizer::train({"text"}, quiet(100));
    FAIL() << "vocab_size 100 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_size"), std::string::npos) << e.what();
  }
}

TEST(BpeTrain, WholeBrownCorpusIn8192TokensQuickly) {
  const std::vector<std::string> docs = testing::brown_texts(500);
  ASSERT_EQ(docs.size(), 500u);
  const auto start = std::chrono::steady_clock::now();
  Tokenizer tok = Tokenizer::train(docs, quiet(8192));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(tok.vocab_size(), 8192u);
  // Seconds on a loaded 2-core machine; a non-incremental trainer takes many minutes.
  EXPECT_LT(seconds, 60.0);
  std::cout << "[ info     ] trained 8192 tokens on Brown in " << seconds << " s\n";
}

}  // namespace
}  // namespace structlm::text
