#include "eval/longrange.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "core/rng.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

namespace F = torch::nn::functional;

namespace {

// Rows of one forward pass are capped so that rows x length stays near this many tokens: the
// attention probabilities of a batch are rows x heads x length^2 floats (libtorch 1.13 has no
// fused attention).
constexpr std::int64_t kBatchTokens = 4096;
constexpr std::int64_t kMaxRows = 64;

torch::Device device_of(model::CausalLM& model) { return model.module().parameters().front().device(); }

// log_softmax of forward()'s logits at the given (row, position) cells of idx [B, T], as double
// [N, V] on the CPU. forward's head (ln_f, then the output matrix) is applied to those cells'
// hidden states only: full logits would be B x T x V (GPT-2 at 1024 positions: 200 MB a row).
torch::Tensor log_probs_at(model::CausalLM& model, const torch::Tensor& idx, const std::vector<std::int64_t>& rows,
                           const std::vector<std::int64_t>& cols) {
  auto h = model.residual_stream(idx, model.num_layers());
  auto r = torch::tensor(rows, torch::kLong).to(h.device()), c = torch::tensor(cols, torch::kLong).to(h.device());
  auto logits = model.logits_from_residual(h.index({r, c}));
  return torch::log_softmax(logits.to(torch::kDouble), -1).cpu().contiguous();
}

std::string form(const detail::AgreementNoun& n, bool plural) { return plural ? n.plural : n.singular; }

}  // namespace

namespace detail {

// Every word occurs at least 20 times in Brown in the form used (the test counts them), so GPT-2
// and a small BPE trained on Brown know them all. Nouns are regular or irregular (child/children,
// man/men, woman/women, city/cities, church/churches); no noun's plural equals a
// singular. Things head the prepositional phrases ("near the doors"), people are the subjects of
// the relative clauses ("that the men saw"), so the sentences stay plausible. Verbs agree in the
// present tense (and was/were); the relative clauses' verbs are past tense, which shows no number.
const AgreementLexicon& agreement_lexicon() {
  static const AgreementLexicon lex{
      {
          // people
          {"boy", "boys", true}, {"girl", "girls", true}, {"teacher", "teachers", true},
          {"student", "students", true}, {"child", "children", true}, {"man", "men", true},
          {"woman", "women", true}, {"friend", "friends", true}, {"officer", "officers", true},
          {"farmer", "farmers", true}, {"doctor", "doctors", true}, {"writer", "writers", true},
          {"soldier", "soldiers", true}, {"leader", "leaders", true}, {"member", "members", true},
          {"artist", "artists", true}, {"worker", "workers", true}, {"player", "players", true},
          {"driver", "drivers", true},
          // things and places
          {"key", "keys", false}, {"book", "books", false}, {"door", "doors", false},
          {"window", "windows", false}, {"table", "tables", false}, {"letter", "letters", false},
          {"car", "cars", false}, {"house", "houses", false}, {"road", "roads", false},
          {"picture", "pictures", false}, {"church", "churches", false}, {"city", "cities", false},
          {"tree", "trees", false}, {"wall", "walls", false},
          {"building", "buildings", false}, {"field", "fields", false}, {"office", "offices", false},
          {"room", "rooms", false}, {"street", "streets", false}, {"bridge", "bridges", false},
          {"hill", "hills", false}, {"school", "schools", false}, {"garden", "gardens", false},
          {"chair", "chairs", false}, {"machine", "machines", false}, {"boat", "boats", false},
          {"truck", "trucks", false},
      },
      {
          {" is", " are", false}, {" was", " were", false}, {" has", " have", false},
          {" seems", " seem", false}, {" looks", " look", false}, {" remains", " remain", false},
          {" works", " work", true}, {" knows", " know", true}, {" lives", " live", true},
          {" wants", " want", true}, {" says", " say", true}, {" runs", " run", true},
      },
      {"near", "behind", "beside", "by", "under", "in", "on"},
      {"saw", "liked", "found", "left", "wanted"},
  };
  return lex;
}

}  // namespace detail

std::vector<AgreementPair> agreement_pairs(int per_count, int max_attractors, std::uint64_t seed) {
  const std::string where = "agreement pairs";
  check(per_count > 0, where, "per_count must be > 0, got " + std::to_string(per_count));
  check(max_attractors >= 0 && max_attractors <= 8, where,
        "max_attractors must be within 0..8, got " + std::to_string(max_attractors));
  const auto& lex = detail::agreement_lexicon();
  std::vector<int> people, things;
  for (int i = 0; i < int(lex.nouns.size()); ++i) (lex.nouns[std::size_t(i)].animate ? people : things).push_back(i);

  std::vector<AgreementPair> out;
  for (int count = 0; count <= max_attractors; ++count) {
    // One stream per count: the pairs of a count do not depend on max_attractors.
    SplitMix64 rng(mix_seed(seed, std::uint64_t(count)));
    std::set<std::string> seen;
    for (int i = 0; i < per_count; ++i) {
      const bool plural = i % 2 == 1;
      AgreementPair p;
      // Draw until the pair is new; past 100 tries the templates are exhausted and a repeat is kept.
      for (int attempt = 0; attempt < 100; ++attempt) {
        const int s = int(rng.below(lex.nouns.size()));
        const auto& subject = lex.nouns[std::size_t(s)];
        std::vector<int> used{s};  // every noun of a sentence is a different word
        // A noun of the class (people or things) not yet in this sentence.
        auto draw = [&](const std::vector<int>& from) {
          std::vector<int> free;
          for (int n : from)
            if (std::find(used.begin(), used.end(), n) == used.end()) free.push_back(n);
          used.push_back(free[rng.below(free.size())]);
          return lex.nouns[std::size_t(used.back())];
        };
        p.prefix = std::string("The ") + form(subject, plural);
        bool relative = false;  // at most one relative clause: nested ones become unreadable
        for (int a = 0; a < count; ++a) {
          if (!relative && rng.below(4) == 0) {
            relative = true;
            const auto noun = draw(people);
            p.prefix += " that the " + form(noun, !plural) + " " + lex.relative_verbs[rng.below(lex.relative_verbs.size())];
          } else {
            const char* prep = lex.prepositions[rng.below(lex.prepositions.size())];
            p.prefix += std::string(" ") + prep + " the " + form(draw(things), !plural);
          }
        }
        std::vector<const detail::AgreementVerb*> verbs;
        for (const auto& v : lex.verbs)
          if (subject.animate || !v.animate_only) verbs.push_back(&v);
        const auto* verb = verbs[rng.below(verbs.size())];
        p.good = plural ? verb->plural : verb->singular;
        p.bad = plural ? verb->singular : verb->plural;
        p.attractors = count;
        if (seen.insert(p.prefix + "|" + p.good).second) break;
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

namespace detail {

std::vector<std::array<double, 2>> agreement_logprobs(model::CausalLM& model, const text::Tokenizer& tok,
                                                      const std::vector<AgreementPair>& pairs) {
  const std::string where = "agreement pairs";
  check(!pairs.empty(), where, "no pairs to score");
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows();

  // Two sequences per pair (good, bad): <|endoftext|> prefix verb, cut from the left to T + 1
  // tokens; the model reads all but the last, and the verb's tokens are the last `verb` targets.
  struct Sequence {
    std::vector<std::int64_t> ids;
    std::int64_t verb = 0;
  };
  std::vector<Sequence> seqs;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    const std::string pair = "pair " + std::to_string(i) + " (\"" + p.prefix + "\")";
    check(!p.prefix.empty() && !p.good.empty() && !p.bad.empty(), where, pair + " has an empty prefix or verb");
    check(p.good != p.bad, where, pair + ": good and bad verbs are the same");
    const auto prefix = tok.encode(p.prefix);
    for (const std::string* verb : {&p.good, &p.bad}) {
      const auto v = tok.encode(*verb);
      check(std::int64_t(v.size()) <= T, where, pair + ": the verb is longer than the context");
      Sequence s;
      s.ids.push_back(tok.eot());
      s.ids.insert(s.ids.end(), prefix.begin(), prefix.end());
      s.ids.insert(s.ids.end(), v.begin(), v.end());
      if (std::int64_t(s.ids.size()) > T + 1) s.ids.erase(s.ids.begin(), s.ids.end() - (T + 1));
      for (auto id : s.ids) check(id < V, where, pair + ": token id " + std::to_string(id) + " is outside the model's vocabulary");
      s.verb = std::int64_t(v.size());
      seqs.push_back(std::move(s));
    }
  }

  EvalGuard guard(model);
  const auto device = device_of(model);
  std::vector<double> logp(seqs.size(), 0.0);
  for (std::size_t start = 0; start < seqs.size();) {
    // Rows of similar length would pack tighter; these sequences are short enough not to bother.
    std::int64_t len = 0;
    std::size_t end = start;
    while (end < seqs.size() && std::int64_t(end - start) < kMaxRows) {
      const std::int64_t l = std::max<std::int64_t>(len, std::int64_t(seqs[end].ids.size()) - 1);
      if (end > start && l * std::int64_t(end - start + 1) > kBatchTokens) break;
      len = l, ++end;
    }
    // Right-padding with <|endoftext|>: the model is causal, so padding changes no scored position.
    std::vector<std::int64_t> buf(std::size_t(std::int64_t(end - start) * len), tok.eot());
    std::vector<std::int64_t> rows, cols, targets, owner;
    for (std::size_t s = start; s < end; ++s) {
      const auto& q = seqs[s];
      const auto row = std::int64_t(s - start), n = std::int64_t(q.ids.size());
      std::copy(q.ids.begin(), q.ids.end() - 1, buf.begin() + row * len);
      for (std::int64_t j = n - q.verb; j < n; ++j) {  // target ids[j] is predicted at position j - 1
        rows.push_back(row), cols.push_back(j - 1), targets.push_back(q.ids[std::size_t(j)]);
        owner.push_back(std::int64_t(s));
      }
    }
    auto idx = torch::from_blob(buf.data(), {std::int64_t(end - start), len}, torch::kLong).to(device, false, true);
    auto lp = log_probs_at(model, idx, rows, cols);
    auto a = lp.accessor<double, 2>();
    for (std::size_t k = 0; k < targets.size(); ++k) logp[std::size_t(owner[k])] += a[std::int64_t(k)][targets[k]];
    start = end;
  }
  std::vector<std::array<double, 2>> out(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) out[i] = {logp[2 * i], logp[2 * i + 1]};
  return out;
}

std::vector<KeyValueTrial> key_value_trials(const std::vector<std::int64_t>& pool, const KeyValueOptions& opt,
                                            std::int64_t block_size) {
  const std::string where = "key-value recall";
  check(!pool.empty(), where, "the token pool is empty");
  check(opt.trials > 0, where, "trials must be > 0, got " + std::to_string(opt.trials));
  check(!opt.distances.empty(), where, "no distances given");
  std::vector<std::int64_t> ids;  // the pool without repeats, in first-seen order
  std::unordered_set<std::int64_t> seen;
  for (auto id : pool) {
    check(id >= 0, where, "negative token id " + std::to_string(id) + " in the pool");
    if (seen.insert(id).second) ids.push_back(id);
  }
  check(ids.size() >= 3, where,
        "the pool has " + std::to_string(ids.size()) + " distinct tokens; k, v and filler need at least 3");
  std::vector<int> fits;
  for (int d : opt.distances) {
    check(d >= 1, where, "distances must be >= 1, got " + std::to_string(d));
    if (std::int64_t(d) + 2 + kKeyValueMinPrefix <= block_size) fits.push_back(d);
  }
  if (fits.empty()) return {};
  const std::int64_t L = *std::max_element(fits.begin(), fits.end()) + 2 + kKeyValueMinPrefix;

  const std::uint64_t n = ids.size();
  std::vector<KeyValueTrial> out;
  for (int d : fits)
    for (int t = 0; t < opt.trials; ++t) {
      SplitMix64 rng(mix_seed(opt.seed, std::uint64_t(t)));
      std::uint64_t ki = rng.below(n), vi = rng.below(n - 1);
      if (vi >= ki) ++vi;  // v != k
      const std::uint64_t lo = std::min(ki, vi), hi = std::max(ki, vi);
      KeyValueTrial tr;
      tr.distance = d;
      tr.key = ids[ki], tr.value = ids[vi];
      tr.key_pos = L - 2 - d, tr.value_pos = L - 1 - d;
      tr.tokens.resize(std::size_t(L));
      for (std::int64_t pos = 0; pos < L - 1; ++pos) {
        if (pos == tr.key_pos || pos == tr.value_pos) continue;
        std::uint64_t r = rng.below(n - 2);  // filler: any pool token but k and v
        if (r >= lo) ++r;
        if (r >= hi) ++r;
        tr.tokens[std::size_t(pos)] = ids[r];
      }
      tr.tokens[std::size_t(tr.key_pos)] = tr.key;
      tr.tokens[std::size_t(tr.value_pos)] = tr.value;
      tr.tokens.back() = tr.key;
      out.push_back(std::move(tr));
    }
  return out;
}

}  // namespace detail

std::vector<AgreementResult> agreement_accuracy(model::CausalLM& model, const text::Tokenizer& tok,
                                                const std::vector<AgreementPair>& pairs) {
  const auto logp = detail::agreement_logprobs(model, tok, pairs);
  std::map<int, AgreementResult> by_count;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    auto& r = by_count[pairs[i].attractors];
    r.attractors = pairs[i].attractors;
    const double margin = logp[i][0] - logp[i][1];
    r.accuracy += margin > 0;  // a tie is not a preference for the agreeing verb
    r.margin += margin;
    ++r.pairs;
  }
  std::vector<AgreementResult> out;
  for (auto& [count, r] : by_count) {
    r.accuracy /= double(r.pairs);
    r.margin /= double(r.pairs);
    out.push_back(r);
  }
  return out;
}

std::vector<KeyValueResult> key_value_recall(model::CausalLM& model, const std::vector<std::int64_t>& pool,
                                             const KeyValueOptions& opt) {
  const auto trials = detail::key_value_trials(pool, opt, model.context_length());
  for (auto id : pool)
    check(id < model.vocabulary_rows(), "key-value recall",
          "token id " + std::to_string(id) + " in the pool is outside the model's vocabulary");
  std::vector<KeyValueResult> out;
  if (trials.empty()) return out;

  EvalGuard guard(model);
  const auto device = device_of(model);
  const auto L = std::int64_t(trials.front().tokens.size());
  const auto rows_per_batch = std::clamp<std::int64_t>(kBatchTokens / L, 1, kMaxRows);
  for (std::size_t start = 0; start < trials.size(); start += std::size_t(rows_per_batch)) {
    const std::size_t end = std::min(trials.size(), start + std::size_t(rows_per_batch));
    std::vector<std::int64_t> buf, rows, cols;
    for (std::size_t i = start; i < end; ++i) {
      buf.insert(buf.end(), trials[i].tokens.begin(), trials[i].tokens.end());
      rows.push_back(std::int64_t(i - start)), cols.push_back(L - 1);
    }
    auto idx = torch::from_blob(buf.data(), {std::int64_t(end - start), L}, torch::kLong).to(device, false, true);
    auto lp = log_probs_at(model, idx, rows, cols);
    auto a = lp.accessor<double, 2>();
    for (std::size_t i = start; i < end; ++i) {
      const auto& tr = trials[i];
      if (out.empty() || out.back().distance != tr.distance || out.back().trials == opt.trials)
        out.push_back({tr.distance, 0, 0, 0});
      auto& r = out.back();
      const auto row = std::int64_t(i - start);
      const double target = a[row][tr.value];
      std::int64_t at_least = 0;  // v is top-1 only if no other token reaches its log-prob
      for (std::int64_t t = 0; t < lp.size(1); ++t) at_least += a[row][t] >= target;
      r.recall += at_least == 1;
      r.loss -= target;
      ++r.trials;
    }
  }
  for (auto& r : out) {
    r.recall /= double(r.trials);
    r.loss /= double(r.trials);
  }
  return out;
}

}  // namespace structlm::eval
