#include "cli/hcma_suite.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cli/workspace.h"
#include "core/error.h"
#include "core/platform.h"
#include "data/shard.h"
#include "data/wordnet_relations.h"
#include "eval/hcma_attacks.h"
#include "eval/hcma_geometry.h"
#include "eval/hcma_longrange.h"
#include "eval/hcma_recall.h"
#include "eval/mode_guard.h"
#include "report/stats.h"

namespace structlm::cli {

namespace {

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string split_path(const SplitShards& s, const std::string& split) {
  if (split == "test") return s.test;
  if (split == "val") return s.val;
  if (split == "train") return s.train;
  throw Error("eval: --split must be train, val or test, not '" + split + "'");
}

// Ids for the key-value probe: tokens the model has seen often enough to have an embedding worth
// the name, without the very most frequent (punctuation, "the") that a model predicts anyway.
std::vector<std::int64_t> key_value_pool(const std::vector<std::int64_t>& counts, std::int64_t eot) {
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] >= 5 && std::int64_t(i) != eot) ids.push_back(std::int64_t(i));
  std::stable_sort(ids.begin(), ids.end(), [&](auto a, auto b) { return counts[std::size_t(a)] > counts[std::size_t(b)]; });
  const std::size_t skip = std::min<std::size_t>(50, ids.size() / 4);
  ids.erase(ids.begin(), ids.begin() + std::ptrdiff_t(skip));
  if (ids.size() > 1000) ids.resize(1000);
  return ids;
}

// Forward passes per second over batches of full windows: the median of 10 timed rounds after a
// warm-up, the same for every variant of one model (the numbers it compares).
json inference_cost(model::GPT& model) {
  eval::EvalGuard guard(model);
  const auto& c = model->config();
  const auto device = model->parameters().front().device();
  auto x = torch::randint(c.vocab_size, {4, c.block_size}, torch::TensorOptions().dtype(torch::kLong).device(device));
  std::vector<double> tps;
  for (int round = 0; round < 11; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    auto y = model->forward(x);
    (void)y.sum().item<double>();  // waits for the device
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (round > 0) tps.push_back(double(x.numel()) / s);
  }
  double bytes = 0;
  for (auto& p : model->parameters()) bytes += double(p.numel() * p.element_size());
  return {{"tokens_per_s", report::median(tps)}, {"parameter_mib", bytes / (1024.0 * 1024.0)},
          {"peak_rss_mib", peak_rss_mib()}};
}

const data::WordRelations& wordnet(const std::string& dir) {
  static std::string loaded_from;
  static data::WordRelations relations;
  if (loaded_from != dir) {
    relations = data::load_wordnet_relations(dir);
    loaded_from = dir;
  }
  return relations;
}

}  // namespace

json run_hcma_suite(model::GPT& model, const HcmaSuiteOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* what) {
    std::fprintf(stderr, "eval hcma: %-22s (%.0f s)\n", what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  check(!opt.tokenizer.empty(), "eval", "the HCMA suite needs the model's tokenizer");
  const auto tok = load_tokenizer(opt.tokenizer);
  const std::int64_t V = model->config().vocab_size;
  const auto corpus = prepare_corpus(opt.data_dir, opt.corpus);
  const auto shards = ensure_shards(opt.data_dir, opt.corpus, opt.tokenizer);
  const data::TokenStream held_out({split_path(shards, opt.split)});
  const data::TokenStream reference(opt.frequency_shards.empty() ? std::vector<std::string>{shards.train} : opt.frequency_shards);
  std::vector<std::int64_t> counts;
  if (opt.frequency_tokens > 0 && opt.frequency_tokens < reference.size()) {
    std::vector<std::int64_t> ids(opt.frequency_tokens);
    reference.read(0, ids.size(), ids.data());
    counts.assign(std::size_t(V), 0);
    for (auto id : ids) {
      check(id >= 0 && id < V, "eval", "frequency shards hold token id " + std::to_string(id) + ", outside the vocabulary");
      ++counts[std::size_t(id)];
    }
  } else {
    counts = eval::count_tokens(reference, V);
  }
  json out = {{"corpus", opt.corpus}, {"split", opt.split}, {"seed", opt.seed}};

  phase("recall by frequency");
  const std::vector<int> ks = {1, 10};
  auto scores = eval::score_by_frequency(model, held_out, counts, ks, eval::default_frequency_buckets(), opt.recall_tokens);
  json recall = json::array();
  for (const auto& b : scores)
    for (std::size_t i = 0; i < ks.size(); ++i)
      recall.push_back({{"bucket", b.bucket.label}, {"min_count", b.bucket.min_count}, {"k", ks[i]},
                        {"recall", finite_or_null(b.recall[i])}, {"loss", finite_or_null(b.loss)}, {"targets", b.targets}});
  out["recall"] = recall;

  phase("loss by position");
  const auto long_shards = ensure_shards(opt.data_dir, opt.long_corpus, opt.tokenizer);
  const data::TokenStream long_text({split_path(long_shards, opt.split)});
  json by_pos = json::array();
  for (const auto& p : eval::loss_by_position(model, long_text, eval::log2_position_buckets(model->config().block_size),
                                              opt.position_windows))
    by_pos.push_back({{"position", p.position}, {"loss", finite_or_null(p.loss)}, {"tokens", p.tokens}});
  out["loss_by_position"] = by_pos;
  out["long_corpus"] = opt.long_corpus;

  phase("attacks");
  json attacks = json::array();
  auto add_attacks = [&](const std::vector<eval::AttackResult>& rs) {
    for (const auto& a : rs)
      attacks.push_back({{"attack", a.attack}, {"strength", a.strength}, {"clean_loss", a.clean_loss},
                         {"attacked_loss", a.attacked_loss}, {"loss_increase", a.loss_increase},
                         {"flip_rate", a.flip_rate}, {"tokens", a.tokens}});
  };
  eval::EmbeddingAttackOptions eo;
  eo.eps = opt.eps;
  eo.windows = opt.attack_windows;
  eo.seed = opt.seed;
  add_attacks(eval::embedding_attacks(model, held_out, eo));
  eval::TokenAttackOptions to;
  to.sequences = opt.token_attack_sequences;
  to.seed = opt.seed;
  std::vector<std::string> texts;
  for (const auto& d : (opt.split == "val" ? corpus.val : corpus.test)) texts.push_back(d.text);
  add_attacks(eval::typo_attack(model, tok, texts, to));
  add_attacks(eval::hotflip_attack(model, held_out, to));
  out["attacks"] = attacks;

  phase("agreement");
  json agreement = json::array();
  for (const auto& a : eval::agreement_accuracy(model, tok, eval::agreement_pairs(opt.agreement_per_count, 4, opt.seed)))
    agreement.push_back({{"attractors", a.attractors}, {"accuracy", a.accuracy}, {"margin", a.margin}, {"pairs", a.pairs}});
  out["agreement"] = agreement;

  phase("key-value recall");
  eval::KeyValueOptions kvo;
  kvo.trials = opt.kv_trials;
  kvo.seed = opt.seed;
  json kv = json::array();
  for (const auto& r : eval::key_value_recall(model, key_value_pool(counts, tok.eot()), kvo))
    kv.push_back({{"distance", r.distance}, {"recall", r.recall}, {"loss", r.loss}, {"trials", r.trials}});
  out["key_value"] = kv;

  phase("contextual stability");
  eval::ContextStabilityOptions so;
  so.max_tokens = opt.stability_tokens;
  so.seed = opt.seed;
  auto st = eval::contextual_stability(model, held_out, so);
  out["stability"] = {{"self_similarity", st.self_similarity}, {"baseline_cosine", st.baseline_cosine},
                      {"self_similarity_adjusted", st.self_similarity_adjusted}, {"knn_overlap", st.knn_overlap},
                      {"types", st.types}, {"occurrences", st.occurrences}};

  phase("geometry");
  {
    torch::NoGradGuard ng;
    const auto E = model->wte->weight.detach().to(torch::kCPU, torch::kFloat32);
    out["isotropy"] = eval::isotropy_iw(E);
    out["isoscore"] = eval::isoscore(E);
    auto nb = eval::wordnet_neighbours(E, tok, wordnet(opt.wordnet_dir), 10);
    out["wordnet"] = {{"hits", nb.hits}, {"queries", nb.queries}, {"k", nb.k}};
  }
  if (opt.speed) {
    phase("inference speed");
    out["inference"] = inference_cost(model);
  }
  out["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  phase("done");
  return out;
}

json hcma_summary(const json& s) {
  json v = json::object();
  auto nan = std::numeric_limits<double>::quiet_NaN();
  // Recall and loss over the targets of a count range, pooled over the buckets inside it.
  auto pooled = [&](std::int64_t lo, std::int64_t hi, int k, const char* field) {
    double sum = 0, n = 0;
    for (const auto& r : s["recall"]) {
      const auto m = r["min_count"].get<std::int64_t>();
      if (r["k"].get<int>() != k || m < lo || (hi >= 0 && m > hi) || !r[field].is_number()) continue;
      sum += r[field].get<double>() * r["targets"].get<double>();
      n += r["targets"].get<double>();
    }
    return n > 0 ? sum / n : nan;
  };
  v["rare_recall10"] = pooled(0, 99, 10, "recall");
  v["rare_recall1"] = pooled(0, 99, 1, "recall");
  v["recall10_lt10"] = pooled(0, 9, 10, "recall");
  v["recall10_10_99"] = pooled(10, 99, 10, "recall");
  v["frequent_recall10"] = pooled(1000, -1, 10, "recall");
  v["frequent_ppl"] = std::exp(pooled(1000, -1, 1, "loss"));
  v["ppl"] = std::exp(pooled(0, -1, 1, "loss"));
  auto attack = [&](const std::string& name, double strength) {
    for (const auto& a : s["attacks"])
      if (a["attack"] == name && std::abs(a["strength"].get<double>() - strength) < 1e-9) return a["loss_increase"].get<double>();
    return nan;
  };
  v["random_0.1"] = attack("random", 0.1);
  v["fgsm_0.1"] = attack("gradient_sign", 0.1);
  v["typo_2"] = attack("typo", 2);
  v["hotflip_2"] = attack("hotflip", 2);
  // Unweighted mean of one field over a list of records (each attractor count, each distance).
  auto mean_of = [&](const json& records, const char* field) {
    double sum = 0, n = 0;
    for (const auto& r : records) {
      sum += r[field].get<double>();
      ++n;
    }
    return n > 0 ? sum / n : nan;
  };
  for (const auto& a : s["agreement"]) {
    if (a["attractors"] == 0) v["agreement_0"] = a["accuracy"];
    if (a["attractors"] == 4) v["agreement_4"] = a["accuracy"];
  }
  v["agreement_mean"] = mean_of(s["agreement"], "accuracy");
  v["kv_recall"] = mean_of(s["key_value"], "recall");
  // The loss over the second half of the context: long-range use of the context shows there.
  double late = 0, ln = 0, last_start = 0;
  for (const auto& p : s["loss_by_position"]) last_start = std::max(last_start, p["position"].get<double>());
  for (const auto& p : s["loss_by_position"])
    if (p["position"].get<double>() >= last_start / 2 && p["loss"].is_number()) {
      late += p["loss"].get<double>() * p["tokens"].get<double>();
      ln += p["tokens"].get<double>();
    }
  v["late_loss"] = ln > 0 ? late / ln : nan;
  v["self_similarity_adj"] = s["stability"]["self_similarity_adjusted"];
  v["knn_overlap"] = s["stability"]["knn_overlap"];
  v["isotropy"] = s["isotropy"];
  v["isoscore"] = s["isoscore"];
  v["wordnet_hits10"] = s["wordnet"]["hits"];
  if (s.contains("inference")) {
    v["tokens_per_s"] = s["inference"]["tokens_per_s"];
    v["parameter_mib"] = s["inference"]["parameter_mib"];
  }
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.value().is_number_float() && !std::isfinite(it.value().get<double>())) it.value() = nullptr;
  return v;
}

}  // namespace structlm::cli
