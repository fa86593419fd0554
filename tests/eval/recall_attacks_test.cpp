// Rare-token recall by frequency bucket, loss by position, and the robustness attacks
// (eval/recall.h, eval/attacks.h), checked against computations done here.
#include <gtest/gtest.h>

#include <set>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "../model/model_test_util.h"
#include "../train/test_util.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/shard.h"
#include "eval/attacks.h"
#include "eval/recall.h"

using namespace structlm;
using structlm::model::testing::make_model;
using structlm::model::testing::tiny_config;
using structlm::testing::error_of;
using structlm::testing::TempDir;

namespace {

const char* kText =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way. Naïve café owners said “déjà vu” twice.";

text::Tokenizer small_tokenizer() {
  text::BpeTrainOptions o;
  o.vocab_size = 300;
  o.verbose = false;
  return text::Tokenizer::train({kText, kText}, o);
}

std::vector<std::int64_t> random_ids(std::size_t n, std::int64_t V, std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<std::int64_t> ids(n);
  for (auto& id : ids) id = std::int64_t(rng.below(std::uint64_t(V)));
  return ids;
}

data::TokenStream stream_of(const TempDir& tmp, const std::string& name, const std::vector<std::int64_t>& ids,
                            std::size_t vocab) {
  data::write_shard(tmp / name, std::vector<std::uint32_t>(ids.begin(), ids.end()), vocab);
  return data::TokenStream({tmp / name});
}

// Logits [T, V] of one window, as doubles, computed one window at a time.
std::vector<std::vector<double>> window_logits(model::GPT& m, const std::vector<std::int64_t>& inputs) {
  torch::NoGradGuard ng;
  auto l = m->forward(torch::tensor(inputs, torch::kLong).view({1, -1}))[0].to(torch::kDouble).contiguous();
  std::vector<std::vector<double>> out(std::size_t(l.size(0)));
  for (std::int64_t t = 0; t < l.size(0); ++t) out[std::size_t(t)].assign(l[t].data_ptr<double>(), l[t].data_ptr<double>() + l.size(1));
  return out;
}

double log_softmax_at(const std::vector<double>& z, std::int64_t t) {
  double mx = z[0];
  for (double v : z) mx = std::max(mx, v);
  double s = 0;
  for (double v : z) s += std::exp(v - mx);
  return z[std::size_t(t)] - mx - std::log(s);
}

void expect_no_param_grads(model::GPT& m) {
  for (const auto& p : m->parameters()) EXPECT_FALSE(p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
}

// Continuation loss (nats summed) of the last C tokens of ids, computed directly.
double continuation_nats(model::GPT& m, const std::vector<std::int64_t>& ids, std::size_t C) {
  const auto z = window_logits(m, std::vector<std::int64_t>(ids.begin(), ids.end() - 1));
  double nats = 0;
  for (std::size_t t = ids.size() - 1 - C; t + 1 < ids.size(); ++t) nats -= log_softmax_at(z[t], ids[t + 1]);
  return nats;
}

}  // namespace

// ---- recall and loss by frequency bucket -------------------------------------------------------

TEST(HcmaRecall, DefaultBucketsCountsAndMembershipByHand) {
  const auto b = eval::default_frequency_buckets();
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].label, "<10");
  EXPECT_EQ(b[0].min_count, 0);  // unseen tokens are rare tokens
  EXPECT_EQ(b[0].max_count, 9);
  EXPECT_EQ(b[1].min_count, 10);
  EXPECT_EQ(b[2].max_count, 999);
  EXPECT_EQ(b[3].min_count, 1000);
  EXPECT_LT(b[3].max_count, 0);

  TempDir tmp;
  const std::vector<std::int64_t> ids = {3, 1, 3, 3, 0, 12, 1, 3};
  auto counts = eval::count_tokens(stream_of(tmp, "c.bin", ids, 13), 13);
  ASSERT_EQ(counts.size(), 13u);
  EXPECT_EQ(counts[3], 4);
  EXPECT_EQ(counts[1], 2);
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[12], 1);
  EXPECT_EQ(counts[5], 0);
  EXPECT_NE(error_of([&] { eval::count_tokens(stream_of(tmp, "c2.bin", ids, 13), 12); }).find("token id 12"), std::string::npos);

  // Counts at every bucket boundary; the scored targets are tokens 1 .. 40 of the stream.
  const std::vector<std::int64_t> train = {0, 9, 10, 99, 100, 999, 1000, 5000, 3, 50, 500, 2000, 7};
  const int expected_bucket[13] = {0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3, 0};
  const auto test_ids = random_ids(100, 13, 4);
  std::vector<std::int64_t> expected(4, 0);
  for (std::size_t i = 1; i <= 40; ++i) ++expected[std::size_t(expected_bucket[test_ids[i]])];
  auto m = make_model(tiny_config(true, true), 1);
  auto scores = eval::score_by_frequency(m, stream_of(tmp, "t.bin", test_ids, 13), train, {1, 5}, b, 40, 3);
  ASSERT_EQ(scores.size(), 4u);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(scores[i].bucket.label, b[i].label);
    EXPECT_EQ(scores[i].targets, expected[i]) << b[i].label;
    total += scores[i].targets;
  }
  EXPECT_EQ(total, 40);
}

TEST(HcmaRecall, RecallAndLossMatchBruteForce) {
  TempDir tmp;
  const std::int64_t V = 13, T = 8;
  auto m = make_model(tiny_config(false, true), 2);  // float64: no near-ties between batch and single passes
  const auto ids = random_ids(61, V, 5);             // 60 targets: 7 full windows and a ragged one
  auto stream = stream_of(tmp, "t.bin", ids, std::size_t(V));
  std::vector<std::int64_t> train(static_cast<std::size_t>(V));
  for (std::int64_t i = 0; i < V; ++i) train[std::size_t(i)] = i * 150;  // ids 0..6 below 1000, 7..12 above
  const std::vector<eval::FrequencyBucket> buckets = {{"rare", 0, 999}, {"frequent", 1000, -1}, {"all", 0, -1}};
  const std::vector<int> ks = {1, 3, 13};

  for (std::size_t n_targets : {std::size_t(60), std::size_t(21)}) {
    // Brute force: every window alone, every logit compared with the target's.
    std::vector<double> nats(3, 0), n(3, 0), in_nats(3, 0), in_n(3, 0);
    std::vector<std::vector<double>> hits(3, std::vector<double>(ks.size(), 0)), in_hits = hits;
    for (std::size_t s = 0; s < n_targets; s += std::size_t(T)) {
      const std::size_t len = std::min(std::size_t(T), n_targets - s);
      const auto z = window_logits(m, std::vector<std::int64_t>(ids.begin() + s, ids.begin() + s + len));
      for (std::size_t t = 0; t < len; ++t) {
        const std::int64_t tgt = ids[s + t + 1];
        int rank = 0;  // other ids scoring at least as high
        for (std::int64_t j = 0; j < V; ++j) rank += j != tgt && z[t][std::size_t(j)] >= z[t][std::size_t(tgt)];
        for (std::size_t b = 0; b < 3; ++b) {
          const std::int64_t c = train[std::size_t(tgt)];
          if (c < buckets[b].min_count || (buckets[b].max_count >= 0 && c > buckets[b].max_count)) continue;
          n[b] += 1;
          nats[b] -= log_softmax_at(z[t], tgt);
          for (std::size_t k = 0; k < ks.size(); ++k) hits[b][k] += rank < ks[k];
        }
        // By the input token's count: the token at the target's position minus one.
        for (std::size_t b = 0; b < 3; ++b) {
          const std::int64_t c = train[std::size_t(ids[s + t])];
          if (c < buckets[b].min_count || (buckets[b].max_count >= 0 && c > buckets[b].max_count)) continue;
          in_n[b] += 1;
          in_nats[b] -= log_softmax_at(z[t], tgt);
          for (std::size_t k = 0; k < ks.size(); ++k) in_hits[b][k] += rank < ks[k];
        }
      }
    }
    for (int batch : {1, 3}) {
      m->train();
      auto scores = eval::score_by_frequency(m, stream, train, ks, buckets, n_targets == 60 ? 0 : n_targets, batch);
      EXPECT_TRUE(m->is_training());
      eval::FrequencyScoring how;
      how.max_tokens = n_targets == 60 ? 0 : n_targets;
      how.batch_size = batch;
      std::vector<eval::BucketScore> by_input;
      eval::score_by_frequency(m, stream, train, ks, buckets, how, nullptr, &by_input);
      ASSERT_EQ(by_input.size(), 3u);
      for (std::size_t b = 0; b < 3; ++b) {
        ASSERT_GT(in_n[b], 0);
        EXPECT_EQ(double(by_input[b].targets), in_n[b]) << "after input " << buckets[b].label;
        EXPECT_NEAR(by_input[b].loss, in_nats[b] / in_n[b], 1e-9) << "after input " << buckets[b].label;
        for (std::size_t k = 0; k < ks.size(); ++k)
          EXPECT_DOUBLE_EQ(by_input[b].recall[k], in_hits[b][k] / in_n[b]) << "after input " << buckets[b].label;
      }
      EXPECT_NE(in_nats[0], nats[0]);  // bucketing by input picks other targets than by target
      for (std::size_t b = 0; b < 3; ++b) {
        ASSERT_GT(n[b], 0);
        EXPECT_EQ(double(scores[b].targets), n[b]) << buckets[b].label;
        EXPECT_NEAR(scores[b].loss, nats[b] / n[b], 1e-9) << buckets[b].label;
        for (std::size_t k = 0; k < ks.size(); ++k) EXPECT_DOUBLE_EQ(scores[b].recall[k], hits[b][k] / n[b]) << buckets[b].label << " k=" << ks[k];
      }
      EXPECT_EQ(scores[2].targets, std::int64_t(n_targets));
      EXPECT_EQ(scores[2].recall[2], 1.0);  // k = V holds every target
      EXPECT_GT(scores[2].recall[0], 0.0);  // a non-trivial model: some hits, some misses
      EXPECT_LT(scores[2].recall[1], 1.0);
    }
  }
}

// Drawn windows (issue 15): a seed picks whole windows without replacement, every model scored
// with that seed sees the same targets, and the kept ranks are those of brute force.
TEST(HcmaRecall, DrawnWindowsPairAcrossModelsAndKeepRanksOfRareTargets) {
  TempDir tmp;
  const std::int64_t V = 13, T = 8;
  auto m = make_model(tiny_config(false, true), 2);
  auto other = make_model(tiny_config(false, true), 9);
  const auto ids = random_ids(161, V, 5);  // 20 full windows
  auto stream = stream_of(tmp, "t.bin", ids, std::size_t(V));
  std::vector<std::int64_t> train(static_cast<std::size_t>(V));
  for (std::int64_t i = 0; i < V; ++i) train[std::size_t(i)] = i * 150;  // ids 0..6 below 1000
  const std::vector<eval::FrequencyBucket> buckets = {{"rare", 0, 999}, {"all", 0, -1}};
  eval::FrequencyScoring how;
  how.max_tokens = 45;  // 6 windows of 8 (whole windows: up to T - 1 more than asked)
  how.batch_size = 4;
  how.draw_seed = 7;
  how.keep_ranks_below = 1000;
  std::vector<eval::TargetRank> kept, kept_again, kept_other, kept_seed8;
  auto scores = eval::score_by_frequency(m, stream, train, {1, 3}, buckets, how, &kept);
  EXPECT_EQ(scores[1].targets, 48);
  ASSERT_EQ(std::int64_t(kept.size()), scores[0].targets);
  // The same seed: the same targets, for this model and for another.
  eval::score_by_frequency(m, stream, train, {1, 3}, buckets, how, &kept_again);
  eval::score_by_frequency(other, stream, train, {1, 3}, buckets, how, &kept_other);
  ASSERT_EQ(kept_other.size(), kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept_again[i].position, kept[i].position);
    EXPECT_EQ(kept_again[i].rank, kept[i].rank);
    EXPECT_EQ(kept_other[i].position, kept[i].position);
  }
  how.draw_seed = 8;
  eval::score_by_frequency(m, stream, train, {1, 3}, buckets, how, &kept_seed8);
  std::set<std::int64_t> a, b;
  for (const auto& k : kept) a.insert(k.position / T);
  for (const auto& k : kept_seed8) b.insert(k.position / T);
  EXPECT_NE(a, b) << "another seed should draw other windows";
  // Brute force on each kept target: its window alone, its rank among all logits.
  std::int64_t hits1 = 0;
  for (const auto& k : kept) {
    const std::int64_t w = (k.position - 1) / T, start = w * T, t = k.position - 1 - start;
    ASSERT_LT(train[std::size_t(ids[std::size_t(k.position)])], 1000);
    const auto z = window_logits(m, std::vector<std::int64_t>(ids.begin() + start, ids.begin() + start + T));
    const std::int64_t tgt = ids[std::size_t(k.position)];
    int rank = 0;
    for (std::int64_t j = 0; j < V; ++j) rank += j != tgt && z[std::size_t(t)][std::size_t(j)] >= z[std::size_t(t)][std::size_t(tgt)];
    EXPECT_EQ(k.rank, rank) << "position " << k.position;
    hits1 += rank < 1;
  }
  EXPECT_DOUBLE_EQ(scores[0].recall[0], double(hits1) / double(kept.size()));
}

TEST(HcmaRecall, TiesCountAgainstTheTargetAndEmptyBucketsAreNaN) {
  TempDir tmp;
  auto m = make_model(tiny_config(true, true), 3);
  {
    torch::NoGradGuard ng;
    for (auto& p : m->parameters()) p.zero_();  // every logit 0: all ids tie
  }
  auto stream = stream_of(tmp, "t.bin", random_ids(30, 13, 6), 13);
  const std::vector<std::int64_t> train(13, 5);
  auto scores = eval::score_by_frequency(m, stream, train, {1, 12, 13}, eval::default_frequency_buckets());
  EXPECT_EQ(scores[0].targets, 29);
  EXPECT_EQ(scores[0].recall, (std::vector<double>{0.0, 0.0, 1.0}));  // rank = V - 1 for every target
  EXPECT_NEAR(scores[0].loss, std::log(13.0), 1e-12);
  for (std::size_t b = 1; b < 4; ++b) {
    EXPECT_EQ(scores[b].targets, 0);
    EXPECT_TRUE(std::isnan(scores[b].loss));
  }
}

TEST(HcmaRecall, LossByPositionMatchesDirectComputation) {
  EXPECT_EQ(eval::log2_position_buckets(8), (std::vector<std::int64_t>{0, 1, 2, 4}));
  EXPECT_EQ(eval::log2_position_buckets(9), (std::vector<std::int64_t>{0, 1, 2, 4, 8}));
  EXPECT_EQ(eval::log2_position_buckets(1), (std::vector<std::int64_t>{0}));

  TempDir tmp;
  const std::size_t T = 8;
  auto m = make_model(tiny_config(true, true), 4);
  const auto ids = random_ids(5 * T + 4, 13, 7);  // 5 full windows and a few tokens more
  auto stream = stream_of(tmp, "t.bin", ids, 13);
  for (std::size_t max_windows : {std::size_t(0), std::size_t(3)}) {
    const std::size_t W = max_windows ? max_windows : 5;
    std::vector<double> per_pos(T, 0);
    for (std::size_t w = 0; w < W; ++w) {
      const auto z = window_logits(m, std::vector<std::int64_t>(ids.begin() + w * T, ids.begin() + w * T + T));
      for (std::size_t t = 0; t < T; ++t) per_pos[t] -= log_softmax_at(z[t], ids[w * T + t + 1]);
    }
    auto r = eval::loss_by_position(m, stream, {0, 1, 2, 4}, max_windows, 2);
    ASSERT_EQ(r.size(), 4u);
    const std::size_t lo[4] = {0, 1, 2, 4}, hi[4] = {1, 2, 4, 8};
    for (std::size_t b = 0; b < 4; ++b) {
      double s = 0;
      for (std::size_t t = lo[b]; t < hi[b]; ++t) s += per_pos[t];
      EXPECT_EQ(r[b].position, std::int64_t(lo[b]));
      EXPECT_EQ(r[b].tokens, std::int64_t(W * (hi[b] - lo[b])));
      EXPECT_NEAR(r[b].loss, s / double(W * (hi[b] - lo[b])), 1e-9);
    }
  }
}

TEST(HcmaRecall, BadInputIsAnError) {
  TempDir tmp;
  auto m = make_model(tiny_config(true, true), 5);
  auto one = stream_of(tmp, "one.bin", {3}, 13);
  auto ok = stream_of(tmp, "ok.bin", random_ids(40, 13, 8), 13);
  const std::vector<std::int64_t> train(13, 1);
  const auto b = eval::default_frequency_buckets();
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, one, train, {1}, b); }).find("at least 2"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, ok, train, {}, b); }).find("k"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, ok, train, {0}, b); }).find("k >= 1"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, ok, train, {1}, {}); }).find("bucket"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, ok, train, {1}, {{"bad", 10, 5}}); }).find("'bad'"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, ok, {1, 2}, {1}, b); }).find("no training count"), std::string::npos);
  auto wide = stream_of(tmp, "wide.bin", {1, 2, 20, 3}, 40);
  EXPECT_NE(error_of([&] { eval::score_by_frequency(m, wide, train, {1}, b); }).find("vocabulary"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::loss_by_position(m, one, {0}); }).find("full window"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::loss_by_position(m, ok, {1, 2}); }).find("start at 0"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::loss_by_position(m, ok, {0, 4, 2}); }).find("ascending"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::loss_by_position(m, ok, {0, 8}); }).find("below the context"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::log2_position_buckets(0); }).find("block size"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::count_tokens(ok, 0); }).find("vocabulary size"), std::string::npos);
}

// ---- embedding-space attacks ---------------------------------------------------------------------

TEST(HcmaAttack, PerturbationsHaveTheRequestedNorm) {
  auto r = eval::detail::random_perturbation(50, 16, 0.7, 3);
  ASSERT_EQ(r.sizes(), (std::vector<std::int64_t>{50, 16}));
  EXPECT_NEAR((r.norm(2, 1) - 0.7).abs().max().item<double>(), 0.0, 1e-12);
  EXPECT_TRUE(torch::equal(r, eval::detail::random_perturbation(50, 16, 0.7, 3)));
  EXPECT_FALSE(torch::allclose(r, eval::detail::random_perturbation(50, 16, 0.7, 4)));
  // Directions are spread, not all the same: the mean of 50 unit directions is far from unit.
  EXPECT_LT((r / 0.7).mean(0).norm().item<double>(), 0.5);

  torch::manual_seed(9);
  auto g = torch::randn({2, 5, 16}, torch::kDouble);
  auto s = eval::detail::sign_perturbation(g, 0.7);
  EXPECT_NEAR((s.norm(2, -1) - 0.7).abs().max().item<double>(), 0.0, 1e-12);
  EXPECT_TRUE(torch::equal(s.sign(), g.sign()));
  g[0][0][3] = 0.0;  // a zero gradient entry gets no perturbation
  EXPECT_NEAR(eval::detail::sign_perturbation(g, 0.7)[0][0].norm().item<double>(), 0.7 * std::sqrt(15.0 / 16.0), 1e-12);
}

TEST(HcmaAttack, ZeroEpsChangesNothingAndRunsAreReproducible) {
  TempDir tmp;
  auto m = make_model(tiny_config(true, true, /*dropout=*/0.1), 10);
  auto stream = stream_of(tmp, "t.bin", random_ids(8 * 6 + 1, 13, 11), 13);
  eval::EmbeddingAttackOptions o;
  o.eps = {0.0, 0.3};
  o.windows = 10;  // more than the stream holds: 6
  o.batch_size = 4;
  m->train();
  torch::manual_seed(123);
  auto r = eval::embedding_attacks(m, stream, o);
  auto after = torch::rand({4});
  torch::manual_seed(123);
  EXPECT_TRUE(torch::equal(after, torch::rand({4})));  // torch's global generator untouched
  EXPECT_TRUE(m->is_training());
  expect_no_param_grads(m);

  ASSERT_EQ(r.size(), 4u);
  const char* names[4] = {"random", "random", "gradient_sign", "gradient_sign"};
  // The clean loss, directly: every target of the 6 windows.
  double clean = 0;
  m->eval();
  const auto ids = random_ids(8 * 6 + 1, 13, 11);
  for (std::size_t w = 0; w < 6; ++w) clean += continuation_nats(m, std::vector<std::int64_t>(ids.begin() + w * 8, ids.begin() + w * 8 + 9), 8);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r[i].attack, names[i]);
    EXPECT_EQ(r[i].strength, o.eps[i % 2]);
    EXPECT_EQ(r[i].tokens, 48);
    EXPECT_NEAR(r[i].clean_loss, clean / 48, 1e-9);
  }
  EXPECT_EQ(r[0].loss_increase, 0.0);
  EXPECT_EQ(r[0].flip_rate, 0.0);
  EXPECT_EQ(r[2].loss_increase, 0.0);
  EXPECT_EQ(r[2].flip_rate, 0.0);
  EXPECT_NE(r[1].attacked_loss, r[1].clean_loss);
  EXPECT_GT(r[3].loss_increase, 0.0);

  auto again = eval::embedding_attacks(m, stream, o);
  EXPECT_EQ(again[1].attacked_loss, r[1].attacked_loss);
  EXPECT_EQ(again[3].attacked_loss, r[3].attacked_loss);
  o.batch_size = 1;  // the random directions belong to windows, not batches
  EXPECT_NEAR(eval::embedding_attacks(m, stream, o)[1].attacked_loss, r[1].attacked_loss, 1e-9);
  o.seed = 2;
  EXPECT_NE(eval::embedding_attacks(m, stream, o)[1].attacked_loss, r[1].attacked_loss);
}

TEST(HcmaAttack, GradientSignHurtsMoreThanRandom) {
  TempDir tmp;
  model::GPTConfig c = tiny_config(true, true);
  c.vocab_size = 50;
  c.block_size = 16;
  c.n_embd = 16;
  auto stream = stream_of(tmp, "t.bin", random_ids(16 * 16 + 1, 50, 12), 50);
  eval::EmbeddingAttackOptions o;
  o.eps = {0.05, 0.2};
  o.windows = 16;  // 256 scored positions
  for (std::uint64_t seed : {20, 21, 22}) {
    auto m = make_model(c, seed);
    auto r = eval::embedding_attacks(m, stream, o);
    for (std::size_t e = 0; e < 2; ++e) {
      const auto& rnd = r[e];
      const auto& sgn = r[2 + e];
      EXPECT_GT(sgn.loss_increase, 0.0) << "model " << seed << " eps " << o.eps[e];
      // Measured: 50-100 times the random increase; 10 leaves room across platforms.
      EXPECT_GT(sgn.loss_increase, 10 * std::fabs(rnd.loss_increase)) << "model " << seed << " eps " << o.eps[e];
      EXPECT_GE(sgn.flip_rate, rnd.flip_rate) << "model " << seed << " eps " << o.eps[e];
    }
    EXPECT_GT(r[3].loss_increase, r[2].loss_increase);  // a larger step hurts more
    expect_no_param_grads(m);
  }
}

// ---- token-level attacks ---------------------------------------------------------------------------

TEST(HcmaAttack, HotflipRaisesTheLossRoundByRoundAndLeavesTheContinuation) {
  auto m = make_model(tiny_config(false, true), 30);
  const int P = 4, C = 4;
  const auto ids = random_ids(P + C, 13, 31);
  m->train();
  auto tr = eval::detail::hotflip(m, ids, P, 4, 8);
  EXPECT_TRUE(m->is_training());
  expect_no_param_grads(m);
  ASSERT_EQ(tr.sequences.size(), 5u);
  ASSERT_EQ(tr.losses.size(), 5u);
  EXPECT_EQ(tr.sequences[0], ids);
  m->eval();
  int substitutions = 0;
  for (std::size_t r = 0; r < 5; ++r) {
    const auto& s = tr.sequences[r];
    EXPECT_TRUE(std::equal(s.begin() + P, s.end(), ids.begin() + P)) << "round " << r;  // continuation intact
    if (r > 0) {
      EXPECT_GE(tr.losses[r], tr.losses[r - 1]) << "round " << r;
      substitutions += tr.losses[r] > tr.losses[r - 1];
    }
    int changed = 0;  // each kept substitution is at a new position
    for (int p = 0; p < P; ++p) changed += s[std::size_t(p)] != ids[std::size_t(p)];
    EXPECT_EQ(changed, substitutions) << "round " << r;
    EXPECT_NEAR(tr.losses[r], continuation_nats(m, s, C), 1e-9) << "round " << r;
  }
  EXPECT_GT(tr.losses[4], tr.losses[0]);

  // With every substitution a candidate, round 1 finds the best single substitution exactly.
  auto all = eval::detail::hotflip(m, ids, P, 1, P * 12);
  double best = continuation_nats(m, ids, C);
  for (int p = 0; p < P; ++p)
    for (std::int64_t j = 0; j < 13; ++j) {
      auto s = ids;
      s[std::size_t(p)] = j;
      best = std::max(best, continuation_nats(m, s, C));
    }
  EXPECT_NEAR(all.losses[1], best, 1e-9);

  TempDir tmp;
  auto stream = stream_of(tmp, "t.bin", random_ids(100, 13, 32), 13);
  eval::TokenAttackOptions o;
  o.edits = {0, 1, 2, 4};
  o.sequences = 6;
  o.prefix_tokens = 5;
  o.continuation_tokens = 3;
  auto res = eval::hotflip_attack(m, stream, o);
  ASSERT_EQ(res.size(), 4u);
  EXPECT_EQ(res[0].loss_increase, 0.0);
  EXPECT_EQ(res[0].flip_rate, 0.0);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(res[e].attack, "hotflip");
    EXPECT_EQ(res[e].strength, o.edits[e]);
    EXPECT_EQ(res[e].tokens, 18);
    if (e > 0) EXPECT_GE(res[e].attacked_loss, res[e - 1].attacked_loss);
  }
  EXPECT_GT(res[3].loss_increase, 0.0);
}

TEST(HcmaAttack, TypoEditsChangeWordsButNeverTheContinuation) {
  const text::Tokenizer tok = small_tokenizer();
  // Edits: deterministic, never add or remove words, hit at most `edits` words, keep UTF-8 valid.
  const std::string prefix = "Naïve café owners said “déjà vu” twice and went home";
  auto words = [](const std::string& s) {
    std::vector<std::string> w;
    std::istringstream in(s);
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  };
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    int applied = 0;
    const std::string e3 = eval::detail::typo_edits(prefix, 3, seed, applied);
    EXPECT_EQ(applied, 3);
    int again = 0;
    EXPECT_EQ(eval::detail::typo_edits(prefix, 3, seed, again), e3);
    const auto a = words(prefix), b = words(e3);
    ASSERT_EQ(a.size(), b.size());
    int differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
    EXPECT_GE(differ, 1) << e3;
    EXPECT_LE(differ, 3) << e3;
    EXPECT_LE(std::abs(int(e3.size()) - int(prefix.size())), 3 * 3);  // at most one 3-byte character per edit
    for (std::size_t i = 0; i < e3.size();) {  // valid UTF-8: every lead byte has its continuation bytes
      const auto c = static_cast<unsigned char>(e3[i]);
      const std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      ASSERT_NE(int(c & 0xC0), 0x80) << e3;
      ASSERT_LE(i + n, e3.size()) << e3;
      for (std::size_t k = 1; k < n; ++k) ASSERT_EQ(int(static_cast<unsigned char>(e3[i + k]) & 0xC0), 0x80) << e3;
      i += n;
    }
  }
  int applied = 0;
  EXPECT_EQ(eval::detail::typo_edits("a b c", 2, 1, applied), "a b c");  // no word of 2 characters
  EXPECT_EQ(applied, 0);

  eval::TokenAttackOptions o;
  o.edits = {0, 1, 4};
  o.prefix_words = 12;
  o.continuation_tokens = 6;
  const auto seq = eval::detail::typo_sequence(tok, kText, o, 40, 7);
  ASSERT_FALSE(seq.clean.empty());
  ASSERT_EQ(seq.attacked.size(), 3u);
  EXPECT_EQ(seq.attacked[0], seq.clean);
  // kText's words are separated by single spaces: the continuation starts at its 12th space.
  const std::string text = kText;
  std::size_t space = 0;
  for (int w = 0; w < 12; ++w) space = text.find(' ', space + 1);
  auto cont = tok.encode(text.substr(space));
  cont.resize(6);
  for (const auto& s : seq.attacked) {
    ASSERT_GE(s.size(), 7u);
    EXPECT_LE(s.size(), 40u);
    EXPECT_TRUE(std::equal(cont.begin(), cont.end(), s.end() - 6));
  }
  EXPECT_NE(seq.attacked[2], seq.clean);
  EXPECT_EQ(seq.clean.size(), tok.encode(text.substr(0, space)).size() + 6);
  // A short context keeps the prefix's last tokens.
  const auto cut = eval::detail::typo_sequence(tok, kText, o, 12, 7);
  ASSERT_EQ(cut.clean.size(), 12u);
  EXPECT_TRUE(std::equal(cut.clean.begin(), cut.clean.end(), seq.clean.end() - 12));

  model::GPTConfig c = tiny_config(true, true);
  c.vocab_size = std::int64_t(tok.vocab_size());
  c.block_size = 32;
  c.n_embd = 16;
  auto m = make_model(c, 40);
  m->train();
  const std::vector<std::string> texts = {"Too short.", kText, std::string(kText).substr(100), "Also much too short to use."};
  auto r = eval::typo_attack(m, tok, texts, o);
  EXPECT_TRUE(m->is_training());
  ASSERT_EQ(r.size(), 3u);
  for (const auto& x : r) {
    EXPECT_EQ(x.attack, "typo");
    EXPECT_EQ(x.tokens, 12);  // two texts long enough, 6 scored tokens each
  }
  EXPECT_EQ(r[0].loss_increase, 0.0);
  EXPECT_EQ(r[0].flip_rate, 0.0);
  EXPECT_NE(r[2].attacked_loss, r[2].clean_loss);
  EXPECT_EQ(eval::typo_attack(m, tok, texts, o)[2].attacked_loss, r[2].attacked_loss);
}

TEST(HcmaAttack, BadInputIsAnError) {
  TempDir tmp;
  auto m = make_model(tiny_config(true, true), 50);
  auto ok = stream_of(tmp, "ok.bin", random_ids(40, 13, 51), 13);
  auto short_stream = stream_of(tmp, "short.bin", random_ids(5, 13, 52), 13);
  eval::EmbeddingAttackOptions e;
  EXPECT_NE(error_of([&] { eval::embedding_attacks(m, short_stream, e); }).find("full window"), std::string::npos);
  e.eps = {0.1, -0.1};
  EXPECT_NE(error_of([&] { eval::embedding_attacks(m, ok, e); }).find("eps"), std::string::npos);
  e.eps = {};
  EXPECT_NE(error_of([&] { eval::embedding_attacks(m, ok, e); }).find("eps"), std::string::npos);
  e.eps = {0.1};
  e.windows = 0;
  EXPECT_NE(error_of([&] { eval::embedding_attacks(m, ok, e); }).find("window"), std::string::npos);

  const text::Tokenizer tok = small_tokenizer();
  model::GPTConfig c = tiny_config(true, true);
  c.vocab_size = std::int64_t(tok.vocab_size());
  auto lm = make_model(c, 53);
  eval::TokenAttackOptions o;
  o.prefix_words = 4;
  o.continuation_tokens = 3;
  EXPECT_NE(error_of([&] { eval::typo_attack(lm, tok, {}, o); }).find("at least one text"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::typo_attack(lm, tok, {"far too short"}, o); }).find("no text"), std::string::npos);
  o.continuation_tokens = 9;  // more than the context of 8
  EXPECT_NE(error_of([&] { eval::typo_attack(lm, tok, {kText}, o); }).find("continuation_tokens"), std::string::npos);
  o.continuation_tokens = 3;
  o.edits = {-1};
  EXPECT_NE(error_of([&] { eval::typo_attack(lm, tok, {kText}, o); }).find("edits"), std::string::npos);
  model::GPTConfig narrow = c;
  narrow.vocab_size = 100;  // the tokenizer's ids do not fit
  auto nm = make_model(narrow, 54);
  o.edits = {1};
  EXPECT_NE(error_of([&] { eval::typo_attack(nm, tok, {kText}, o); }).find("vocabulary"), std::string::npos);

  eval::TokenAttackOptions h;
  h.prefix_tokens = 4;
  h.continuation_tokens = 4;
  h.edits = {1, 5};
  EXPECT_NE(error_of([&] { eval::hotflip_attack(m, ok, h); }).find("at most once"), std::string::npos);
  h.edits = {1};
  h.prefix_tokens = 6;  // 10 tokens do not fit a context of 8 + 1
  EXPECT_NE(error_of([&] { eval::hotflip_attack(m, ok, h); }).find("context"), std::string::npos);
  h.prefix_tokens = 4;
  EXPECT_NE(error_of([&] { eval::hotflip_attack(m, short_stream, h); }).find("a sequence needs 8"), std::string::npos);
  h.hotflip_candidates = 0;
  EXPECT_NE(error_of([&] { eval::hotflip_attack(m, ok, h); }).find("candidate"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::detail::hotflip(m, {1, 2, 3}, 3, 1, 4); }).find("continuation"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::detail::hotflip(m, {1, 2, 30}, 2, 1, 4); }).find("vocabulary"), std::string::npos);
}
