#include "experiment/hcma_suite.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "core/error.h"
#include "core/platform.h"
#include "data/shard.h"
#include "data/wordnet_relations.h"
#include "eval/attacks.h"
#include "eval/geometry.h"
#include "eval/longrange.h"
#include "eval/recall.h"
#include "model/precision.h"
#include "eval/mode_guard.h"
#include "report/stats.h"

namespace structlm::experiment {

namespace {

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
InferenceCost inference_cost(model::CausalLM& model) {
  eval::EvalGuard guard(model);
  const auto device = model.module().parameters().front().device();
  auto x = torch::randint(model.vocabulary_rows(), {4, model.context_length()},
                          torch::TensorOptions().dtype(torch::kLong).device(device));
  std::vector<double> tps;
  for (int round = 0; round < 11; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    auto y = model.next_token_logits(x, nullptr);
    (void)y.sum().item<double>();  // waits for the device
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (round > 0) tps.push_back(double(x.numel()) / s);
  }
  double bytes = 0;
  for (auto& p : model.module().parameters()) bytes += double(p.numel() * p.element_size());
  return {report::median(tps), bytes / (1024.0 * 1024.0), peak_rss_mib()};
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


// Training-frequency counts of every id: the reference shards, or their first `limit` tokens.
std::vector<std::int64_t> frequency_counts(const data::TokenStream& reference, std::int64_t V, std::size_t limit) {
  if (limit == 0 || limit >= reference.size()) return eval::count_tokens(reference, V);
  std::vector<std::int64_t> ids(limit), counts(std::size_t(V), 0);
  reference.read(0, ids.size(), ids.data());
  for (auto id : ids) {
    check(id >= 0 && id < V, "eval", "frequency shards hold token id " + std::to_string(id) + ", outside the vocabulary");
    ++counts[std::size_t(id)];
  }
  return counts;
}

// Targets drawn by the probe seed (every variant measured with one seed scores the same ones; each
// seed a different sample); the ranks of the rare ones (seen < 100 times, the summary's "rare")
// kept for paired tests.
std::vector<RecallRecord> recall_records(model::CausalLM& model, const data::TokenStream& held_out,
                                         const std::vector<std::int64_t>& counts, std::size_t max_targets,
                                         std::uint64_t seed, RareRanks& rare, std::vector<RecallRecord>& after_input) {
  const std::vector<int> ks = {1, 10};
  eval::FrequencyScoring how;
  how.max_tokens = max_targets;
  how.draw_seed = seed;
  how.keep_ranks_below = rare.below = 100;
  std::vector<eval::BucketScore> by_input;
  auto scores = eval::score_by_frequency(model, held_out, counts, ks, eval::default_frequency_buckets(), how,
                                         &rare.targets, &by_input);
  auto records = [&](const std::vector<eval::BucketScore>& list) {
    std::vector<RecallRecord> out;
    for (const auto& b : list)
      for (std::size_t i = 0; i < ks.size(); ++i)
        out.push_back({b.bucket.label, b.bucket.min_count, ks[i], b.recall[i], b.loss, b.targets});
    return out;
  };
  after_input = records(by_input);
  return records(scores);
}

std::vector<eval::AttackResult> attack_records(model::CausalLM& model, const text::Tokenizer& tok,
                                               const data::TokenStream& held_out, const std::vector<std::string>& texts,
                                               const HcmaSuiteOptions& opt) {
  std::vector<eval::AttackResult> attacks;
  auto add = [&](const std::vector<eval::AttackResult>& rs) { attacks.insert(attacks.end(), rs.begin(), rs.end()); };
  eval::EmbeddingAttackOptions eo;
  eo.eps = opt.eps;
  eo.windows = opt.attack_windows;
  eo.seed = opt.seed;
  add(eval::embedding_attacks(model, held_out, eo));
  eval::TokenAttackOptions to;
  to.sequences = opt.token_attack_sequences;
  to.seed = opt.seed;
  add(eval::typo_attack(model, tok, texts, to));
  add(eval::hotflip_attack(model, held_out, to));
  return attacks;
}

}  // namespace

HcmaSuiteResult run_hcma_suite(model::CausalLM& model, const workspace::Workspace& ws, const HcmaSuiteOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* what) {
    std::fprintf(stderr, "eval hcma: %-22s (%.0f s)\n", what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  check(!opt.tokenizer.empty(), "eval", "the HCMA suite needs the model's tokenizer");
  const auto split = workspace::parse_split(opt.split, "eval: --split");
  const auto tok = ws.load_tokenizer(opt.tokenizer);
  const std::int64_t V = model.vocabulary_rows();
  workspace::check_model_fits_tokenizer(V, tok.vocab_size(), "the model", opt.tokenizer);
  const auto corpus = ws.prepare_corpus(opt.corpus);
  const auto shards = ws.ensure_shards(opt.corpus, opt.tokenizer);
  const data::TokenStream held_out({shards.of(split)});
  held_out.check_ids_below(std::size_t(V), "the model's vocabulary");
  const data::TokenStream reference(opt.frequency_shards.empty() ? std::vector<std::string>{shards.train} : opt.frequency_shards);
  reference.check_ids_below(std::size_t(V), "the model's vocabulary");  // names the shard, not just "token counts"
  const auto counts = frequency_counts(reference, V, opt.frequency_tokens);
  HcmaSuiteResult out;
  out.corpus = opt.corpus;
  out.split = opt.split;
  out.seed = opt.seed;
  out.long_corpus = opt.long_corpus;
  const auto device = model.module().parameters().front().device();
  const auto precision = model::resolve_precision(opt.precision, device);
  out.precision = precision.name();
  std::fprintf(stderr, "eval hcma: precision %s (%s)\n", precision.name(), precision.why.c_str());
  // The measurements that run the model do so under autocast; one region for all of them, as
  // the weights never change here. The geometry of the input table below stays outside it.
  std::optional<model::AutocastGuard> autocast;
  autocast.emplace(precision.precision, device);

  phase("recall by frequency");
  out.recall = recall_records(model, held_out, counts, opt.recall_tokens, opt.seed, out.rare_ranks, out.after_input);

  phase("loss by position");
  const data::TokenStream long_text({ws.ensure_shards(opt.long_corpus, opt.tokenizer).of(split)});
  long_text.check_ids_below(std::size_t(V), "the model's vocabulary");
  out.loss_by_position = eval::loss_by_position(model, long_text, eval::log2_position_buckets(model.context_length()),
                                                opt.position_windows);

  phase("attacks");
  std::vector<std::string> texts;
  for (const auto& d : workspace::split_docs(corpus, split)) texts.push_back(d.text);
  out.attacks = attack_records(model, tok, held_out, texts, opt);

  phase("agreement");
  out.agreement = eval::agreement_accuracy(model, tok, eval::agreement_pairs(opt.agreement_per_count, 4, opt.seed));

  phase("key-value recall");
  eval::KeyValueOptions kvo;
  kvo.trials = opt.kv_trials;
  kvo.seed = opt.seed;
  out.key_value = eval::key_value_recall(model, key_value_pool(counts, tok.eot()), kvo);

  phase("contextual stability");
  eval::ContextStabilityOptions so;
  so.max_tokens = opt.stability_tokens;
  so.seed = opt.seed;
  out.stability = eval::contextual_stability(model, held_out, so);

  autocast.reset();
  phase("geometry");
  {
    torch::NoGradGuard ng;
    const auto E = model.input_table().detach().to(torch::kCPU, torch::kFloat32);
    out.isotropy = eval::isotropy_iw(E);
    out.isoscore = eval::isoscore(E);
    out.wordnet = eval::wordnet_neighbours(E, tok, wordnet(ws.wordnet_dir()), 10);
  }
  if (opt.speed) {
    phase("inference speed");
    model::AutocastGuard timed(precision.precision, device);
    out.inference = inference_cost(model);
  }
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  phase("done");
  return out;
}

const FieldTable<HcmaSuiteOptions>& HcmaSuiteOptions::fields() {
  using O = HcmaSuiteOptions;
  static const auto t =
      FieldTable<O>()
          .add("corpus", +[](O& o) -> std::string& { return o.corpus; }, "held-out text: recall, attacks, stability")
          .add("long_corpus", +[](O& o) -> std::string& { return o.long_corpus; }, "long documents: loss by position")
          .add("split", +[](O& o) -> std::string& { return o.split; }, "val while choosing settings, test for results",
               "train, val or test", [](const std::string& s) { return s == "train" || s == "val" || s == "test"; })
          .add("recall_tokens", +[](O& o) -> std::size_t& { return o.recall_tokens; }, "scored targets (0: the whole split)")
          .add("position_windows", +[](O& o) -> std::size_t& { return o.position_windows; }, "windows for loss by position")
          .add("eps", +[](O& o) -> std::vector<double>& { return o.eps; }, "embedding attack strengths")
          .add("attack_windows", +[](O& o) -> std::size_t& { return o.attack_windows; }, "windows per embedding attack")
          .add("token_attack_sequences", +[](O& o) -> std::size_t& { return o.token_attack_sequences; }, "sequences per token attack")
          .add("agreement_per_count", +[](O& o) -> int& { return o.agreement_per_count; }, "minimal pairs per attractor count")
          .add("kv_trials", +[](O& o) -> int& { return o.kv_trials; }, "key-value trials per distance")
          .add("stability_tokens", +[](O& o) -> std::size_t& { return o.stability_tokens; }, "tokens for contextual stability")
          .add("speed", +[](O& o) -> bool& { return o.speed; }, "time inference (noisy on shared machines)")
          .add("frequency_tokens", +[](O& o) -> std::size_t& { return o.frequency_tokens; }, "count frequencies on the first N tokens (0: all)")
          .add("precision", +[](O& o) -> std::string& { return o.precision; },
               "the model's forward passes: bf16 = bf16 matmuls; auto = bf16 where faster", model::kPrecisionNames,
               model::is_precision_name);
  return t;
}

void read_hcma_suite_options(const json& j, const std::string& where, HcmaSuiteOptions& h) {
  check(j.is_object(), where, "the suite options must be a JSON object");
  HcmaSuiteOptions::fields().read(j, h, where);
}

}  // namespace structlm::experiment
