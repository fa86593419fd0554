// CSTDE (docs/METHODS.md §1c): the experiment table, loss by distance to the syntactic partner,
// and sentence-length histograms of generations against the reference corpus.
#include <algorithm>
#include <cmath>
#include <map>

#include "report/learning_curve.h"
#include "report/sections.h"

namespace structlm::report {

namespace {

void add_loss_by_distance(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  Panel p;
  p.title = "Loss by distance to the syntactic partner";
  p.xlabel = "distance to the link partner on the left (tokens)";
  p.ylabel = "loss (nats/token)";
  p.log_x = true;
  add_loss_curves(s, path, "distance", p, "Loss on tokens whose link-grammar partner is k tokens to the left",
                     order, ids);
}

// E1's learning curves (train.eval_log_points): validation loss against training tokens.
void add_learning_curves(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  Panel p;
  p.title = "Learning curves";
  p.xlabel = "training tokens";
  p.ylabel = "validation loss (nats/token)";
  p.log_x = true;
  add_loss_curves(s, path, "training_tokens", p, "Validation loss on the training corpora over training tokens", order,
                  ids);
}

// E1's question, warm start or lasting gain, over the whole of training: at each validation
// point of an arm, the tokens the same seed's baseline needs to reach that loss
// (report/learning_curve.h) over the tokens the arm has trained on. A warm start decays towards 1
// as training goes on; a lasting gain stays above it. A point whose loss the baseline never
// reaches within its whole budget has no multiplier: left out, and counted in the caption.
void add_token_multipliers(Section& s, const std::string& path, const Experiment& e, PlotIds& ids) {
  if (e.baseline.empty()) return;
  const auto lines = read_loss_log(path, "training_tokens");
  std::map<long long, std::vector<CurvePoint>> reference;  // the baseline's curve at each seed
  for (const auto& l : lines)
    if (l.variant == e.baseline) reference[l.seed].push_back({double(l.at), l.loss});
  if (reference.empty()) return;
  for (auto& [seed, curve] : reference)
    std::sort(curve.begin(), curve.end(), [](const CurvePoint& a, const CurvePoint& b) { return a.tokens < b.tokens; });
  std::vector<SeriesPoint> points;
  std::size_t beyond = 0;
  for (const auto& l : lines) {
    if (l.variant == e.baseline || l.at <= 0) continue;
    const auto it = reference.find(l.seed);
    if (it == reference.end()) continue;  // no baseline at this seed: nothing to pair with
    const auto needed = tokens_to_reach(it->second, l.loss);
    if (!needed) {
      ++beyond;
      continue;
    }
    points.push_back({l.variant, l.seed, double(l.at), *needed / double(l.at), l.where});
  }
  if (points.empty() && beyond == 0) return;
  const auto curves = aggregate(points);
  Panel p;
  p.title = "Token multiplier over training";
  p.xlabel = "training tokens of the arm";
  p.ylabel = "baseline tokens for the same loss / arm's tokens";
  p.log_x = true;
  double lo = 0, hi = 0;
  for (const auto& c : curves) {
    p.series.push_back(curve_series(c, color_of(e.variants, c.group)));
    lo = lo == 0 ? c.x.front() : std::min(lo, c.x.front());
    hi = std::max(hi, c.x.back());
  }
  if (hi > 0) {  // the line of no saving
    Series one;
    one.title = "1 (no saving)";
    one.x = {lo, hi};
    one.y = {1, 1};
    one.color = color_of(e.variants, "");
    one.dash = 2;
    p.series.push_back(one);
  }
  const std::string left_out =
      beyond == 0 ? ""
                  : " " + std::to_string(beyond) + " point(s) left out: the baseline does not reach that loss within its "
                    "whole budget (a multiplier above its budget over the arm's tokens).";
  if (curves.empty()) {
    s.add_note("Token multiplier over training (" + path + "): no point has one." + left_out);
    return;
  }
  Figure f;
  f.panels.push_back(p);
  s.add_plot({"Tokens the same seed's baseline needs to reach each arm's validation loss, over the tokens the arm "
              "took (" + path + "): above 1 the arm saves tokens; a warm start falls back to 1, a lasting gain does "
              "not; band: mean ± sd over seeds." + left_out,
              render_figure(f, ids())});
  s.add_table(curve_table(p.title, "training tokens", curves, 2));
}

void add_sentence_lengths(Section& s, const std::string& path, const std::vector<std::string>& order, PlotIds& ids) {
  SentenceLengths sl = read_sentence_lengths(path);
  std::vector<std::string> variants;
  std::map<std::string, std::vector<double>> pooled, w1, means, counts;
  for (const auto& g : sl.generated) {
    if (!pooled.count(g.variant)) variants.push_back(g.variant);
    pooled[g.variant].insert(pooled[g.variant].end(), g.lengths.begin(), g.lengths.end());
    w1[g.variant].push_back(wasserstein1(g.lengths, sl.reference.lengths));
    double sum = 0;
    for (double x : g.lengths) sum += x;
    means[g.variant].push_back(sum / g.lengths.size());
    counts[g.variant].push_back(double(g.lengths.size()));
  }
  // Histogram bins shared by all curves: width chosen for ~30 bins up to the 99th percentile of
  // every length seen, the last bin holding everything longer.
  std::vector<double> all = sl.reference.lengths;
  for (const auto& v : variants) all.insert(all.end(), pooled[v].begin(), pooled[v].end());
  std::sort(all.begin(), all.end());
  double top = all[std::min(all.size() - 1, std::size_t(0.99 * double(all.size())))];
  double width = std::max(1.0, std::ceil(top / 30.0));
  int bins = int(std::floor(top / width)) + 1;
  auto histogram = [&](const std::vector<double>& xs, const std::string& title, int color) {
    std::vector<double> h(std::size_t(bins), 0);
    for (double x : xs) h[std::size_t(std::min(bins - 1, int(std::floor(x / width))))] += 1.0 / xs.size();
    Series se;
    se.title = title;
    se.style = Series::steps;
    se.color = color;
    for (int b = 0; b < bins; ++b) {
      se.x.push_back((b + 0.5) * width);
      se.y.push_back(h[std::size_t(b)]);
    }
    return se;
  };
  Figure f;
  Panel p;
  p.title = "Sentence lengths: generations vs " + sl.reference.corpus;
  p.xlabel = "sentence length (bin width " + format_number(width, 0) + ")";
  p.ylabel = "fraction of sentences";
  Series ref = histogram(sl.reference.lengths, "reference: " + sl.reference.corpus, 6);
  ref.dash = 2;
  p.series.push_back(ref);
  for (const auto& v : variants) p.series.push_back(histogram(pooled[v], v + " (all seeds)", color_of(order, v)));
  f.panels.push_back(p);
  s.add_plot({"Sentence-length histograms (" + path + "); generations pooled over seeds, the last bin holds all "
                  "longer sentences.",
              render_figure(f, ids())});

  Table t;
  t.caption = "Sentence lengths against the reference corpus (" + sl.reference.corpus + ", " +
              std::to_string(sl.reference.lengths.size()) + " sentences)";
  t.header = {"variant", "sentences per seed", "mean length", "Wasserstein-1 to reference (lower is closer)"};
  double ref_sum = 0;
  for (double x : sl.reference.lengths) ref_sum += x;
  t.rows.push_back({"reference: " + sl.reference.corpus, std::to_string(sl.reference.lengths.size()),
                    format_number(ref_sum / sl.reference.lengths.size(), 2), "0"});
  for (const auto& v : variants)
    t.rows.push_back({v, format_spread(summarize(counts[v]), 0), format_spread(summarize(means[v]), 2),
                      format_spread(summarize(w1[v]), 3)});
  s.add_table(t);
}

}  // namespace

void add_cstde_sections(Document& doc, const std::vector<RunData>& runs, PlotIds& ids) {
  add_experiment_sections(
      doc, runs, "cstde", "CSTDE",
      {{"learning_curves.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) {
          add_learning_curves(s, p, e.variants, ids);
          add_token_multipliers(s, p, e, ids);
        }},
       {"loss_by_distance.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) { add_loss_by_distance(s, p, e.variants, ids); }},
       {"sentence_lengths.jsonl",
        [&](Section& s, const std::string& p, const Experiment& e) { add_sentence_lengths(s, p, e.variants, ids); }}});
}

}  // namespace structlm::report
