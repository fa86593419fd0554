#include "report/experiment_logs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/fields.h"
#include "report/jsonl.h"

namespace structlm::report {

const Metric& Experiment::metric(const std::string& key) const {
  auto m = std::find_if(metrics.begin(), metrics.end(), [&](const Metric& x) { return x.key == key; });
  if (m == metrics.end()) throw Error(path + ": no metric '" + key + "'");
  return *m;
}

Spread Experiment::summary(const std::string& variant, const std::string& metric) const {
  std::vector<double> v;
  for (const auto& r : rows)
    if (r.variant == variant && r.values.contains(metric) && !r.values[metric].is_null())
      v.push_back(r.values[metric].get<double>());
  return aggregate(v, this->metric(metric).aggregation);
}

std::map<long long, double> Experiment::seed_values(const std::string& variant, const std::string& metric) const {
  std::map<long long, double> v;
  for (const auto& r : rows)
    if (r.variant == variant && r.values.contains(metric) && !r.values[metric].is_null())
      v[r.seed] = r.values[metric].get<double>();
  return v;
}

std::size_t tested_count(const std::vector<Comparison>& c) {
  std::size_t n = 0;
  for (const auto& x : c) n += x.difference.n >= 2;
  return n;
}

std::size_t Comparisons::tested() const { return tested_count(baseline) + tested_count(contrasts); }

std::size_t Comparisons::tested(bool primary) const {
  std::size_t n = 0;
  for (const auto* part : {&baseline, &contrasts})
    for (const auto& x : *part) n += x.difference.n >= 2 && x.primary == primary;
  return n;
}

bool Experiment::is_primary(const std::string& metric_key) const {
  return std::find(primary_metrics.begin(), primary_metrics.end(), metric_key) != primary_metrics.end();
}

void check_primary_metrics(const std::vector<std::string>& keys, const std::vector<Metric>& metrics,
                           const std::string& where) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string at = where + ": primary_metrics[" + std::to_string(i) + "]";
    if (std::none_of(metrics.begin(), metrics.end(), [&](const Metric& m) { return m.key == keys[i]; })) {
      std::string known;
      for (const auto& m : metrics) known += (known.empty() ? "" : ", ") + m.key;
      throw Error(at + ": '" + keys[i] + "' is not a metric key of this experiment (known: " + known + ")");
    }
    for (std::size_t k = 0; k < i; ++k)
      if (keys[k] == keys[i]) throw Error(at + ": '" + keys[i] + "' is listed twice");
  }
}

Comparisons compare_all(const Experiment& e) {
  Comparisons out;
  out.families = !e.primary_metrics.empty();
  auto compare = [&](const std::string& v, const std::string& ref, std::vector<Comparison>& to) {
    for (const auto& m : e.metrics) {
      auto d = paired_difference(e.seed_values(v, m.key), e.seed_values(ref, m.key), m.aggregation == Aggregation::geometric);
      if (d.n == 0) continue;
      to.push_back({v, ref, &m, d, Verdict::single_seed, out.families && e.is_primary(m.key)});
    }
  };
  if (!e.baseline.empty())
    for (const auto& v : e.variants)
      if (v != e.baseline) compare(v, e.baseline, out.baseline);
  for (const auto& [v, ref] : e.contrasts) compare(v, ref, out.contrasts);
  // Each family (one without primary metrics: every comparison is "secondary"): the comparisons
  // of both parts with a p value (two or more paired seeds).
  for (bool primary : {true, false}) {
    std::vector<double> p;
    for (const auto* part : {&out.baseline, &out.contrasts})
      for (const auto& c : *part)
        if (c.difference.n >= 2 && c.primary == primary) p.push_back(c.difference.p);
    const auto adjusted = holm_adjust(p);
    std::size_t k = 0;
    for (auto* part : {&out.baseline, &out.contrasts})
      for (auto& c : *part)
        if (c.difference.n >= 2 && c.primary == primary) c.difference.p_holm = adjusted[k++];
  }
  for (auto* part : {&out.baseline, &out.contrasts})
    for (auto& c : *part) c.verdict = verdict(c.difference, c.metric->lower_is_better);
  return out;
}

std::vector<Comparison> compare_to_baseline(const Experiment& e) { return compare_all(e).baseline; }

json Experiment::to_json() const {
  json j = {{"experiment", name}, {"description", description}, {"baseline", baseline}, {"metrics", metrics_json(metrics)}};
  json r = json::array();
  for (const auto& row : rows) r.push_back({{"variant", row.variant}, {"seed", row.seed}, {"values", row.values}});
  j["rows"] = r;
  if (!contrasts.empty()) {  // optional: files without contrasts stay as they were
    json c = json::array();
    for (const auto& [v, ref] : contrasts) c.push_back({v, ref});
    j["contrasts"] = c;
  }
  if (!primary_metrics.empty()) j["primary_metrics"] = primary_metrics;  // optional, as contrasts
  return j;
}

void Experiment::check() {
  std::set<std::string> keys;
  for (std::size_t i = 0; i < metrics.size(); ++i)
    if (!keys.insert(metrics[i].key).second)
      throw Error(path + ": metrics[" + std::to_string(i) + "]: metric '" + metrics[i].key + "' listed twice");
  variants.clear();
  std::set<std::pair<std::string, long long>> seen;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ExperimentRow& row = rows[i];
    const std::string where = path + ": rows[" + std::to_string(i) + "]";
    if (!seen.insert({row.variant, row.seed}).second)
      throw Error(where + ": variant '" + row.variant + "' seed " + std::to_string(row.seed) + " appears twice");
    if (!row.values.is_object()) throw Error(where + ": field 'values' must be an object");
    for (auto it = row.values.begin(); it != row.values.end(); ++it) {
      if (!keys.count(it.key())) throw Error(where + ": value '" + it.key() + "' is not a listed metric");
      if (it.value().is_null()) continue;
      const double v = number_field(row.values, it.key().c_str(), where);
      if (metric(it.key()).aggregation == Aggregation::geometric && !(v > 0))
        throw Error(where + ": value '" + it.key() + "' is " + it.value().dump() +
                    ", but the metric aggregates geometrically (every value must be > 0)");
    }
    if (std::find(variants.begin(), variants.end(), row.variant) == variants.end()) variants.push_back(row.variant);
  }
  if (!baseline.empty() && std::find(variants.begin(), variants.end(), baseline) == variants.end())
    fail(path, "baseline '" + baseline + "' has no rows");
  std::set<std::pair<std::string, std::string>> pairs;
  for (std::size_t i = 0; i < contrasts.size(); ++i) {
    const auto& [v, ref] = contrasts[i];
    const std::string where = path + ": contrasts[" + std::to_string(i) + "]";
    for (const auto& name : {v, ref})
      if (std::find(variants.begin(), variants.end(), name) == variants.end())
        throw Error(where + ": variant '" + name + "' has no rows");
    if (v == ref) throw Error(where + ": compares '" + v + "' with itself");
    if (!baseline.empty() && (v == baseline || ref == baseline))
      throw Error(where + ": names the baseline '" + baseline + "', which every variant is compared with already");
    if (pairs.count({ref, v}) || !pairs.insert(contrasts[i]).second)
      throw Error(where + ": ['" + v + "', '" + ref + "'] is listed twice (a pair, or the same pair reversed)");
  }
  check_primary_metrics(primary_metrics, metrics, path);
}

Experiment read_experiment(const std::string& path, const std::string& expected_name) {
  json j = load_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object");
  Experiment e;
  e.path = path;
  e.name = string_field(j, "experiment", path);
  if (e.name != expected_name) fail(path, "field 'experiment' is '" + e.name + "', expected '" + expected_name + "'");
  if (j.contains("description")) e.description = string_field(j, "description", path);
  if (j.contains("baseline")) e.baseline = string_field(j, "baseline", path);
  if (!j.contains("metrics") || !j["metrics"].is_array() || j["metrics"].empty())
    fail(path, "field 'metrics' must be a non-empty list");
  for (std::size_t i = 0; i < j["metrics"].size(); ++i)
    e.metrics.push_back(Metric::from_json(j["metrics"][i], path + ": metrics[" + std::to_string(i) + "]"));
  if (!j.contains("rows") || !j["rows"].is_array()) fail(path, "field 'rows' must be a list");
  for (std::size_t i = 0; i < j["rows"].size(); ++i) {
    const json& r = j["rows"][i];
    const std::string where = path + ": rows[" + std::to_string(i) + "]";
    if (!r.is_object()) throw Error(where + ": expected an object");
    ExperimentRow row;
    row.variant = string_field(r, "variant", where);
    row.seed = seed_field(r, where);
    if (!r.contains("values") || !r["values"].is_object()) throw Error(where + ": field 'values' must be an object");
    row.values = r["values"];
    e.rows.push_back(std::move(row));
  }
  if (j.contains("contrasts")) {  // optional (files written before issue 14's second round have none)
    const json& c = j["contrasts"];
    if (!c.is_array()) fail(path, "field 'contrasts' must be a list of [variant, reference] pairs");
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!c[i].is_array() || c[i].size() != 2 || !c[i][0].is_string() || !c[i][1].is_string())
        throw Error(path + ": contrasts[" + std::to_string(i) + "]: expected a [variant, reference] pair of names, got " +
                    c[i].dump());
      e.contrasts.emplace_back(c[i][0].get<std::string>(), c[i][1].get<std::string>());
    }
  }
  if (j.contains("primary_metrics")) {  // optional (files written before issue 14's third round have none)
    const json& m = j["primary_metrics"];
    if (!m.is_array() || !std::all_of(m.begin(), m.end(), [](const json& x) { return x.is_string(); }))
      fail(path, "field 'primary_metrics' must be a list of metric keys");
    for (const auto& x : m) e.primary_metrics.push_back(x.get<std::string>());
  }
  e.check();
  return e;
}

void check_unique_points(const std::vector<SeriesPoint>& points, const std::string& path, const std::string& x_label) {
  if (points.empty()) fail(path, "no records");
  std::set<std::tuple<std::string, long long, double>> seen;
  for (const auto& p : points)
    if (!seen.insert({p.group, p.seed, p.x}).second)
      throw Error(p.where + ": '" + p.group + "' seed " + std::to_string(p.seed) + " " + x_label + " " +
                  (p.x == std::floor(p.x) ? format_number(p.x, 0) : json(p.x).dump()) + " appears twice");
}

namespace {

template <typename Line, typename Read>
std::vector<Line> read_log(const std::string& path, Read read) {
  std::vector<Line> out;
  for (const auto& l : read_jsonl(path)) out.push_back(read(l.value, l.where));
  if (out.empty()) fail(path, "no records");
  return out;
}

// ---- the raw-log lines: one field table each, used by the writer (to_json) and every reader
// (from_json). Every field is required unless listed as optional; unknown keys are refused.

template <typename Line>
Line read_line(const FieldTable<Line>& table, const json& j, const std::string& where,
               const std::vector<std::string>& optional = {}, const std::vector<std::string>& extra_keys = {}) {
  if (!j.is_object()) throw Error(where + ": expected a JSON object");
  for (const auto& name : table.names())
    if (std::find(optional.begin(), optional.end(), name) == optional.end() && (!j.contains(name) || j[name].is_null()))
      throw Error(where + ": missing field '" + name + "'");
  Line l;
  table.read(j, l, where, extra_keys);
  l.where = where;
  return l;
}

// Every line starts with the variant and seed it belongs to.
template <typename L>
FieldTable<L> keyed_fields() {
  return FieldTable<L>()
      .add("variant", +[](L& l) -> std::string& { return l.variant; }, "the method or variant")
      .add("seed", +[](L& l) -> long long& { return l.seed; }, "seed", ">= 0", non_negative);
}

const FieldTable<RecallLine>& recall_fields() {
  using L = RecallLine;
  static const auto t = keyed_fields<L>()
      .add("k", +[](L& l) -> int& { return l.k; }, "recall@k", ">= 1", at_least(1))
      .add("bucket", +[](L& l) -> std::string& { return l.bucket; }, "frequency bucket label")
      .add("min_count", +[](L& l) -> long long& { return l.min_count; }, "the bucket's lowest count (orders buckets)")
      .add("recall", +[](L& l) -> double& { return l.recall; }, "recall in the bucket")
      .add("targets", +[](L& l) -> long long& { return l.targets; }, "targets in the bucket (informative)");
  return t;
}

const FieldTable<AttackLine>& attack_fields() {
  using L = AttackLine;
  static const auto t = keyed_fields<L>()
      .add("attack", +[](L& l) -> std::string& { return l.attack; }, "attack name")
      .add("strength", +[](L& l) -> double& { return l.strength; }, "attack strength")
      .add("loss_increase", +[](L& l) -> double& { return l.loss_increase; }, "loss under attack minus clean loss");
  return t;
}
// AttackLine's optional fields (a table holds no optionals).
constexpr const char* kFlipRate = "flip_rate";
constexpr const char* kCleanLoss = "clean_loss";
constexpr const char* kAttackedLoss = "attacked_loss";

const FieldTable<MovementLine>& movement_fields() {
  using L = MovementLine;
  static const auto t = keyed_fields<L>()
      .add("bucket", +[](L& l) -> std::string& { return l.bucket; }, "calibration-count bucket label")
      .add("min_count", +[](L& l) -> long long& { return l.min_count; }, "the bucket's lowest count (orders buckets)", ">= 0",
           non_negative)
      .add("relative_move", +[](L& l) -> double& { return l.relative_move; }, "mean ||E*_t - E0_t|| / ||E0_t||", ">= 0",
           non_negative)
      .add("tokens", +[](L& l) -> long long& { return l.tokens; }, "tokens in the bucket (informative)");
  return t;
}

// LossLine's position column is "position", "distance" or "tokens" (a learning curve): one table
// per name.
const FieldTable<LossLine>& loss_fields(const std::string& at_key) {
  using L = LossLine;
  auto make = [](const char* at) {
    return keyed_fields<L>()
        .add(at, +[](L& l) -> long long& { return l.at; }, "position or distance")
        .add("loss", +[](L& l) -> double& { return l.loss; }, "mean loss there")
        .add("tokens", +[](L& l) -> long long& { return l.tokens; }, "tokens averaged (informative)");
  };
  static const auto position = make("position"), distance = make("distance"), tokens = make("training_tokens");
  if (at_key == "position") return position;
  if (at_key == "distance") return distance;
  if (at_key == "training_tokens") return tokens;
  throw Error("loss log: no column '" + at_key + "' (position, distance or training_tokens)");
}

}  // namespace

json RecallLine::to_json() const { return recall_fields().to_json(*this); }
RecallLine RecallLine::from_json(const json& j, const std::string& where) {
  return read_line(recall_fields(), j, where, {"targets"});
}

json AttackLine::to_json() const {
  json j = attack_fields().to_json(*this);
  if (flip_rate) j[kFlipRate] = *flip_rate;
  if (clean_loss) j[kCleanLoss] = *clean_loss;
  if (attacked_loss) j[kAttackedLoss] = *attacked_loss;
  return j;
}
AttackLine AttackLine::from_json(const json& j, const std::string& where) {
  AttackLine l = read_line(attack_fields(), j, where, {}, {kFlipRate, kCleanLoss, kAttackedLoss});
  auto optional = [&](const char* key, std::optional<double>& to) {
    if (j.contains(key) && !j[key].is_null()) to = number_field(j, key, where);
  };
  optional(kFlipRate, l.flip_rate);
  optional(kCleanLoss, l.clean_loss);
  optional(kAttackedLoss, l.attacked_loss);
  return l;
}

json MovementLine::to_json() const { return movement_fields().to_json(*this); }
MovementLine MovementLine::from_json(const json& j, const std::string& where) {
  return read_line(movement_fields(), j, where, {"tokens"});
}

json LossLine::to_json(const char* at_key) const { return loss_fields(at_key).to_json(*this); }
LossLine LossLine::from_json(const json& j, const char* at_key, const std::string& where) {
  return read_line(loss_fields(at_key), j, where, {"tokens"});
}

std::vector<RecallLine> read_recall_log(const std::string& path) { return read_log<RecallLine>(path, RecallLine::from_json); }
std::vector<AttackLine> read_attack_log(const std::string& path) { return read_log<AttackLine>(path, AttackLine::from_json); }
std::vector<MovementLine> read_movement_log(const std::string& path) {
  return read_log<MovementLine>(path, MovementLine::from_json);
}
std::vector<LossLine> read_loss_log(const std::string& path, const char* at_key) {
  return read_log<LossLine>(path, [at_key](const json& j, const std::string& w) { return LossLine::from_json(j, at_key, w); });
}
std::string jsonl_text(const std::vector<LossLine>& lines, const char* at_key) {
  std::string out;
  for (const auto& l : lines) out += l.to_json(at_key).dump() + "\n";
  return out;
}

json LengthSample::to_json() const {
  // Lengths are word counts: written as integers, as the experiment measures them.
  std::vector<long long> counts;
  for (double x : lengths) counts.push_back(std::llround(x));
  if (variant.empty()) return {{"kind", "reference"}, {"corpus", corpus}, {"lengths", counts}};
  return {{"kind", "generated"}, {"variant", variant}, {"seed", seed}, {"lengths", counts}};
}

std::vector<Curve> aggregate(const std::vector<SeriesPoint>& points) {
  std::vector<std::string> order;
  std::map<std::string, std::map<double, std::vector<double>>> by;
  for (const auto& p : points) {
    if (!by.count(p.group)) order.push_back(p.group);
    by[p.group][p.x].push_back(p.y);
  }
  std::vector<Curve> out;
  for (const auto& g : order) {
    Curve c;
    c.group = g;
    for (const auto& [x, ys] : by[g]) {
      c.x.push_back(x);
      c.y.push_back(summarize(ys));
    }
    out.push_back(std::move(c));
  }
  return out;
}

SentenceLengths read_sentence_lengths(const std::string& path) {
  SentenceLengths s;
  bool have_reference = false;
  std::set<std::pair<std::string, long long>> seen;
  for (const auto& line : read_jsonl(path)) {
    const json& j = line.value;
    LengthSample ls;
    std::string kind = string_field(j, "kind", line.where);
    if (!j.contains("lengths") || !j["lengths"].is_array() || j["lengths"].empty())
      throw Error(line.where + ": field 'lengths' must be a non-empty list");
    for (const auto& v : j["lengths"]) {
      if (!v.is_number() || v.get<double>() < 0) throw Error(line.where + ": 'lengths' must hold non-negative numbers");
      ls.lengths.push_back(v.get<double>());
    }
    if (kind == "reference") {
      if (have_reference) throw Error(line.where + ": a second reference line (only one is allowed)");
      ls.corpus = string_field(j, "corpus", line.where);
      s.reference = std::move(ls);
      have_reference = true;
    } else if (kind == "generated") {
      ls.variant = string_field(j, "variant", line.where);
      ls.seed = seed_field(j, line.where);
      if (!seen.insert({ls.variant, ls.seed}).second)
        throw Error(line.where + ": variant '" + ls.variant + "' seed " + std::to_string(ls.seed) + " appears twice");
      s.generated.push_back(std::move(ls));
    } else {
      throw Error(line.where + ": field 'kind' must be \"reference\" or \"generated\", not \"" + kind + "\"");
    }
  }
  if (!have_reference) fail(path, "no line with \"kind\": \"reference\" (the corpus to compare against)");
  return s;
}

EmbeddingSample read_embedding_sample(const std::string& path) {
  EmbeddingSample e;
  std::size_t dim = 0;
  for (const auto& line : read_jsonl(path)) {
    const json& j = line.value;
    e.tokens.push_back(string_field(j, "token", line.where));
    if (!j.contains("cluster") || !j["cluster"].is_number_integer())
      throw Error(line.where + ": field 'cluster' missing or not an integer");
    e.clusters.push_back(j["cluster"].get<long long>());
    for (const char* key : {"before", "after"}) {
      if (!j.contains(key) || !j[key].is_array() || j[key].empty())
        throw Error(line.where + ": field '" + key + "' must be a non-empty list of numbers");
      std::vector<double> v;
      for (const auto& x : j[key]) {
        if (!x.is_number()) throw Error(line.where + ": field '" + key + "' must hold numbers only");
        v.push_back(x.get<double>());
      }
      if (dim == 0) dim = v.size();
      if (v.size() != dim)
        throw Error(line.where + ": field '" + key + "' has " + std::to_string(v.size()) + " numbers, earlier lines " +
                    std::to_string(dim));
      (std::string(key) == "before" ? e.before : e.after).push_back(std::move(v));
    }
  }
  if (e.tokens.size() < 3) fail(path, "needs at least 3 tokens for a 2-D projection");
  return e;
}

}  // namespace structlm::report
