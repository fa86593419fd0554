#include "eval/attacks.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/rng.h"
#include "eval/recall.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

namespace F = torch::nn::functional;

namespace {

AttackResult make_result(const std::string& attack, double strength, double clean_nats, double attacked_nats,
                         std::int64_t flips, std::int64_t tokens) {
  AttackResult r;
  r.attack = attack;
  r.strength = strength;
  r.tokens = tokens;
  r.clean_loss = clean_nats / double(tokens);
  r.attacked_loss = attacked_nats / double(tokens);
  r.loss_increase = r.attacked_loss - r.clean_loss;
  r.flip_rate = double(flips) / double(tokens);
  return r;
}

// The loss on the last C tokens of each row of seqs [R, L] (summed over them, nats) and the
// model's argmax at those positions. The caller holds an EvalGuard.
struct Scored {
  std::vector<double> nats;
  std::vector<std::vector<std::int64_t>> argmax;
};
Scored score_continuation(model::CausalLM& model, const torch::Tensor& seqs, std::int64_t C) {
  const std::int64_t R = seqs.size(0), L = seqs.size(1), V = model.vocabulary_rows();
  // Position t predicts token t+1: the continuation L-C .. L-1 is predicted at L-C-1 .. L-2.
  auto logits =
      detail::widen(model.next_token_logits(seqs.slice(1, 0, L - 1), nullptr)).slice(1, L - 1 - C, L - 1).reshape({-1, V});
  auto nll = F::cross_entropy(logits, seqs.slice(1, L - C, L).reshape({-1}),
                              F::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto nats = nll.to(torch::kCPU, torch::kDouble).view({R, C}).sum(1).contiguous();
  auto am = logits.argmax(1).to(torch::kCPU).view({R, C}).contiguous();
  Scored s;
  s.nats.assign(nats.data_ptr<double>(), nats.data_ptr<double>() + R);
  for (std::int64_t i = 0; i < R; ++i) s.argmax.emplace_back(am[i].data_ptr<std::int64_t>(), am[i].data_ptr<std::int64_t>() + C);
  return s;
}

std::int64_t count_flips(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

void check_token_options(const TokenAttackOptions& opt, std::int64_t block_size, const std::string& where) {
  if (opt.edits.empty()) fail(where, "needs at least one number of edits");
  for (int e : opt.edits) check(e >= 0, where, "number of edits must be >= 0, got " + std::to_string(e));
  check(opt.sequences > 0, where, "needs at least one sequence");
  check(opt.continuation_tokens >= 1 && opt.continuation_tokens <= block_size, where,
        "continuation_tokens must be in 1.." + std::to_string(block_size) + " (the context), got " +
            std::to_string(opt.continuation_tokens));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// A UTF-8 word as its characters: each a lead byte with its continuation bytes, so an edit never
// produces a broken character.
std::vector<std::string> characters(const std::string& word) {
  std::vector<std::string> out;
  for (char c : word) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80 && !out.empty())
      out.back() += c;
    else
      out.emplace_back(1, c);
  }
  return out;
}

}  // namespace

namespace detail {

torch::Tensor random_perturbation(std::int64_t rows, std::int64_t dim, double norm, std::uint64_t seed) {
  // A private generator: the attack is reproducible and torch's global stream is left untouched.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto d = torch::randn({rows, dim}, gen, torch::kDouble);
  return d * (norm / d.norm(2, 1, true));
}

torch::Tensor sign_perturbation(const torch::Tensor& grad, double norm) {
  return grad.sign() * (norm / std::sqrt(double(grad.size(-1))));
}

std::string typo_edits(const std::string& text, int edits, std::uint64_t seed, int& applied) {
  SplitMix64 rng(seed);
  std::string s = text;
  for (applied = 0; applied < edits; ++applied) {
    // Byte ranges of the words of 2 characters or more, found afresh: a deletion may shorten one.
    std::vector<std::pair<std::size_t, std::size_t>> words;
    for (std::size_t i = 0; i < s.size();) {
      if (is_space(s[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      int chars = 0;
      for (; j < s.size() && !is_space(s[j]); ++j) chars += (static_cast<unsigned char>(s[j]) & 0xC0) != 0x80;
      if (chars >= 2) words.emplace_back(i, j);
      i = j;
    }
    if (words.empty()) break;
    const auto [b, e] = words[rng.below(words.size())];
    std::vector<std::string> c = characters(s.substr(b, e - b));
    const std::size_t n = c.size();
    auto substitute = [&](std::size_t i) {  // a lowercase letter other than c[i]
      char x = char('a' + rng.below(25));
      if (c[i].size() == 1 && c[i][0] >= 'a' && c[i][0] <= 'z' && x >= c[i][0]) ++x;
      c[i] = std::string(1, x);
    };
    switch (rng.below(4)) {
      case 0: {  // swap adjacent (equal neighbours would change nothing: substitute instead)
        const std::size_t i = rng.below(n - 1);
        if (c[i] == c[i + 1])
          substitute(i);
        else
          std::swap(c[i], c[i + 1]);
        break;
      }
      case 1: c.erase(c.begin() + std::ptrdiff_t(rng.below(n))); break;
      case 2: {
        const std::size_t i = rng.below(n + 1);
        c.insert(c.begin() + std::ptrdiff_t(i), std::string(1, char('a' + rng.below(26))));
        break;
      }
      default: substitute(rng.below(n)); break;
    }
    std::string word;
    for (const auto& ch : c) word += ch;
    s.replace(b, e - b, word);
  }
  return s;
}

TypoSequence typo_sequence(const text::Tokenizer& tok, const std::string& text, const TokenAttackOptions& opt,
                           std::size_t max_len, std::uint64_t seed) {
  TypoSequence out;
  const std::size_t C = std::size_t(opt.continuation_tokens);
  // The prefix ends where its prefix_words-th word ends; the continuation keeps the space after it.
  std::size_t pos = 0;
  int words = 0;
  while (words < opt.prefix_words) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    if (pos == text.size()) return out;
    while (pos < text.size() && !is_space(text[pos])) ++pos;
    ++words;
  }
  const std::string prefix = text.substr(0, pos);
  std::vector<text::TokenId> cont = tok.encode(std::string_view(text).substr(pos));
  if (cont.size() < C) return out;
  cont.resize(C);
  const std::size_t max_prefix = max_len - C;
  auto join = [&](const std::string& p) {
    const std::vector<text::TokenId> ids = tok.encode(p);
    const std::size_t skip = ids.size() > max_prefix ? ids.size() - max_prefix : 0;
    std::vector<std::int64_t> seq(ids.begin() + std::ptrdiff_t(skip), ids.end());
    seq.insert(seq.end(), cont.begin(), cont.end());
    return seq;
  };
  std::vector<std::vector<std::int64_t>> attacked;
  for (int e : opt.edits) {
    int applied = 0;
    const std::string edited = typo_edits(prefix, e, seed, applied);
    if (applied < e) return out;
    attacked.push_back(join(edited));
  }
  out.clean = join(prefix);
  out.attacked = std::move(attacked);
  return out;
}

HotflipTrace hotflip(model::CausalLM& model, const std::vector<std::int64_t>& ids, int prefix_tokens, int rounds,
                     int candidates) {
  const std::string where = "hotflip attack";
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows();
  const std::int64_t L = std::int64_t(ids.size()), P = prefix_tokens, C = L - P;
  check(P >= 1 && C >= 1, where, "needs a prefix and a continuation of at least one token each");
  check(L - 1 <= T, where, "a sequence of " + std::to_string(L) + " tokens does not fit the context (" + std::to_string(T) + " + 1)");
  check(rounds >= 0 && rounds <= P, where,
        "rounds must be in 0.." + std::to_string(P) + " (a prefix position is substituted at most once), got " + std::to_string(rounds));
  check(candidates >= 1, where, "needs at least one candidate per round");
  for (std::int64_t id : ids)
    check(id >= 0 && id < V, where, "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  const auto E = model.input_table().detach();  // [V, d]: the input table the substitutions draw from
  auto on_device = [&](const std::vector<std::int64_t>& v) { return torch::tensor(v, torch::kLong).view({1, L}).to(device); };

  HotflipTrace tr;
  std::vector<std::int64_t> cur = ids;
  Scored s = score_continuation(model, on_device(cur), C);
  double cur_loss = s.nats[0];
  std::vector<std::int64_t> cur_argmax = s.argmax[0];
  auto record = [&] {
    tr.sequences.push_back(cur);
    tr.losses.push_back(cur_loss);
    tr.argmax.push_back(cur_argmax);
  };
  record();
  std::vector<bool> used(std::size_t(P), false);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  for (int r = 1; r <= rounds; ++r) {
    const auto x = on_device(cur);
    torch::Tensor g;  // [P, d]: d(continuation loss) / d(prefix input embeddings); parameters get no grad
    {
      torch::AutoGradMode enable_grad(true);
      auto emb = F::embedding(x.slice(1, 0, L - 1), model.input_table()).detach().requires_grad_(true);
      auto logits = detail::widen(model.logits_from_embeddings(emb)).slice(1, L - 1 - C, L - 1).reshape({-1, V});
      auto loss = F::cross_entropy(logits, x.slice(1, L - C, L).reshape({-1}), F::CrossEntropyFuncOptions().reduction(torch::kSum));
      g = torch::autograd::grad({loss}, {emb})[0][0].slice(0, 0, P);
    }
    // First-order change of the loss when prefix token i becomes j: (E_j - E_i) . g_i.
    const auto prefix = x[0].slice(0, 0, P);
    auto gain = g.matmul(E.t()) - (E.index_select(0, prefix) * g).sum(1, true);  // [P, V]
    gain.scatter_(1, prefix.unsqueeze(1), neg_inf);  // "replace i by i" is no substitution
    std::int64_t free_positions = 0;
    for (std::int64_t p = 0; p < P; ++p) {
      if (used[std::size_t(p)])
        gain[p].fill_(neg_inf);
      else
        ++free_positions;
    }
    const std::int64_t k = std::min<std::int64_t>(candidates, free_positions * (V - 1));
    if (k > 0) {
      const auto top = std::get<1>(gain.flatten().topk(k)).to(torch::kCPU).contiguous();
      const std::int64_t* flat = top.data_ptr<std::int64_t>();
      auto batch = torch::tensor(cur, torch::kLong).view({1, L}).repeat({k, 1}).contiguous();
      std::int64_t* b = batch.data_ptr<std::int64_t>();
      for (std::int64_t c = 0; c < k; ++c) b[c * L + flat[c] / V] = flat[c] % V;
      Scored sc = score_continuation(model, batch.to(device), C);
      const std::int64_t best = std::max_element(sc.nats.begin(), sc.nats.end()) - sc.nats.begin();
      // Only a substitution that hurts the model is kept, so the loss never falls with rounds.
      if (sc.nats[std::size_t(best)] > cur_loss) {
        const std::int64_t p = flat[best] / V;
        cur[std::size_t(p)] = flat[best] % V;
        used[std::size_t(p)] = true;
        cur_loss = sc.nats[std::size_t(best)];
        cur_argmax = sc.argmax[std::size_t(best)];
        record();
        continue;
      }
    }
    // Nothing changed, so every later round would see the same sequence and find the same.
    while (int(tr.sequences.size()) <= rounds) record();
    break;
  }
  return tr;
}

}  // namespace detail

std::vector<AttackResult> embedding_attacks(model::CausalLM& model, const data::TokenStream& stream,
                                            const EmbeddingAttackOptions& opt) {
  const std::string where = "embedding attack";
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows(), D = model.width();
  if (opt.eps.empty()) fail(where, "needs at least one eps");
  for (double e : opt.eps) check(std::isfinite(e) && e >= 0, where, "eps must be finite and >= 0, got " + std::to_string(e));
  check(opt.windows > 0, where, "needs at least one window");
  check(opt.batch_size > 0, where, "batch size must be > 0");
  const std::size_t N = stream.size();
  const std::size_t full = N > 0 ? (N - 1) / std::size_t(T) : 0;
  if (full == 0)
    fail(where, "has " + std::to_string(N) + " tokens; a full window of the model's context needs " + std::to_string(T + 1));
  const std::size_t n_windows = std::min(opt.windows, full);

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  const double mean_norm = model.input_table().to(torch::kDouble).norm(2, 1).mean().item<double>();

  const std::size_t n_eps = opt.eps.size();
  double clean_nats = 0;
  std::vector<double> nats(2 * n_eps, 0.0);  // [attack * n_eps + e]: random, then gradient_sign
  std::vector<std::int64_t> flips(2 * n_eps, 0);
  std::int64_t tokens = 0;
  for (std::size_t w = 0; w < n_windows; w += std::size_t(opt.batch_size)) {
    const std::size_t rows = std::min<std::size_t>(std::size_t(opt.batch_size), n_windows - w);
    const auto batch = detail::read_windows(stream, w, rows, T, V, where).to(device);
    const auto inputs = batch.slice(1, 0, T), targets = batch.slice(1, 1, T + 1).reshape({-1});
    const auto emb = F::embedding(inputs, model.input_table());  // [rows, T, D]

    // nats summed and argmax of a forward from input embeddings x, without gradients.
    auto score = [&](const torch::Tensor& x) {
      auto logits = detail::widen(model.logits_from_embeddings(x)).reshape({-1, V});
      const double n = F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
      return std::make_pair(n, logits.argmax(1));
    };
    // The clean pass without autograd, like the attacked ones, so eps = 0 reproduces it exactly
    // (a pass recording a graph may take another attention kernel).
    const auto [clean, clean_argmax] = score(emb);
    clean_nats += clean;
    tokens += targets.numel();

    torch::Tensor grad;  // of the clean loss w.r.t. the input embeddings only: parameters get no grad
    {
      torch::AutoGradMode enable_grad(true);
      auto x = emb.detach().requires_grad_(true);
      auto logits = detail::widen(model.logits_from_embeddings(x)).reshape({-1, V});
      auto loss = F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kSum));
      grad = torch::autograd::grad({loss}, {x})[0];
    }
    std::vector<torch::Tensor> dirs;  // window w's random unit directions depend only on (seed, w)
    for (std::size_t i = 0; i < rows; ++i) dirs.push_back(detail::random_perturbation(T, D, 1.0, mix_seed(opt.seed, w + i)));
    const auto random_dir = torch::stack(dirs).to(emb.options());
    const auto sign_dir = detail::sign_perturbation(grad, 1.0);
    for (std::size_t e = 0; e < n_eps; ++e) {
      const double scale = opt.eps[e] * mean_norm;
      const torch::Tensor* dir[2] = {&random_dir, &sign_dir};
      for (std::size_t a = 0; a < 2; ++a) {
        const auto [n, argmax] = score(emb + *dir[a] * scale);
        nats[a * n_eps + e] += n;
        flips[a * n_eps + e] += (argmax != clean_argmax).sum().item<std::int64_t>();
      }
    }
  }

  std::vector<AttackResult> out;
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t e = 0; e < n_eps; ++e)
      out.push_back(make_result(a == 0 ? "random" : "gradient_sign", opt.eps[e], clean_nats, nats[a * n_eps + e],
                                flips[a * n_eps + e], tokens));
  return out;
}

std::vector<AttackResult> typo_attack(model::CausalLM& model, const text::Tokenizer& tok,
                                      const std::vector<std::string>& texts, const TokenAttackOptions& opt) {
  const std::string where = "typo attack";
  const std::int64_t T = model.context_length(), V = model.vocabulary_rows();
  if (texts.empty()) fail(where, "needs at least one text");
  check_token_options(opt, T, where);
  check(opt.prefix_words >= 1, where, "prefix_words must be >= 1, got " + std::to_string(opt.prefix_words));

  EvalGuard guard(model);
  const torch::Device device = model.module().parameters().front().device();
  auto on_device = [&](const std::vector<std::int64_t>& v) {
    for (std::int64_t id : v)
      check(id < V, where, "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
    return torch::tensor(v, torch::kLong).view({1, -1}).to(device);
  };
  const std::int64_t C = opt.continuation_tokens;
  double clean_nats = 0;
  std::vector<double> nats(opt.edits.size(), 0.0);
  std::vector<std::int64_t> flips(opt.edits.size(), 0);
  std::size_t used = 0;
  for (std::size_t i = 0; i < texts.size() && used < opt.sequences; ++i) {
    const auto seq = detail::typo_sequence(tok, texts[i], opt, std::size_t(T) + 1, mix_seed(opt.seed, i));
    if (seq.clean.empty()) continue;
    ++used;
    const Scored clean = score_continuation(model, on_device(seq.clean), C);
    clean_nats += clean.nats[0];
    for (std::size_t e = 0; e < opt.edits.size(); ++e) {
      const Scored att = score_continuation(model, on_device(seq.attacked[e]), C);
      nats[e] += att.nats[0];
      flips[e] += count_flips(att.argmax[0], clean.argmax[0]);
    }
  }
  if (used == 0)
    fail(where, "no text has " + std::to_string(opt.prefix_words) + " words (enough of 2 characters or more for " +
                    std::to_string(*std::max_element(opt.edits.begin(), opt.edits.end())) + " edits) followed by " +
                    std::to_string(C) + " tokens");

  std::vector<AttackResult> out;
  const std::int64_t tokens = std::int64_t(used) * C;
  for (std::size_t e = 0; e < opt.edits.size(); ++e)
    out.push_back(make_result("typo", opt.edits[e], clean_nats, nats[e], flips[e], tokens));
  return out;
}

std::vector<AttackResult> hotflip_attack(model::CausalLM& model, const data::TokenStream& stream,
                                         const TokenAttackOptions& opt) {
  const std::string where = "hotflip attack";
  const std::int64_t T = model.context_length();
  check_token_options(opt, T, where);
  const std::int64_t P = opt.prefix_tokens, C = opt.continuation_tokens, L = P + C;
  check(P >= 1, where, "prefix_tokens must be >= 1, got " + std::to_string(P));
  check(L - 1 <= T, where, "prefix_tokens + continuation_tokens (" + std::to_string(L) + ") must be at most the context + 1 (" +
                               std::to_string(T + 1) + ")");
  check(opt.hotflip_candidates >= 1, where, "needs at least one candidate per substitution");
  const int rounds = *std::max_element(opt.edits.begin(), opt.edits.end());
  check(rounds <= P, where, "cannot make " + std::to_string(rounds) + " substitutions in a prefix of " + std::to_string(P) +
                                " tokens (a position is substituted at most once)");
  const std::size_t N = stream.size();
  if (N < std::size_t(L)) fail(where, "has " + std::to_string(N) + " tokens; a sequence needs " + std::to_string(L));
  // Disjoint sequences spread over the whole stream, not just its start.
  const std::size_t n = std::min(opt.sequences, N / std::size_t(L)), spacing = N / n;

  double clean_nats = 0;
  std::vector<double> nats(opt.edits.size(), 0.0);
  std::vector<std::int64_t> flips(opt.edits.size(), 0);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(L));
  for (std::size_t i = 0; i < n; ++i) {
    stream.read(i * spacing, ids.size(), ids.data());
    const auto tr = detail::hotflip(model, ids, int(P), rounds, opt.hotflip_candidates);
    clean_nats += tr.losses[0];
    for (std::size_t e = 0; e < opt.edits.size(); ++e) {
      const auto r = std::size_t(opt.edits[e]);
      nats[e] += tr.losses[r];
      flips[e] += count_flips(tr.argmax[r], tr.argmax[0]);
    }
  }
  std::vector<AttackResult> out;
  const std::int64_t tokens = std::int64_t(n) * C;
  for (std::size_t e = 0; e < opt.edits.size(); ++e)
    out.push_back(make_result("hotflip", opt.edits[e], clean_nats, nats[e], flips[e], tokens));
  return out;
}

}  // namespace structlm::eval
