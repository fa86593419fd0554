// CSTDE's probes called directly: induced heads on a hand-made matrix; the dependency probe's
// batched, padded loss-by-distance and UAS against a per-sentence forward pass computed here;
// and `structlm parse`'s heads and CoNLL-U against the same forward pass.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "eval/dependency_probe.h"
#include "eval/induced_heads.h"
#include "text/link_grammar.h"
#include "text/link_tokens.h"
#include "zoo/zoo.h"

using namespace structlm;

namespace {

TEST(InducedHeads, ArgmaxOverEarlierPositionsFromFirst) {
  // Row i: weights over j <= i. Heads are sought in [first, i): never the token itself.
  auto m = torch::tensor({{1.0, 0.0, 0.0, 0.0},
                          {0.9, 0.1, 0.0, 0.0},
                          {0.5, 0.1, 0.4, 0.0},
                          {0.1, 0.2, 0.3, 0.4}});
  EXPECT_EQ(eval::induced_heads(m, 0), (std::vector<int>{-1, 0, 0, 2}));
  EXPECT_EQ(eval::induced_heads(m, 1), (std::vector<int>{-1, -1, 1, 2}));
}

// A tokenizer and a small random model with dependency attention, float64.
struct Fixture {
  text::Tokenizer tok;
  model::GPT net{nullptr};
  std::vector<text::LinkedSentence> sentences;
  Fixture() {
    std::vector<std::string> docs;
    for (int i = 0; i < 30; ++i) docs.push_back("The jury said that the city was well run. The dog barked at the old man.");
    text::BpeTrainOptions o;
    o.vocab_size = 300;
    o.verbose = false;
    tok = text::Tokenizer::train(docs, o);
    model::GPTConfig c;
    c.vocab_size = std::int64_t(tok.vocab_size());
    c.block_size = 32;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.cstde.attention = true;
    c.cstde.rank = 4;
    torch::manual_seed(3);
    net = zoo::make_gpt(c);
    net->to(torch::kFloat64);
    torch::NoGradGuard g;
    for (auto& p : net->parameters()) p.normal_(0, 0.3);  // beta away from 0: D shapes attention
    text::LinkParser parser;
    for (const char* s : {"The jury said that the city was well run.", "The dog barked at the old man.",
                          "The old man said that the dog was run."})
      sentences.push_back(parser.parse(s));
  }
};

TEST(DependencyProbe, BatchedProbeMatchesOneSentenceAtATime) {
  Fixture f;
  const auto probe = eval::probe_dependencies(f.net, f.tok, f.sentences, /*batch_size=*/2);
  EXPECT_EQ(probe.sentences, 3u);
  std::map<int, eval::DistanceLoss> expect;
  std::size_t partnered = 0, hits_attn = 0, hits_dep = 0, hits_adjacent = 0;
  double hits_random = 0;
  std::map<int, std::size_t> adjacent_by_distance;
  for (const auto& s : f.sentences) {
    ASSERT_TRUE(s.parsed) << s.text;
    auto ids = f.tok.encode(s.text);
    auto partners = text::token_partners(s, text::token_spans(f.tok, ids));
    std::vector<std::int64_t> input{std::int64_t(f.tok.eot())};
    input.insert(input.end(), ids.begin(), ids.end());
    const auto n = std::int64_t(input.size());
    model::ForwardTrace trace;
    torch::NoGradGuard g;
    f.net->eval();
    auto logp = torch::log_softmax(f.net->forward(torch::tensor(input).view({1, n}), nullptr, &trace), -1)[0];
    auto attn = eval::induced_heads(trace.attention.back()[0], 1);
    auto dep = eval::induced_heads(trace.dependency.back()[0], 1);
    for (std::size_t t = 0; t < partners.size(); ++t) {
      if (partners[t] < 0) continue;
      auto& b = expect[int(t) - partners[t]];
      b.loss_sum += -logp[std::int64_t(t)][input[t + 1]].item<double>();
      b.tokens += 1;
      ++partnered;
      hits_attn += attn[t + 1] == partners[t] + 1;
      hits_dep += dep[t + 1] == partners[t] + 1;
      // Baselines by hand: the previous sentence token is the head exactly when the partner is
      // 1 token away; a random head among the t earlier sentence tokens hits with chance 1/t.
      hits_adjacent += partners[t] == int(t) - 1;
      adjacent_by_distance[int(t) - partners[t]] += partners[t] == int(t) - 1;
      hits_random += 1.0 / double(t);
    }
  }
  ASSERT_GT(partnered, 5u);
  EXPECT_EQ(probe.tokens_with_partner, partnered);
  ASSERT_EQ(probe.loss_by_distance.size(), expect.size());
  for (const auto& [k, b] : expect) {
    EXPECT_EQ(probe.loss_by_distance.at(k).tokens, b.tokens) << "distance " << k;
    EXPECT_NEAR(probe.loss_by_distance.at(k).loss_sum, b.loss_sum, 1e-9) << "distance " << k;
  }
  EXPECT_DOUBLE_EQ(probe.uas_attention, double(hits_attn) / double(partnered));
  EXPECT_DOUBLE_EQ(probe.uas_dependency, double(hits_dep) / double(partnered));
  EXPECT_DOUBLE_EQ(probe.uas_adjacent, double(hits_adjacent) / double(partnered));
  EXPECT_NEAR(probe.uas_random, hits_random / double(partnered), 1e-12);
  EXPECT_GT(probe.uas_adjacent, 0.0);  // the sentences have adjacent links, so the check can fail
  for (const auto& [k, n] : adjacent_by_distance) EXPECT_EQ(probe.loss_by_distance.at(k).hits_adjacent, n);
  std::size_t by_distance_attn = 0;
  for (const auto& [k, b] : probe.loss_by_distance) by_distance_attn += b.hits_attention;
  EXPECT_EQ(by_distance_attn, hits_attn);
}

TEST(InducedParse, HeadsAndConlluFollowTheForwardPass) {
  Fixture f;
  const std::string s = "The dog barked at the old man.";
  auto h = eval::induce_heads(f.net, f.tok, s, /*with_links=*/true);
  const auto ids = f.tok.encode(s);
  ASSERT_EQ(h.forms.size(), ids.size());
  ASSERT_TRUE(h.has_dependency);
  std::vector<std::int64_t> input{std::int64_t(f.tok.eot())};
  input.insert(input.end(), ids.begin(), ids.end());
  model::ForwardTrace trace;
  {
    torch::NoGradGuard g;
    f.net->eval();
    f.net->forward(torch::tensor(input).view({1, std::int64_t(input.size())}), nullptr, &trace);
  }
  const auto dep = eval::induced_heads(trace.dependency.back()[0], 1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(h.dep[i], std::max(dep[i + 1], 0)) << "token " << i;  // 1-based head == position
    EXPECT_LT(h.dep[i], int(i) + 1);                                  // an earlier token or root
  }
  const std::string conllu = eval::heads_as_conllu(h, s, 7);
  std::istringstream in(conllu);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "# sent_id = 7");
  std::getline(in, line);
  EXPECT_EQ(line, "# text = " + s);
  std::size_t rows = 0;
  while (std::getline(in, line) && !line.empty()) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), '\t'), 9) << line;  // 10 CoNLL-U fields
    EXPECT_NE(line.find("LinkHead="), std::string::npos) << line;
  }
  EXPECT_EQ(rows, ids.size());
  EXPECT_NE(eval::heads_as_text(h, s).find("head by D"), std::string::npos);
}

}  // namespace
