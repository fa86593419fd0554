#include "experiment/cstde_result.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/json_numbers.h"

namespace structlm::experiment {

json CstdeRunResult::to_json() const {
  json ev = json::array();
  for (const auto& e : eval) ev.push_back(e.to_json());
  json by_distance = json::array();
  auto optional_number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  for (const auto& b : loss_by_distance)
    by_distance.push_back({{"distance", b.distance}, {"loss", b.loss}, {"tokens", b.tokens},
                           {"uas_attention", number(b.uas_attention)}, {"uas_adjacent", number(b.uas_adjacent)},
                           {"uas_random", number(b.uas_random)}, {"uas_dependency", optional_number(b.uas_dependency)}});
  const auto& g = generation;
  json out = {{"variant", variant},
          {"seed", seed},
          {"params", params},
          {"step_ms", step_ms},
          {"peak_rss_mib", peak_rss_mib},
          {"train_wall_s", train_wall_s},
          {"eval", ev},
          {"sentences_probed", sentences_probed},
          {"tokens_with_partner", tokens_with_partner},
          {"uas_attention", uas_attention},
          {"uas_dependency", optional_number(uas_dependency)},
          {"uas_adjacent", optional_number(uas_adjacent)},
          {"uas_random", optional_number(uas_random)},
          {"prior_weight", prior_weight ? json(*prior_weight) : json(nullptr)},
          {"carry_gate", carry_gate ? json(*carry_gate) : json(nullptr)},
          {"loss_by_distance", by_distance},
          {"generation",
           {{"distinct1", g.distinct1}, {"distinct2", g.distinct2}, {"distinct3", g.distinct3}, {"mtld", g.mtld},
            {"seq_rep4", g.seq_rep4}, {"texts", g.texts}, {"sentence_lengths", g.sentence_lengths},
            {"samples", g.samples}}}};
  if (!curve.empty()) {
    json c = json::array();
    for (const auto& p : curve) c.push_back({p.tokens, p.loss});
    out["curve"] = c;
  }
  return out;
}

CstdeRunResult CstdeRunResult::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "a CSTDE run result must be a JSON object");
  CstdeRunResult r;
  read_field(j, "variant", r.variant, path);
  read_field(j, "seed", r.seed, path);
  read_field(j, "params", r.params, path);
  read_field(j, "step_ms", r.step_ms, path);
  read_field(j, "peak_rss_mib", r.peak_rss_mib, path);
  read_field(j, "train_wall_s", r.train_wall_s, path);
  if (j.contains("eval")) {
    check(j["eval"].is_array(), path, "field 'eval' must be a list");
    for (const auto& e : j["eval"]) r.eval.push_back(CorpusScore::from_json(e, path));
  }
  read_field(j, "sentences_probed", r.sentences_probed, path);
  read_field(j, "tokens_with_partner", r.tokens_with_partner, path);
  read_field(j, "uas_attention", r.uas_attention, path);
  if (j.contains("uas_dependency") && !j["uas_dependency"].is_null()) r.uas_dependency = number_or_nan(j, "uas_dependency", path);
  // Absent from results written before they were measured: read as not measured.
  if (j.contains("prior_weight") && !j["prior_weight"].is_null()) r.prior_weight = number_or_nan(j, "prior_weight", path);
  if (j.contains("carry_gate") && !j["carry_gate"].is_null()) r.carry_gate = number_or_nan(j, "carry_gate", path);
  if (j.contains("uas_adjacent") && !j["uas_adjacent"].is_null()) r.uas_adjacent = number_or_nan(j, "uas_adjacent", path);
  if (j.contains("uas_random") && !j["uas_random"].is_null()) r.uas_random = number_or_nan(j, "uas_random", path);
  if (j.contains("loss_by_distance")) {
    check(j["loss_by_distance"].is_array(), path, "field 'loss_by_distance' must be a list");
    for (const auto& b : j["loss_by_distance"]) {
      DistanceBucket d;
      read_field(b, "distance", d.distance, path);
      d.loss = number_or_nan(b, "loss", path);
      read_field(b, "tokens", d.tokens, path);
      for (auto [key, field] : {std::pair<const char*, double*>{"uas_attention", &d.uas_attention},
                                {"uas_adjacent", &d.uas_adjacent}, {"uas_random", &d.uas_random}})
        if (b.contains(key) && !b[key].is_null()) *field = number_or_nan(b, key, path);
      if (b.contains("uas_dependency") && !b["uas_dependency"].is_null())
        d.uas_dependency = number_or_nan(b, "uas_dependency", path);
      r.loss_by_distance.push_back(d);
    }
  }
  if (j.contains("curve")) {
    check(j["curve"].is_array(), path, "field 'curve' must be a list of [tokens, validation loss]");
    for (const auto& p : j["curve"]) {
      check(p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number(), path,
            "field 'curve' must be a list of [tokens, validation loss] pairs of numbers");
      r.curve.push_back({p[0].get<double>(), p[1].get<double>()});
    }
  }
  if (j.contains("generation")) {
    const json& g = j["generation"];
    check(g.is_object(), path, "field 'generation' must be an object");
    r.generation.distinct1 = number_or_nan(g, "distinct1", path);
    r.generation.distinct2 = number_or_nan(g, "distinct2", path);
    r.generation.distinct3 = number_or_nan(g, "distinct3", path);
    r.generation.mtld = number_or_nan(g, "mtld", path);
    r.generation.seq_rep4 = number_or_nan(g, "seq_rep4", path);
    read_field(g, "texts", r.generation.texts, path);
    read_field(g, "sentence_lengths", r.generation.sentence_lengths, path);
    read_field(g, "samples", r.generation.samples, path);
  }
  return r;
}

}  // namespace structlm::experiment
