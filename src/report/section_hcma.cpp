// HCMA (docs/METHODS.md §2d): the experiment table, rare-token recall by frequency bucket, rows'
// movement by calibration count, loss increase by attack strength and attacked against clean
// loss, loss by position, and a PCA of the embedding before and after.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "report/pca.h"
#include "report/sections.h"

namespace structlm::report {

namespace {

// Count buckets ordered from rarest to most frequent by their lower bound: the plots' x axis
// (recall by training count, movement by calibration count). A label with two bounds in one log
// is an error naming the line.
struct Buckets {
  std::vector<std::pair<long long, std::string>> sorted;  // (min_count, label)
  double index(const std::string& b) const {
    for (std::size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i].second == b) return double(i);
    return -1.0;
  }
  void label(Panel& p) const {
    for (std::size_t i = 0; i < sorted.size(); ++i) p.xtics.push_back({double(i), sorted[i].second});
  }
  // curve_table writes the x value (the index): the label instead.
  void label(Table& t) const {
    for (auto& row : t.rows) row[0] = sorted[std::size_t(std::stod(row[0]))].second;
  }
};

template <typename Line>
Buckets bucket_axis(const std::vector<Line>& lines) {
  std::map<std::string, long long> bucket_min;
  for (const auto& l : lines) {
    if (bucket_min.count(l.bucket) && bucket_min[l.bucket] != l.min_count)
      throw Error(l.where + ": bucket '" + l.bucket + "' has min_count " + std::to_string(l.min_count) + ", earlier lines " +
                  std::to_string(bucket_min[l.bucket]));
    bucket_min[l.bucket] = l.min_count;
  }
  Buckets b;
  for (const auto& [label, m] : bucket_min) b.sorted.push_back({m, label});
  std::sort(b.sorted.begin(), b.sorted.end());
  return b;
}

// Issue 15: the band is a 95 % interval of the mean recall, not the seeds' spread. With ≥ 2 seeds
// the t interval over seeds; one seed has no spread over seeds, so the Wilson score interval of its
// recall over the bucket's targets (the sampling error of that one measurement). Seeds that all
// give the same recall (a deterministic method scoring the same targets at every seed) are one
// measurement too: a t interval would be the point, so Wilson, over the fewest targets any of them had.
void add_rare_recall(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  const auto lines = read_recall_log(path);
  const Buckets buckets = bucket_axis(lines);
  std::map<long long, std::vector<SeriesPoint>> by_k;
  std::map<std::tuple<long long, std::string, double>, std::vector<const RecallLine*>> lines_at;  // (k, variant, x)
  std::set<std::tuple<long long, std::string, long long, std::string>> seen;
  for (const auto& l : lines) {
    if (!seen.insert({l.k, l.variant, l.seed, l.bucket}).second)
      throw Error(l.where + ": variant '" + l.variant + "' seed " + std::to_string(l.seed) + " k " + std::to_string(l.k) +
                  " bucket '" + l.bucket + "' appears twice");
    by_k[l.k].push_back({l.variant, l.seed, buckets.index(l.bucket), l.recall, l.where});
    lines_at[{l.k, l.variant, buckets.index(l.bucket)}].push_back(&l);
  }
  Figure f;
  f.width = 380 * int(std::min<std::size_t>(by_k.size(), 3)) + 120;
  std::vector<Table> tables;
  std::vector<std::string> no_interval;  // points that need a Wilson interval and have none
  for (const auto& [k, pts] : by_k) {
    auto curves = aggregate(pts);
    for (auto& c : curves)
      for (std::size_t i = 0; i < c.x.size(); ++i) {
        if (c.y[i].n >= 2 && c.y[i].min != c.y[i].max) {
          c.band.push_back(mean_t_interval(c.y[i]));
          continue;
        }
        const auto& ls = lines_at.at({k, c.group, c.x[i]});
        const RecallLine* fewest = ls.front();
        for (const RecallLine* l : ls)
          if (l->targets < fewest->targets) fewest = l;
        c.band.push_back(wilson_interval(fewest->recall, fewest->targets));
        if (!std::isfinite(c.band.back().lo)) no_interval.push_back(fewest->where);
      }
    Panel p;
    p.title = "Next-token recall@" + std::to_string(k);
    p.xlabel = "training frequency of the target";
    p.ylabel = "recall@" + std::to_string(k);
    buckets.label(p);
    for (const auto& c : curves) p.series.push_back(curve_series(c, color_of(order, c.group)));
    f.panels.push_back(p);
    const std::string caption = "Next-token recall@" + std::to_string(k) + " by target frequency";
    Table t = curve_table(caption, "bucket", curves);
    buckets.label(t);
    tables.push_back(t);
    Table ci = curve_band_table(
        caption + ": 95 % interval of the mean (t over seeds; one seed, or seeds all equal: Wilson over the targets)",
        "bucket", curves);
    buckets.label(ci);
    tables.push_back(ci);
  }
  s.add_plot({"Rare-token recall by training-frequency bucket (" + path +
                  "); band: 95 % confidence interval of the mean, with 2 or more seeds the t interval over seeds "
                  "(mean ± t(0.975, n − 1) sd/√n), with one seed, or seeds that all give the same recall (one "
                  "measurement repeated), the Wilson score interval of that recall over the bucket's targets.",
              render_figure(f, ids())});
  if (!no_interval.empty())
    s.add_note("Recall: " + std::to_string(no_interval.size()) +
               " point(s) of one measurement have no Wilson interval (no 'targets' count, or a recall outside [0, 1]), "
               "so no band there and 'n/a' in the interval table; the first is " + no_interval.front() + ".");
  for (auto& t : tables) s.add_table(std::move(t));
}

// Issue 15: did the alignment keep frequent rows in place? Each aligned variant's mean relative
// movement by the token's calibration count (the buckets of OUT.align/report.md).
void add_movement(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  const auto lines = read_movement_log(path);
  const Buckets buckets = bucket_axis(lines);
  std::vector<SeriesPoint> points;
  std::set<std::tuple<std::string, long long, std::string>> seen;
  for (const auto& l : lines) {
    if (!seen.insert({l.variant, l.seed, l.bucket}).second)
      throw Error(l.where + ": variant '" + l.variant + "' seed " + std::to_string(l.seed) + " bucket '" + l.bucket +
                  "' appears twice");
    points.push_back({l.variant, l.seed, buckets.index(l.bucket), l.relative_move, l.where});
  }
  const auto curves = aggregate(points);
  Panel p;
  p.title = "How far input rows moved";
  p.xlabel = "calibration count of the token";
  p.ylabel = "mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖";
  buckets.label(p);
  for (const auto& c : curves) p.series.push_back(curve_series(c, color_of(order, c.group)));
  Figure f;
  f.panels.push_back(p);
  s.add_plot({"Relative movement of the input rows by calibration-count bucket (" + path +
                  "); band: mean ± sd over seeds (a deterministic method's seeds share one alignment).",
              render_figure(f, ids())});
  Table t = curve_table("Relative movement mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ by calibration count", "bucket", curves);
  buckets.label(t);
  s.add_table(std::move(t));
}

// One curve per (attack, variant), of the loss increase or of the flip rate.
std::vector<Curve> attack_curves(const std::string& path, const std::vector<AttackLine>& lines, bool flips) {
  std::vector<SeriesPoint> points;
  for (const auto& l : lines)
    points.push_back({l.attack + " · " + l.variant, l.seed, l.strength, flips ? *l.flip_rate : l.loss_increase, l.where});
  check_unique_points(points, path, "strength");
  return aggregate(points);
}

std::string strength_text(double x) { return x == std::floor(x) ? format_number(x, 0) : json(x).dump(); }

// Issue 15, item 4: an attacked-loss gain bought by a clean-loss change lies on the variants'
// common trend. Attacked against clean loss on the same windows, one point per variant × seed,
// at each attack's largest strength (where the variants are furthest apart).
void add_attacked_vs_clean(Section& s, const std::string& path, const std::vector<AttackLine>& lines,
                           const std::vector<std::string>& order, PlotIds& ids) {
  std::vector<std::string> attacks;
  std::map<std::string, double> strongest;
  for (const auto& l : lines) {
    if (!strongest.count(l.attack)) attacks.push_back(l.attack);
    strongest[l.attack] = strongest.count(l.attack) ? std::max(strongest[l.attack], l.strength) : l.strength;
  }
  // Two panels a row: four side by side leave each too narrow beside its key.
  Figure f;
  f.columns = 2;
  f.width = attacks.size() > 1 ? 1200 : 700;
  f.height = 400 * int((attacks.size() + 1) / 2);
  std::vector<Table> tables;
  for (const auto& a : attacks) {
    const std::string at = "'" + a + "' at strength " + strength_text(strongest[a]);
    std::vector<std::string> variants;  // file order
    std::map<std::string, Series> points;
    for (const auto& l : lines) {
      if (l.attack != a || l.strength != strongest[a]) continue;
      if (!points.count(l.variant)) {
        variants.push_back(l.variant);
        Series& se = points[l.variant];
        se.title = l.variant;
        se.style = Series::points;
        se.color = color_of(order, l.variant);
        se.point_size = 0.8;  // a few points each, not a cloud
      }
      points[l.variant].x.push_back(*l.clean_loss);
      points[l.variant].y.push_back(*l.attacked_loss);
    }
    Panel p;
    p.title = "Attack " + at;
    p.xlabel = "clean loss (nats/token)";
    p.ylabel = "attacked loss (nats/token)";
    Table t;
    t.caption = "Clean and attacked loss under " + at + ", on the same windows (nats/token)";
    t.header = {"variant", "clean loss", "attacked loss"};
    for (const auto& v : variants) {
      p.series.push_back(points[v]);
      t.rows.push_back({v, format_spread(summarize(points[v].x)), format_spread(summarize(points[v].y))});
    }
    f.panels.push_back(p);
    tables.push_back(std::move(t));
  }
  s.add_plot({"Attacked against clean loss at each attack's largest strength (" + path +
                  "); one point per variant and seed.",
              render_figure(f, ids())});
  for (auto& t : tables) s.add_table(std::move(t));
}

void add_attacks(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  auto split = [](const std::vector<Curve>& curves) {
    std::map<std::string, std::vector<Curve>> by_attack;
    std::vector<std::string> attacks;
    for (auto c : curves) {
      std::string attack = c.group.substr(0, c.group.find(" · "));
      c.group = c.group.substr(c.group.find(" · ") + 4);  // " · " is 4 bytes in UTF-8
      if (!by_attack.count(attack)) attacks.push_back(attack);
      by_attack[attack].push_back(c);
    }
    return std::make_pair(attacks, by_attack);
  };
  const auto lines = read_attack_log(path);
  auto [attacks, loss] = split(attack_curves(path, lines, false));
  Figure f;
  f.width = 380 * int(std::min<std::size_t>(attacks.size(), 3)) + 120;
  for (const auto& a : attacks) {
    Panel p;
    p.title = "Attack: " + a;
    p.xlabel = "attack strength";
    p.ylabel = "loss increase (nats/token)";
    for (const auto& c : loss[a]) p.series.push_back(curve_series(c, color_of(order, c.group)));
    f.panels.push_back(p);
    s.add_table(curve_table("Loss increase under attack '" + a + "' by strength", "strength", loss[a]));
  }
  s.add_plot({"Loss increase by attack strength (" + path + "); band: mean ± sd over seeds.", render_figure(f, ids())});
  // The top-1 flip rate is optional: tabulated when every line has it.
  bool flips = true;
  for (const auto& l : lines) flips = flips && l.flip_rate.has_value();
  if (flips) {
    auto [fa, flip] = split(attack_curves(path, lines, true));
    for (const auto& a : fa)
      s.add_table(curve_table("Top-1 flip rate under attack '" + a + "' by strength", "strength", flip[a]));
  }
  bool losses = true;
  for (const auto& l : lines) losses = losses && l.clean_loss && l.attacked_loss;
  if (losses)
    add_attacked_vs_clean(s, path, lines, order, ids);
  else
    s.add_note("Attacked against clean loss: omitted, " + path +
               " has no clean_loss and attacked_loss on every line (logs written before issue 15's second round).");
}

void add_loss_by_position(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  Panel p;
  p.title = "Loss by position in long documents";
  p.xlabel = "position (tokens)";
  p.ylabel = "loss (nats/token)";
  add_loss_curves(s, path, "position", p, "Loss by position", order, ids);
}

void add_embedding_projection(Section& s, const std::string& path, PlotIds& ids) {
  EmbeddingSample e = read_embedding_sample(path);
  std::vector<long long> clusters(e.clusters);
  std::sort(clusters.begin(), clusters.end());
  clusters.erase(std::unique(clusters.begin(), clusters.end()), clusters.end());
  Figure f;
  f.width = 1000;
  f.height = 460;
  for (int which = 0; which < 2; ++which) {
    Projection2D pr = pca_2d(which == 0 ? e.before : e.after);
    Panel p;
    p.title = which == 0 ? "Embedding before alignment" : "Embedding after alignment";
    p.xlabel = "PC1 (" + format_number(100 * pr.explained[0], 1) + "% of variance)";
    p.ylabel = "PC2 (" + format_number(100 * pr.explained[1], 1) + "% of variance)";
    for (std::size_t ci = 0; ci < clusters.size(); ++ci) {
      Series se;
      se.title = "cluster " + std::to_string(clusters[ci]);
      se.style = Series::points;
      se.color = int(ci);
      for (std::size_t i = 0; i < e.tokens.size(); ++i)
        if (e.clusters[i] == clusters[ci]) {
          se.x.push_back(pr.x[i]);
          se.y.push_back(pr.y[i]);
        }
      p.series.push_back(se);
    }
    f.panels.push_back(p);
  }
  s.add_plot({"PCA of " + std::to_string(e.tokens.size()) + " sampled token embeddings (" + path +
                  "), each panel projected on its own first two principal axes, coloured by top-level cluster.",
              render_figure(f, ids())});
}

}  // namespace

void add_hcma_sections(Document& doc, const std::vector<RunData>& runs, PlotIds& ids) {
  add_experiment_sections(
      doc, runs, "hcma", "HCMA",
      {{"rare_recall.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) { add_rare_recall(s, p, e.variants, ids); }},
       {"movement.jsonl", [&](Section& s, const std::string& p, const Experiment& e) { add_movement(s, p, e.variants, ids); }},
       {"attack.jsonl", [&](Section& s, const std::string& p, const Experiment& e) { add_attacks(s, p, e.variants, ids); }},
       {"loss_by_position.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) { add_loss_by_position(s, p, e.variants, ids); }},
       {"embedding_sample.jsonl", [&](Section& s, const std::string& p, const Experiment&) { add_embedding_projection(s, p, ids); }}});
}

}  // namespace structlm::report
