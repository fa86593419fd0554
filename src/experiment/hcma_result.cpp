#include "experiment/hcma_result.h"

#include <cmath>

#include "core/error.h"
#include "core/json_numbers.h"

namespace structlm::experiment {

namespace {

// The list under `key` (absent: empty), each element read by `read`.
template <typename T, typename F>
std::vector<T> read_list(const json& j, const char* key, const std::string& path, F read) {
  std::vector<T> out;
  if (!j.contains(key)) return out;
  check(j[key].is_array(), path, std::string("field '") + key + "' must be a list");
  for (const auto& e : j[key]) {
    check(e.is_object(), path, std::string("field '") + key + "' must hold objects");
    out.push_back(read(e));
  }
  return out;
}

}  // namespace

json HcmaSuiteResult::to_json() const {
  json out = {{"corpus", corpus}, {"split", split}, {"seed", seed}, {"long_corpus", long_corpus}, {"precision", precision}};
  auto records = [](const std::vector<RecallRecord>& list) {
    json r = json::array();
    for (const auto& x : list)
      r.push_back({{"bucket", x.bucket}, {"min_count", x.min_count}, {"k", x.k}, {"recall", finite_or_null(x.recall)},
                   {"loss", finite_or_null(x.loss)}, {"targets", x.targets}});
    return r;
  };
  out["recall"] = records(recall);
  out["recall_after_input"] = records(after_input);
  json positions = json::array(), ranks = json::array();
  for (const auto& t : rare_ranks.targets) {
    positions.push_back(t.position);
    ranks.push_back(t.rank);
  }
  out["rare_ranks"] = {{"below", rare_ranks.below}, {"positions", positions}, {"ranks", ranks}};
  json p = json::array();
  for (const auto& x : loss_by_position)
    p.push_back({{"position", x.position}, {"loss", finite_or_null(x.loss)}, {"tokens", x.tokens}});
  out["loss_by_position"] = p;
  json a = json::array();
  for (const auto& x : attacks)
    a.push_back({{"attack", x.attack}, {"strength", x.strength}, {"clean_loss", x.clean_loss},
                 {"attacked_loss", x.attacked_loss}, {"loss_increase", x.loss_increase}, {"flip_rate", x.flip_rate},
                 {"tokens", x.tokens}});
  out["attacks"] = a;
  json g = json::array();
  for (const auto& x : agreement)
    g.push_back({{"attractors", x.attractors}, {"accuracy", x.accuracy}, {"margin", x.margin}, {"pairs", x.pairs}});
  out["agreement"] = g;
  json kv = json::array();
  for (const auto& x : key_value)
    kv.push_back({{"distance", x.distance}, {"recall", x.recall}, {"loss", x.loss}, {"trials", x.trials}});
  out["key_value"] = kv;
  const auto& s = stability;
  out["stability"] = {{"self_similarity", s.self_similarity}, {"baseline_cosine", s.baseline_cosine},
                      {"self_similarity_adjusted", s.self_similarity_adjusted}, {"knn_overlap", s.knn_overlap},
                      {"types", s.types}, {"occurrences", s.occurrences}};
  out["isotropy"] = isotropy;
  out["isoscore"] = isoscore;
  out["wordnet"] = {{"hits", wordnet.hits}, {"queries", wordnet.queries}, {"k", wordnet.k}};
  if (inference)
    out["inference"] = {{"tokens_per_s", inference->tokens_per_s}, {"parameter_mib", inference->parameter_mib},
                        {"peak_rss_mib", inference->peak_rss_mib}};
  out["wall_s"] = wall_s;
  return out;
}

HcmaSuiteResult HcmaSuiteResult::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "an HCMA suite result must be a JSON object");
  HcmaSuiteResult r;
  read_field(j, "corpus", r.corpus, path);
  read_field(j, "split", r.split, path);
  read_field(j, "long_corpus", r.long_corpus, path);
  read_field(j, "seed", r.seed, path);
  read_field(j, "precision", r.precision, path);  // absent in results from before the switch: fp32
  auto record = [&](const json& e) {
    RecallRecord x;
    read_field(e, "bucket", x.bucket, path);
    read_field(e, "min_count", x.min_count, path);
    read_field(e, "k", x.k, path);
    x.recall = number_or_nan(e, "recall", path);
    x.loss = number_or_nan(e, "loss", path);
    read_field(e, "targets", x.targets, path);
    return x;
  };
  r.recall = read_list<RecallRecord>(j, "recall", path, record);
  r.after_input = read_list<RecallRecord>(j, "recall_after_input", path, record);
  if (j.contains("rare_ranks")) {  // absent in results from before it was kept
    const json& rr = j["rare_ranks"];
    check(rr.is_object(), path, "field 'rare_ranks' must be an object");
    read_field(rr, "below", r.rare_ranks.below, path);
    std::vector<std::int64_t> positions, ranks;
    read_field(rr, "positions", positions, path);
    read_field(rr, "ranks", ranks, path);
    check(positions.size() == ranks.size(), path,
          "'rare_ranks' has " + std::to_string(positions.size()) + " positions but " + std::to_string(ranks.size()) + " ranks");
    for (std::size_t i = 0; i < positions.size(); ++i) {
      check(ranks[i] >= 0, path, "'rare_ranks' holds a negative rank");
      check(i == 0 || positions[i] > positions[i - 1], path, "'rare_ranks' positions must be strictly ascending");
      r.rare_ranks.targets.push_back({positions[i], ranks[i]});
    }
  }
  r.loss_by_position = read_list<eval::PositionLoss>(j, "loss_by_position", path, [&](const json& e) {
    eval::PositionLoss x;
    read_field(e, "position", x.position, path);
    x.loss = number_or_nan(e, "loss", path);
    read_field(e, "tokens", x.tokens, path);
    return x;
  });
  r.attacks = read_list<eval::AttackResult>(j, "attacks", path, [&](const json& e) {
    eval::AttackResult x;
    read_field(e, "attack", x.attack, path);
    read_field(e, "strength", x.strength, path);
    read_field(e, "clean_loss", x.clean_loss, path);
    read_field(e, "attacked_loss", x.attacked_loss, path);
    read_field(e, "loss_increase", x.loss_increase, path);
    read_field(e, "flip_rate", x.flip_rate, path);
    read_field(e, "tokens", x.tokens, path);
    return x;
  });
  r.agreement = read_list<eval::AgreementResult>(j, "agreement", path, [&](const json& e) {
    eval::AgreementResult x;
    read_field(e, "attractors", x.attractors, path);
    read_field(e, "accuracy", x.accuracy, path);
    read_field(e, "margin", x.margin, path);
    read_field(e, "pairs", x.pairs, path);
    return x;
  });
  r.key_value = read_list<eval::KeyValueResult>(j, "key_value", path, [&](const json& e) {
    eval::KeyValueResult x;
    read_field(e, "distance", x.distance, path);
    read_field(e, "recall", x.recall, path);
    read_field(e, "loss", x.loss, path);
    read_field(e, "trials", x.trials, path);
    return x;
  });
  if (j.contains("stability")) {
    const json& s = j["stability"];
    read_field(s, "self_similarity", r.stability.self_similarity, path);
    read_field(s, "baseline_cosine", r.stability.baseline_cosine, path);
    read_field(s, "self_similarity_adjusted", r.stability.self_similarity_adjusted, path);
    read_field(s, "knn_overlap", r.stability.knn_overlap, path);
    read_field(s, "types", r.stability.types, path);
    read_field(s, "occurrences", r.stability.occurrences, path);
  }
  read_field(j, "isotropy", r.isotropy, path);
  read_field(j, "isoscore", r.isoscore, path);
  if (j.contains("wordnet")) {
    read_field(j["wordnet"], "hits", r.wordnet.hits, path);
    read_field(j["wordnet"], "queries", r.wordnet.queries, path);
    read_field(j["wordnet"], "k", r.wordnet.k, path);
  }
  if (j.contains("inference") && j["inference"].is_object()) {
    InferenceCost c;
    read_field(j["inference"], "tokens_per_s", c.tokens_per_s, path);
    read_field(j["inference"], "parameter_mib", c.parameter_mib, path);
    read_field(j["inference"], "peak_rss_mib", c.peak_rss_mib, path);
    r.inference = c;
  }
  read_field(j, "wall_s", r.wall_s, path);
  return r;
}


}  // namespace structlm::experiment
