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
  md += "## How far tokens moved\n\nMean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ by the token's calibration count.\n\n"
        "| count | tokens | relative move |\n| --- | --- | --- |\n";
  for (const auto& b : r["movement"])
    md += "| " + b["bucket"].get<std::string>() + " | " + std::to_string(b["tokens"].get<long long>()) + " | " +
          num(b["relative_move"], 4) + " |\n";
  return md;
}

}  // namespace structlm::report
