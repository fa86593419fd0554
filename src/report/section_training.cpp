// Training and validation loss curves, final losses, CSTDE's path over training (mean |beta|, mean
// gamma, entropy of D), test-split evaluation: from metrics.jsonl and eval.json of every run,
// grouped by config (seeds as bands).
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>

#include "report/jsonl.h"
#include "report/sections.h"

namespace structlm::report {

std::vector<Curve> metric_curves(const std::vector<RunGroup>& groups, double MetricLine::*field) {
  std::vector<Curve> out;
  for (const auto& g : groups) {
    std::vector<SeriesPoint> pts;
    std::size_t runs_with_data = 0;
    for (std::size_t r = 0; r < g.runs.size(); ++r) {
      bool any = false;
      for (const auto& m : g.runs[r]->metrics)
        if (!std::isnan(m.*field)) {
          pts.push_back({g.label, (long long)r, double(m.step), m.*field, ""});
          any = true;
        }
      runs_with_data += any;
    }
    if (pts.empty()) continue;
    Curve c = aggregate(pts)[0];
    Curve kept;
    kept.group = c.group;
    for (std::size_t i = 0; i < c.x.size(); ++i)
      if (std::size_t(c.y[i].n) == runs_with_data) {
        kept.x.push_back(c.x[i]);
        kept.y.push_back(c.y[i]);
      }
    out.push_back(std::move(kept));
  }
  return out;
}

namespace {

Plot curves_plot(const std::vector<Curve>& curves, const std::vector<RunGroup>& groups, const std::string& title,
                 const std::string& ylabel, PlotIds& ids) {
  std::vector<std::string> order;
  for (const auto& g : groups) order.push_back(g.label);
  Figure f;
  Panel p;
  p.title = title;
  p.xlabel = "step";
  p.ylabel = ylabel;
  // Markers where there are few points (a lone validation loss is otherwise invisible).
  for (const auto& c : curves)
    p.series.push_back(curve_series(c, color_of(order, c.group), c.x.size() <= 40 ? Series::linespoints : Series::lines));
  f.panels.push_back(p);
  return {title + ": mean over seeds, band mean ± sd where a configuration has several seeds.", render_figure(f, ids())};
}

// CSTDE's path over training (metrics.jsonl evaluation lines, cstde/prior_use.h).
struct PathField {
  double MetricLine::*field;
  const char* title;
  const char* ylabel;
  const char* column;
};
const PathField kPath[] = {
    {&MetricLine::prior_weight, "Prior weight: mean |β| over heads", "mean |β|", "mean |β|"},
    {&MetricLine::carry_gate, "Carry gate: mean γ over layers", "mean γ", "mean γ"},
    {&MetricLine::d_entropy, "Entropy of D (last layer's rows)", "entropy (nats)", "entropy of D (nats)"}};

// One figure, a panel per quantity that some run logged, a line per configuration with its seed
// band; then the last logged value of each run, by configuration. Nothing where no run logged any.
void add_cstde_path(Section& s, const std::vector<RunGroup>& groups, PlotIds& ids) {
  std::vector<std::string> order;
  for (const auto& g : groups) order.push_back(g.label);
  Figure f;
  for (const auto& q : kPath) {
    auto curves = metric_curves(groups, q.field);
    if (curves.empty()) continue;
    Panel p;
    p.title = q.title;
    p.xlabel = "step";
    p.ylabel = q.ylabel;
    for (const auto& c : curves)
      p.series.push_back(curve_series(c, color_of(order, c.group), c.x.size() <= 40 ? Series::linespoints : Series::lines));
    f.panels.push_back(std::move(p));
  }
  if (f.panels.empty()) return;
  f.width = 380 * int(f.panels.size()) + 120;
  s.add_plot({"CSTDE over training (metrics.jsonl, evaluation steps): mean |β| (the prior's weight in attention), mean "
              "carry gate γ, entropy of D; mean over seeds, band mean ± sd where a configuration has several seeds. "
              "Configurations without CSTDE log none and are absent.",
              render_figure(f, ids())});

  Table t;
  t.caption = "CSTDE at the end of training by configuration (last logged value of each run)";
  t.header = {"configuration", "seeds", "step"};
  for (const auto& q : kPath) t.header.push_back(q.column);
  for (const auto& g : groups) {
    std::vector<double> steps, last[std::size(kPath)];
    std::string seeds;
    for (const auto* r : g.runs) {
      long long step = -1;
      double value[std::size(kPath)];
      for (std::size_t k = 0; k < std::size(kPath); ++k) value[k] = NAN;
      for (const auto& m : r->metrics)
        for (std::size_t k = 0; k < std::size(kPath); ++k)
          if (!std::isnan(m.*kPath[k].field)) {
            value[k] = m.*kPath[k].field;
            step = m.step;
          }
      if (step < 0) continue;
      seeds += (seeds.empty() ? "" : ", ") + (r->seed() >= 0 ? std::to_string(r->seed()) : r->name);
      steps.push_back(double(step));
      for (std::size_t k = 0; k < std::size(kPath); ++k)
        if (!std::isnan(value[k])) last[k].push_back(value[k]);
    }
    if (steps.empty()) continue;
    std::vector<std::string> row{g.label, std::to_string(steps.size()) + " (" + seeds + ")",
                                 format_spread(summarize(steps), 0)};
    for (const auto& v : last) row.push_back(v.empty() ? "not logged" : format_spread(summarize(v)));
    t.rows.push_back(std::move(row));
  }
  s.add_table(t);
}

std::string seeds_text(const RunGroup& g) {
  std::string s;
  for (const auto* r : g.runs) s += (s.empty() ? "" : ", ") + (r->seed() >= 0 ? std::to_string(r->seed()) : r->name);
  return std::to_string(g.runs.size()) + " (" + s + ")";
}

}  // namespace

void add_training_sections(Document& doc, const std::vector<RunData>& runs, const std::vector<RunGroup>& groups,
                           PlotIds& ids) {
  bool any_metrics = false, any_eval = false;
  for (const auto& r : runs) {
    any_metrics = any_metrics || !r.metrics.empty();
    any_eval = any_eval || !r.eval.is_null();
  }
  if (!any_metrics) {
    doc.omitted.push_back("Training curves: omitted, no run directory has a metrics.jsonl.");
  } else {
    Section s;
    s.id = "training";
    s.title = "Training and validation loss";
    auto train = metric_curves(groups, &MetricLine::loss);
    auto val = metric_curves(groups, &MetricLine::val_loss);
    if (!train.empty()) s.add_plot(curves_plot(train, groups, "Training loss", "loss (nats/token)", ids));
    if (!val.empty()) s.add_plot(curves_plot(val, groups, "Validation loss", "loss (nats/token)", ids));
    if (val.empty()) s.add_note("No validation losses were logged (no val_loss in metrics.jsonl).");

    Table t;
    t.caption = "Final losses by configuration (last logged value of each run)";
    t.header = {"configuration", "seeds", "steps", "final train loss", "final val loss", "best val loss",
                "tokens/s (median of log lines)"};
    for (const auto& g : groups) {
      std::vector<double> steps, train_final, val_final, val_best, tps;
      for (const auto* r : g.runs) {
        if (r->metrics.empty()) continue;
        steps.push_back(double(r->metrics.back().step));
        double last_train = NAN, last_val = NAN, best = NAN;
        std::vector<double> speeds;
        for (const auto& m : r->metrics) {
          if (!std::isnan(m.loss)) last_train = m.loss;
          if (!std::isnan(m.val_loss)) {
            last_val = m.val_loss;
            best = std::isnan(best) ? m.val_loss : std::min(best, m.val_loss);
          }
          if (!std::isnan(m.tokens_per_s)) speeds.push_back(m.tokens_per_s);
        }
        if (!std::isnan(last_train)) train_final.push_back(last_train);
        if (!std::isnan(last_val)) val_final.push_back(last_val);
        if (!std::isnan(best)) val_best.push_back(best);
        if (!speeds.empty()) tps.push_back(median(speeds));
      }
      if (steps.empty()) continue;
      t.rows.push_back({g.label, seeds_text(g), format_spread(summarize(steps), 0),
                        format_spread(summarize(train_final)), format_spread(summarize(val_final)),
                        format_spread(summarize(val_best)), format_spread(summarize(tps), 0)});
    }
    s.add_table(t);
    add_cstde_path(s, groups, ids);
    doc.sections.push_back(std::move(s));
  }

  if (!any_eval) {
    doc.omitted.push_back("Test-split evaluation: omitted, no run directory has an eval.json.");
    return;
  }
  Section s;
  s.id = "evaluation";
  s.title = "Test-split evaluation";
  Table t;
  t.caption = "Held-out test splits (eval.json), by configuration and corpus";
  t.header = {"configuration", "corpus", "split", "tokens", "loss", "perplexity", "bits/byte", "xz -9 bits/byte"};
  for (const auto& g : groups) {
    // corpus -> per-seed values, corpora in the order the first run lists them
    std::vector<std::string> corpora;
    std::map<std::string, std::map<std::string, std::vector<double>>> v;
    std::map<std::string, std::string> split;
    for (const auto* r : g.runs) {
      if (r->eval.is_null()) continue;
      const std::string path = r->dir + "/eval.json";
      for (std::size_t i = 0; i < r->eval["corpora"].size(); ++i) {
        const json& c = r->eval["corpora"][i];
        std::string where = path + ": corpora[" + std::to_string(i) + "]";
        std::string name = string_field(c, "corpus", where);
        if (!v.count(name)) corpora.push_back(name);
        split[name] = c.contains("split") ? string_field(c, "split", where) : "";
        for (const char* key : {"tokens", "loss", "perplexity", "bits_per_byte", "xz_bits_per_byte"})
          if (c.contains(key)) v[name][key].push_back(number_field(c, key, where));
      }
    }
    for (const auto& name : corpora) {
      auto& m = v[name];
      t.rows.push_back({g.label, name, split[name], format_spread(summarize(m["tokens"]), 0),
                        format_spread(summarize(m["loss"])), format_spread(summarize(m["perplexity"]), 2),
                        format_spread(summarize(m["bits_per_byte"])), format_spread(summarize(m["xz_bits_per_byte"]))});
    }
  }
  s.add_table(t);
  s.add_note("xz -9 compresses the same test text: a model that does not reach fewer bits per byte than xz has "
             "learned less about the text than a general-purpose compressor.");
  doc.sections.push_back(std::move(s));
}

}  // namespace structlm::report
