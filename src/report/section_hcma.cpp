// HCMA (docs/METHODS.md §2d): the experiment table, rare-token recall by frequency bucket, loss
// increase by attack strength, loss by position, and a PCA of the embedding before and after.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "report/jsonl.h"
#include "report/pca.h"
#include "report/sections.h"

namespace structlm::report {

namespace {

void add_rare_recall(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  auto lines = read_jsonl(path);
  if (lines.empty()) fail(path, "no records");
  // Buckets ordered from rarest to most frequent by their lower frequency bound.
  std::map<std::string, double> bucket_min;
  for (const auto& l : lines) {
    std::string b = string_field(l.value, "bucket", l.where);
    double m = number_field(l.value, "min_count", l.where);
    if (bucket_min.count(b) && bucket_min[b] != m)
      throw Error(l.where + ": bucket '" + b + "' has min_count " + l.value["min_count"].dump() + ", earlier lines " +
                  format_number(bucket_min[b], 0));
    bucket_min[b] = m;
  }
  std::vector<std::pair<double, std::string>> buckets;
  for (const auto& [b, m] : bucket_min) buckets.push_back({m, b});
  std::sort(buckets.begin(), buckets.end());
  auto bucket_index = [&](const std::string& b) {
    for (std::size_t i = 0; i < buckets.size(); ++i)
      if (buckets[i].second == b) return double(i);
    return -1.0;
  };
  std::map<long long, std::vector<SeriesPoint>> by_k;
  std::set<std::tuple<long long, std::string, long long, std::string>> seen;
  for (const auto& l : lines) {
    auto kit = l.value.find("k");
    if (kit == l.value.end() || !kit->is_number_integer() || kit->get<long long>() < 1)
      throw Error(l.where + ": field 'k' missing or not a positive integer");
    long long k = kit->get<long long>();
    SeriesPoint p;
    p.group = string_field(l.value, "variant", l.where);
    p.seed = seed_field(l.value, l.where);
    std::string b = string_field(l.value, "bucket", l.where);
    p.x = bucket_index(b);
    p.y = number_field(l.value, "recall", l.where);
    if (!seen.insert({k, p.group, p.seed, b}).second)
      throw Error(l.where + ": variant '" + p.group + "' seed " + std::to_string(p.seed) + " k " + std::to_string(k) +
                  " bucket '" + b + "' appears twice");
    by_k[k].push_back(p);
  }
  Figure f;
  f.width = 380 * int(std::min<std::size_t>(by_k.size(), 3)) + 120;
  std::vector<Table> tables;
  for (const auto& [k, pts] : by_k) {
    auto curves = aggregate(pts);
    Panel p;
    p.title = "Next-token recall@" + std::to_string(k);
    p.xlabel = "training frequency of the target";
    p.ylabel = "recall@" + std::to_string(k);
    for (std::size_t i = 0; i < buckets.size(); ++i) p.xtics.push_back({double(i), buckets[i].second});
    for (const auto& c : curves) p.series.push_back(curve_series(c, color_of(order, c.group)));
    f.panels.push_back(p);
    Table t = curve_table("Next-token recall@" + std::to_string(k) + " by target frequency", "bucket", curves);
    for (auto& row : t.rows) row[0] = buckets[std::size_t(std::stod(row[0]))].second;
    tables.push_back(t);
  }
  s.add_plot({"Rare-token recall by training-frequency bucket (" + path + "); band: mean ± sd over seeds.",
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
  auto [attacks, loss] = split(aggregate(read_series(path, {"attack", "variant"}, "strength", "loss_increase")));
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
  for (const auto& l : read_jsonl(path)) flips = flips && l.value.contains("flip_rate");
  if (flips) {
    auto [fa, flip] = split(aggregate(read_series(path, {"attack", "variant"}, "strength", "flip_rate")));
    for (const auto& a : fa)
      s.add_table(curve_table("Top-1 flip rate under attack '" + a + "' by strength", "strength", flip[a]));
  }
}

void add_loss_by_position(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  Panel p;
  p.title = "Loss by position in long documents";
  p.xlabel = "position (tokens)";
  p.ylabel = "loss (nats/token)";
  add_variant_curves(s, path, "position", "loss", p, "Loss by position", order, ids);
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
       {"attack.jsonl", [&](Section& s, const std::string& p, const Experiment& e) { add_attacks(s, p, e.variants, ids); }},
       {"loss_by_position.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) { add_loss_by_position(s, p, e.variants, ids); }},
       {"embedding_sample.jsonl", [&](Section& s, const std::string& p, const Experiment&) { add_embedding_projection(s, p, ids); }}});
}

}  // namespace structlm::report
