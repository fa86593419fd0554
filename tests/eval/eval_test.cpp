// Held-out scoring (loss, perplexity, bits per byte), the xz baseline, and sampling.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "../train/test_util.h"
#include "core/rng.h"
#include "data/shard.h"
#include "eval/evaluate.h"
#include "eval/generate.h"

namespace fs = std::filesystem;
using namespace structlm;
using structlm::testing::error_of;
using structlm::testing::TempDir;
namespace F = torch::nn::functional;

namespace {

const char* kEnglish =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way - in short, the period was so far like the present period, that some of its "
    "noisiest authorities insisted on its being received, for good or for evil, in the superlative degree "
    "of comparison only. There were a king with a large jaw and a queen with a plain face, on the throne of "
    "England; there were a king with a large jaw and a queen with a fair face, on the throne of France. "
    "Naïve café owners said “déjà vu” twice.";

text::Tokenizer small_tokenizer() {
  text::BpeTrainOptions o;
  o.vocab_size = 300;
  o.verbose = false;
  return text::Tokenizer::train({kEnglish, kEnglish}, o);
}

// The ids as a shard at `path`; returns the path.
std::string write_tokens(const std::string& path, const std::vector<text::TokenId>& ids, std::size_t vocab) {
  data::write_shard(path, std::vector<std::uint32_t>(ids.begin(), ids.end()), vocab);
  return path;
}

model::GPTConfig tiny(std::int64_t vocab, std::int64_t block) {
  model::GPTConfig c;
  c.vocab_size = vocab;
  c.block_size = block;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  return c;
}

// Reference scoring: the same windows, one at a time, with the loss computed right here.
double reference_nats(model::GPT& m, const std::vector<std::int64_t>& ids, std::size_t n_targets) {
  torch::NoGradGuard ng;
  const std::size_t T = std::size_t(m->config().block_size);
  double total = 0;
  for (std::size_t s = 0; s < n_targets; s += T) {
    const std::size_t len = std::min(T, n_targets - s);
    auto w = torch::tensor(std::vector<std::int64_t>(ids.begin() + s, ids.begin() + s + len + 1)).view({1, -1});
    auto logits = m->forward(w.slice(1, 0, len));
    total += F::cross_entropy(logits.view({std::int64_t(len), -1}), w.slice(1, 1).reshape({-1}),
                              F::CrossEntropyFuncOptions().reduction(torch::kSum))
                 .item<double>();
  }
  return total;
}

// GPT-2's initialisation gives near-uniform predictions; noise of this size makes them sharp,
// so that scoring and decoding have something to get wrong.
void perturb(model::GPT& m, double std) {
  torch::NoGradGuard ng;
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * std);
}

std::vector<float> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Greedy decoding by recomputing the whole (short) sequence every step: no cache involved.
std::vector<text::TokenId> greedy_recompute(model::GPT& m, std::vector<text::TokenId> seq, int n) {
  torch::NoGradGuard ng;
  m->eval();
  std::vector<text::TokenId> out;
  for (int i = 0; i < n; ++i) {
    std::vector<std::int64_t> v(seq.begin(), seq.end());
    auto logits = m->forward(torch::tensor(v).view({1, -1}))[0][-1];
    auto id = text::TokenId(logits.argmax().item<std::int64_t>());
    out.push_back(id);
    seq.push_back(id);
  }
  return out;
}

}  // namespace

// ---- evaluate --------------------------------------------------------------------------------

TEST(Evaluate, UniformModelScoresLnVAndBitsPerByteFollow) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  text::Tokenizer tok = small_tokenizer();
  const std::vector<text::TokenId> ids32 = tok.encode(kEnglish);
  data::TokenStream stream({write_tokens(dir + "/t.bin", ids32, tok.vocab_size())});

  model::GPT m(tiny(std::int64_t(tok.vocab_size()), 16));
  {  // all weights zero: every logit is 0, every prediction uniform, every loss exactly ln V
    torch::NoGradGuard ng;
    for (auto& p : m->parameters()) p.zero_();
  }
  eval::EvalResult r = eval::evaluate(m, stream, tok, 0, 3);
  const double lnV = std::log(double(tok.vocab_size()));
  EXPECT_EQ(r.tokens, ids32.size() - 1);
  EXPECT_NEAR(r.loss, lnV, 1e-5);
  EXPECT_NEAR(r.perplexity, double(tok.vocab_size()), 1e-3);
  // Bytes are those of the scored targets: the text without its first token.
  std::vector<text::TokenId> targets(ids32.begin() + 1, ids32.end());
  EXPECT_EQ(r.bytes, tok.decode(targets).size());
  EXPECT_NEAR(r.bits_per_byte, r.loss / std::log(2.0) * double(r.tokens) / double(r.bytes), 1e-9);
}

TEST(Evaluate, MatchesDirectCrossEntropyOverTheSameWindows) {
  TempDir tmp;
  const std::string& dir = tmp.path();
  text::Tokenizer tok = small_tokenizer();
  const std::vector<text::TokenId> ids32 = tok.encode(kEnglish);
  data::TokenStream stream({write_tokens(dir + "/t.bin", ids32, tok.vocab_size())});
  std::vector<std::int64_t> ids(ids32.begin(), ids32.end());

  torch::manual_seed(11);
  model::GPT m(tiny(std::int64_t(tok.vocab_size()), 8));
  perturb(m, 0.3);
  m->train();  // evaluate must switch dropout off itself, and give the mode back
  ASSERT_NE((ids.size() - 1) % 8, 0u) << "the test wants a ragged last window";
  for (int batch : {1, 3, 64}) {
    eval::EvalResult r = eval::evaluate(m, stream, tok, 0, batch);
    EXPECT_TRUE(m->is_training());
    const double ref = reference_nats(m, ids, ids.size() - 1) / double(ids.size() - 1);
    EXPECT_NEAR(r.loss, ref, 1e-5 * ref) << "batch " << batch;
    EXPECT_GT(std::fabs(r.loss - std::log(double(tok.vocab_size()))), 0.05);
    EXPECT_NEAR(r.perplexity, std::exp(r.loss), 1e-9 * r.perplexity);
  }
  eval::EvalResult capped = eval::evaluate(m, stream, tok, 20, 4);
  EXPECT_EQ(capped.tokens, 20u);
  EXPECT_NEAR(capped.loss, reference_nats(m, ids, 20) / 20.0, 1e-5);
  std::vector<text::TokenId> t20(ids32.begin() + 1, ids32.begin() + 21);
  EXPECT_EQ(capped.bytes, tok.decode(t20).size());
  EXPECT_NEAR(capped.bits_per_byte, capped.loss / std::log(2.0) * 20.0 / double(capped.bytes), 1e-9);

  // Ids the tokenizer does not know are an error, not a wrong byte count.
  data::write_shard(dir + "/bad.bin", {1, 2, 3, 299 + 1}, 400);
  model::GPT wide(tiny(400, 8));
  data::TokenStream bad({dir + "/bad.bin"});
  try {
    eval::evaluate(wide, bad, tok);
    if (tok.vocab_size() <= 300) ADD_FAILURE() << "no error for an id outside the tokenizer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
  }
}

// Per-document sums (the bootstrap's unit): shards put eot() before every document, so a target
// whose input is eot() opens a document and the target eot() closes the one before. Checked
// against the reference windows' per-token losses attributed by counting eot()s by hand.
TEST(Evaluate, DocumentsSplitAtEndOfTextAndSumToTheTotal) {
  TempDir tmp;
  text::Tokenizer tok = small_tokenizer();
  const auto eot = tok.eot();
  const std::vector<std::string> docs = {"It was the best of times, it was the worst of times.",
                                         "There were a king with a large jaw.", "Naïve café owners said “déjà vu” twice."};
  std::vector<text::TokenId> ids32;
  std::vector<std::size_t> lengths;
  for (const auto& d : docs) {
    ids32.push_back(eot);
    const auto e = tok.encode(d);
    lengths.push_back(e.size());
    ids32.insert(ids32.end(), e.begin(), e.end());
  }
  std::vector<std::int64_t> ids(ids32.begin(), ids32.end());
  torch::manual_seed(5);
  model::GPT m(tiny(std::int64_t(tok.vocab_size()), 8));  // windows of 8 cross every boundary
  perturb(m, 0.3);
  // Reference: the same windows one at a time, each target's loss to the document that the
  // eot()s strictly before it say.
  std::vector<double> ref(docs.size(), 0.0);
  {
    torch::NoGradGuard ng;
    const std::size_t n = ids.size() - 1;
    for (std::size_t s = 0; s < n; s += 8) {
      const std::size_t len = std::min<std::size_t>(8, n - s);
      auto w = torch::tensor(std::vector<std::int64_t>(ids.begin() + s, ids.begin() + s + len + 1)).view({1, -1});
      auto nll = F::cross_entropy(m->forward(w.slice(1, 0, len)).view({std::int64_t(len), -1}), w.slice(1, 1).reshape({-1}),
                                  F::CrossEntropyFuncOptions().reduction(torch::kNone));
      for (std::size_t t = 0; t < len; ++t) {
        const std::size_t p = s + t + 1;  // the target's position
        const auto opened = std::count(ids.begin(), ids.begin() + std::ptrdiff_t(p), std::int64_t(eot));
        ref[std::size_t(opened - 1)] += nll[std::int64_t(t)].item<double>();
      }
    }
  }
  data::TokenStream stream({write_tokens(tmp.path() + "/d.bin", ids32, tok.vocab_size())});
  const eval::EvalResult r = eval::evaluate(m, stream, tok, 0, 3);
  ASSERT_EQ(r.documents.size(), docs.size());
  double sum = 0;
  for (std::size_t d = 0; d < docs.size(); ++d) {
    // Every token of the document, plus the eot() that ends it (the last has none).
    EXPECT_EQ(r.documents[d].tokens, lengths[d] + (d + 1 < docs.size() ? 1 : 0)) << d;
    EXPECT_NEAR(r.documents[d].nats, ref[d], 1e-5 * ref[d]) << d;
    sum += r.documents[d].nats;
  }
  EXPECT_NEAR(sum / double(r.tokens), r.loss, 1e-12);

  // A stream that does not start with eot() (cut out of a longer one): the targets before the
  // first eot() are the first document.
  std::vector<text::TokenId> cut(ids32.begin() + 1, ids32.end());
  data::TokenStream cut_stream({write_tokens(tmp.path() + "/c.bin", cut, tok.vocab_size())});
  const eval::EvalResult c = eval::evaluate(m, cut_stream, tok, 0, 3);
  ASSERT_EQ(c.documents.size(), docs.size());
  EXPECT_EQ(c.documents[0].tokens, lengths[0]);  // its tokens after the first, and its eot()
  EXPECT_EQ(c.documents[1].tokens, lengths[1] + 1);
}

TEST(XzBaseline, EnglishCompressesRandomBytesDoNot) {
  std::string english;
  for (int i = 0; i < 20; ++i) english += kEnglish;
  const double en = eval::xz_bits_per_byte(english);
  EXPECT_LT(en, 1.0);  // repeated text: far below 8
  EXPECT_LT(eval::xz_bits_per_byte(kEnglish), 8.0);

  SplitMix64 rng(5);
  std::string noise(100000, '\0');
  for (auto& c : noise) c = char(rng.next() & 0xff);
  const double rnd = eval::xz_bits_per_byte(noise);
  EXPECT_GE(rnd, 8.0);  // incompressible, plus the container's overhead
  EXPECT_LT(rnd, 8.1);
  EXPECT_EQ(eval::xz_bits_per_byte(""), 0.0);
}

// ---- sampling --------------------------------------------------------------------------------

TEST(Sampling, GreedyWithCacheEqualsGreedyByRecompute) {
  torch::manual_seed(21);
  model::GPT m(tiny(40, 32));
  perturb(m, 0.5);
  std::vector<text::TokenId> prompt = {3, 17, 5, 9};
  eval::SampleOptions o;
  o.temperature = 0;
  o.max_new_tokens = 28;  // fills the context exactly
  auto cached = eval::sample_tokens(m, prompt, o);
  ASSERT_EQ(cached.size(), 28u);
  EXPECT_EQ(cached, greedy_recompute(m, prompt, 28));
  std::set<text::TokenId> distinct(cached.begin(), cached.end());
  EXPECT_GT(distinct.size(), 1u);  // a non-trivial sequence

  eval::SampleOptions k1;
  k1.top_k = 1;
  k1.max_new_tokens = 28;
  k1.seed = 99;
  EXPECT_EQ(eval::sample_tokens(m, prompt, k1), cached);  // top-k 1 is greedy at any temperature

  // Past the context: the cache is rebuilt; the start is unchanged and the length is right.
  o.max_new_tokens = 80;
  auto longer = eval::sample_tokens(m, prompt, o);
  ASSERT_EQ(longer.size(), 80u);
  EXPECT_TRUE(std::equal(cached.begin(), cached.end(), longer.begin()));
  // A prompt longer than the context keeps its last block_size tokens.
  std::vector<text::TokenId> long_prompt(50, 7);
  long_prompt.insert(long_prompt.end(), prompt.begin(), prompt.end());
  std::vector<text::TokenId> tail(long_prompt.end() - 32, long_prompt.end());
  o.max_new_tokens = 1;
  EXPECT_EQ(eval::sample_tokens(m, long_prompt, o), greedy_recompute(m, tail, 1));
}

TEST(Sampling, SeedsAreReproducibleAndLeaveTheGlobalGeneratorAlone) {
  torch::manual_seed(22);
  model::GPT m(tiny(40, 64));
  std::vector<text::TokenId> prompt = {1, 2, 3};
  eval::SampleOptions o;
  o.max_new_tokens = 40;
  o.temperature = 1.0;
  o.seed = 5;
  torch::manual_seed(123);
  auto a = eval::sample_tokens(m, prompt, o);
  auto after = torch::rand({4});
  torch::manual_seed(123);
  auto expected = torch::rand({4});
  EXPECT_TRUE(torch::equal(after, expected));  // sampling drew nothing from torch's generator
  EXPECT_EQ(eval::sample_tokens(m, prompt, o), a);
  o.seed = 6;
  EXPECT_NE(eval::sample_tokens(m, prompt, o), a);

  o.eot_id = a[5];
  auto stopped = eval::sample_tokens(m, prompt, {40, 1.0, 0, 1.0, 5, true, a[5], 0});
  EXPECT_LE(stopped.size(), 5u);  // stops at (and drops) the first end-of-text
  EXPECT_THROW(eval::sample_tokens(m, {}, o), Error);
}

TEST(Sampling, TopKAndTopPKeepOnlyTheNucleus) {
  const std::vector<float> logits = {std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
  eval::SampleOptions o;
  auto d = eval::next_token_distribution(logits, o);
  EXPECT_NEAR(d[0], 0.15, 1e-6);
  EXPECT_NEAR(d[1], 0.5, 1e-6);

  o.top_p = 0.75;  // 0.5 + 0.3 reaches it: ids 1 and 3
  d = eval::next_token_distribution(logits, o);
  EXPECT_NEAR(d[1], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(d[3], 0.3 / 0.8, 1e-6);
  EXPECT_EQ(d[0], 0.0);
  EXPECT_EQ(d[2], 0.0);
  o.top_p = 0.85;  // needs the third most likely too
  d = eval::next_token_distribution(logits, o);
  EXPECT_NEAR(d[0], 0.15 / 0.95, 1e-6);
  EXPECT_EQ(d[2], 0.0);
  o.top_p = 0.1;  // always at least the top token
  d = eval::next_token_distribution(logits, o);
  EXPECT_EQ(d[1], 1.0);

  o.top_p = 1.0;
  o.top_k = 2;
  d = eval::next_token_distribution(logits, o);
  EXPECT_NEAR(d[1], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(d[3], 0.3 / 0.8, 1e-6);
  EXPECT_EQ(d[0] + d[2], 0.0);

  o.top_k = 0;
  o.temperature = 2.0;  // flattens: p^(1/2), renormalised
  d = eval::next_token_distribution(logits, o);
  const double z = std::sqrt(0.15) + std::sqrt(0.5) + std::sqrt(0.05) + std::sqrt(0.3);
  EXPECT_NEAR(d[2], std::sqrt(0.05) / z, 1e-6);
  o.temperature = 0;
  d = eval::next_token_distribution(logits, o);
  EXPECT_EQ(d[1], 1.0);
  o.temperature = 1;
  o.vocab_limit = 1;  // only id 0 may be drawn
  d = eval::next_token_distribution(logits, o);
  EXPECT_EQ(d[0], 1.0);

  // Draws from a model only ever land in the nucleus.
  torch::manual_seed(23);
  model::GPT m(tiny(40, 64));
  perturb(m, 0.5);
  eval::SampleOptions s;
  s.max_new_tokens = 1;
  s.top_p = 0.5;
  std::vector<text::TokenId> prompt = {4, 8};
  torch::NoGradGuard ng;
  m->eval();
  auto probs = to_vec(torch::softmax(m->forward(torch::tensor({4L, 8L}).view({1, -1}))[0][-1], 0));
  auto nucleus = eval::next_token_distribution(
      to_vec(m->forward(torch::tensor({4L, 8L}).view({1, -1}))[0][-1]), s);
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    s.seed = seed;
    auto id = eval::sample_tokens(m, prompt, s)[0];
    EXPECT_GT(nucleus[id], 0.0) << "seed " << seed;
  }
  std::size_t kept = 0;
  for (double p : nucleus) kept += p > 0;
  EXPECT_LT(kept, probs.size());
}

TEST(Sampling, TextInTextOut) {
  text::Tokenizer tok = small_tokenizer();
  torch::manual_seed(24);
  model::GPT m(tiny(std::int64_t(tok.vocab_size()) + 20, 32));  // padded vocabulary
  eval::SampleOptions o;
  o.max_new_tokens = 20;
  o.seed = 3;
  o.stop_at_eot = false;
  std::string a = eval::sample_text(m, tok, "It was the", o);
  EXPECT_EQ(a, eval::sample_text(m, tok, "It was the", o));
  EXPECT_FALSE(a.empty());
  EXPECT_FALSE(eval::sample_text(m, tok, "", o).empty());  // starts from <|endoftext|>
}
