#include "report/align_markdown.h"

#include <cstdio>

namespace structlm::report {

namespace {

std::string num(const json& v, int digits) {
  if (!v.is_number()) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v.get<double>());
  return buf;
}

std::string count(const json& v) { return v.is_number() ? std::to_string(v.get<long long>()) : "–"; }

// The second round's switches and checks (issue 15), each only where its key is in the report:
// hcma writes frozen_rows always (0 when freeze_min_count is off), trust_region only with a
// trust_radius, rare_collapse always; shrink writes match only when matched.
std::string constraints_markdown(const json& r) {
  const json opts = r.value("options", json::object());
  std::string md;
  const long long frozen = r.contains("frozen_rows") ? r["frozen_rows"].get<long long>() : 0;
  if (r.contains("frozen_rows") && (frozen > 0 || opts.value("freeze_min_count", 0LL) > 0))
    md += "- Frozen rows: " + std::to_string(frozen) + " (tokens seen at least " + count(opts.value("freeze_min_count", json())) +
          " times in calibration), byte-identical to the source.\n";
  if (r.contains("trust_region"))
    md += "- Trust region (r_t = " + num(opts.value("trust_radius", json()), 3) + " ‖E⁰_t‖ κ/(n_t + κ)): " +
          count(r["trust_region"].value("rows_projected_last_step", json())) + " rows projected back at the last step.\n";
  return md.empty() ? md : "## Constraints\n\n" + md + "\n";
}

std::string collapse_markdown(const json& c) {
  const std::string n = count(c.value("min_count", json()));
  std::string md =
      "## Rare-token collapse check\n\nMean cosine over pairs of distinct rows that share a leaf, pooled over leaves, "
      "before (E⁰) → after. Rare: n_t < " + n + " (placed by E alone); frequent: the clustered rows, for scale.\n\n"
      "| rows | tokens | leaves (≥ 2 rows) | pairs | before | after | change |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const char* k : {"rare", "frequent"}) {
    if (!c.contains(k)) continue;
    const json& x = c[k];
    const json d = x["before"].is_number() && x["after"].is_number() ? json(x["after"].get<double>() - x["before"].get<double>()) : json();
    md += std::string("| ") + k + (k[0] == 'r' ? " (n < " : " (n ≥ ") + n + ") | " + count(x.value("rows", json())) + " | " +
          count(x.value("leaves", json())) + " | " + count(x.value("pairs", json())) + " | " + num(x.value("before", json()), 4) +
          " | " + num(x.value("after", json()), 4) + " | " + (d.is_number() && d.get<double>() >= 0 ? "+" : "") + num(d, 4) + " |\n";
  }
  return md + "\n";
}

std::string match_markdown(const json& m) {
  auto plus = [](const json& v) { return (v.is_number() && v.get<double>() >= 0 ? "+" : "") + num(v, 4); };
  const long long tokens = m.value("tokens", 0LL);
  std::string md = "## Matched shrink\n\na = " + num(m.value("a", json()), 6) +
                   ", chosen by bisection so that the shrink's clean-loss increase on `" + m.value("shard", std::string("?")) +
                   "` (" + (tokens > 0 ? "first " + std::to_string(tokens) + " tokens" : std::string("all tokens")) +
                   ") equals the increase of `" + m.value("checkpoint", std::string("?")) + "`, within " +
                   num(m.value("tol", json()), 4) + " nats: " +
                   (m.value("reached", false) ? "reached" : "**not within tolerance** (the evaluations below)") +
                   ".\n\n| model | validation loss | increase |\n| --- | --- | --- |\n";
  md += "| original | " + num(m.value("original_val_loss", json()), 4) + " | – |\n";
  md += "| matched model | " + num(m.value("matched_val_loss", json()), 4) + " | " + plus(m.value("target_increase", json())) + " |\n";
  md += "| shrink | " + num(m.value("shrink_val_loss", json()), 4) + " | " + plus(m.value("shrink_increase", json())) + " |\n\n";
  if (m.contains("evaluations") && !m["evaluations"].empty()) {
    md += "Every a evaluated, in order:\n\n| a | increase |\n| --- | --- |\n";
    for (const auto& e : m["evaluations"]) md += "| " + num(e[0], 6) + " | " + plus(e[1]) + " |\n";
    md += "\n";
  }
  return md;
}

}  // namespace

std::string align_report_markdown(const json& r) {
  std::string md = "# Alignment: " + r.value("method", std::string("?")) + "\n\n";
  if (r.contains("from")) md += "From `" + r["from"].get<std::string>() + "`, calibration `" + r.value("calibration", std::string("?")) + "`. ";
  md += "Wall time " + num(r.value("wall_s", json()), 1) + " s";
  if (r.contains("peak_rss_mib")) md += ", peak RSS " + num(r["peak_rss_mib"], 0) + " MiB";
  md += ".\n\n";

  if (r.contains("hierarchy")) {
    const auto& h = r["hierarchy"];
    md += "## Hierarchy\n\n" + std::to_string(h["clustered_tokens"].get<long long>()) +
          " tokens clustered (seen at least n_min times at layer " + std::to_string(r.value("layer", 0)) + " over " +
          std::to_string(r.value("calibration_tokens", 0LL)) + " calibration tokens); the rest joined their nearest leaf. " +
          std::to_string(r.value("tokens_with_neighbours", 0LL)) + " tokens have neighbourhood candidates.\n\n";
    md += "| level | clusters | min size | mean size | max size |\n| --- | --- | --- | --- | --- |\n";
    for (const auto& l : h["levels"])
      md += "| " + std::to_string(l["level"].get<int>()) + " | " + std::to_string(l["clusters"].get<long long>()) + " | " +
            std::to_string(l["min_size"].get<long long>()) + " | " + num(l["mean_size"], 1) + " | " +
            std::to_string(l["max_size"].get<long long>()) + " |\n";
    md += "\n";
  }
  if (r.contains("log") && !r["log"].empty()) {
    // The terms over the steps: at most ~12 rows, the first and the last always.
    const auto& log = r["log"];
    std::vector<std::string> keys;
    for (auto it = log[0].begin(); it != log[0].end(); ++it)
      if (it.key() != "step" && it.key() != "elapsed_s" && it.key() != "lr" && it.key() != "total") keys.push_back(it.key());
    md += "## Terms over the steps\n\n| step | total |";
    for (const auto& k : keys) md += " " + k + " |";
    md += " lr | elapsed (s) |\n| --- | --- |";
    for (std::size_t i = 0; i < keys.size(); ++i) md += " --- |";
    md += " --- | --- |\n";
    const std::size_t n = log.size(), every = std::max<std::size_t>(1, (n + 10) / 11);
    for (std::size_t i = 0; i < n; ++i) {
      if (i % every != 0 && i + 1 != n) continue;
      const auto& l = log[i];
      md += "| " + std::to_string(l["step"].get<long long>()) + " | " + num(l["total"], 5) + " |";
      for (const auto& k : keys) md += " " + num(l.value(k, json()), 5) + " |";
      md += " " + num(l["lr"], 6) + " | " + num(l["elapsed_s"], 1) + " |\n";
    }
    md += "\n";
  }
  if (r.contains("terms_initial")) {
    md += "The objective on a fixed sample of " + std::to_string(r.value("terms_sample", 0LL)) +
          " tokens (all of them when the vocabulary is smaller), before → after: ";
    for (auto it = r["terms_initial"].begin(); it != r["terms_initial"].end(); ++it)
      md += it.key() + " " + num(it.value(), 5) + " → " + num(r["terms_final"].value(it.key(), json()), 5) + "; ";
    md += "\n\n";
  }
  md += constraints_markdown(r);
  if (r.contains("rare_collapse")) md += collapse_markdown(r["rare_collapse"]);
  if (r.contains("match")) md += match_markdown(r["match"]);
  md += "## How far tokens moved\n\nMean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ by the token's calibration count.\n\n"
        "| count | tokens | relative move |\n| --- | --- | --- |\n";
  for (const auto& b : r["movement"])
    md += "| " + b["bucket"].get<std::string>() + " | " + std::to_string(b["tokens"].get<long long>()) + " | " +
          num(b["relative_move"], 4) + " |\n";
  return md;
}

}  // namespace structlm::report
