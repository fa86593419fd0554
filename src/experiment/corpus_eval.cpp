#include "experiment/corpus_eval.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "eval/evaluate.h"

namespace structlm::experiment {

json CorpusScore::to_json() const {
  json j = {{"corpus", corpus}, {"split", split}, {"tokens", tokens}, {"bytes", bytes},
            {"loss", loss},     {"perplexity", perplexity}, {"bits_per_byte", bits_per_byte}};
  if (xz_bits_per_byte) j["xz_bits_per_byte"] = *xz_bits_per_byte;
  if (!documents.empty()) {
    json nats = json::array(), counts = json::array();
    for (const auto& d : documents) {
      nats.push_back(d.nats);
      counts.push_back(d.tokens);
    }
    j["documents"] = {{"nats", nats}, {"tokens", counts}};
  }
  return j;
}

CorpusScore CorpusScore::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "a corpus score must be a JSON object");
  CorpusScore c;
  read_field(j, "corpus", c.corpus, path);
  read_field(j, "split", c.split, path);
  read_field(j, "tokens", c.tokens, path);
  read_field(j, "bytes", c.bytes, path);
  read_field(j, "loss", c.loss, path);
  read_field(j, "perplexity", c.perplexity, path);
  read_field(j, "bits_per_byte", c.bits_per_byte, path);
  if (j.contains("xz_bits_per_byte") && j["xz_bits_per_byte"].is_number()) c.xz_bits_per_byte = j["xz_bits_per_byte"].get<double>();
  if (j.contains("documents")) {
    const json& d = j["documents"];
    check(d.is_object(), path, "corpus '" + c.corpus + "': field 'documents' must be an object");
    std::vector<double> nats;
    std::vector<std::size_t> counts;
    read_field(d, "nats", nats, path);
    read_field(d, "tokens", counts, path);
    check(nats.size() == counts.size(), path,
          "corpus '" + c.corpus + "': field 'documents' holds " + std::to_string(nats.size()) + " losses but " +
              std::to_string(counts.size()) + " token counts");
    std::size_t total = 0;
    for (std::size_t i = 0; i < nats.size(); ++i) {
      check(counts[i] > 0 && std::isfinite(nats[i]) && nats[i] >= 0, path,
            "corpus '" + c.corpus + "': document " + std::to_string(i) + " has " + std::to_string(counts[i]) +
                " tokens and loss " + std::to_string(nats[i]) + " (needs tokens > 0 and a finite loss >= 0)");
      total += counts[i];
      c.documents.push_back({nats[i], counts[i]});
    }
    check(total == c.tokens, path,
          "corpus '" + c.corpus + "': its documents hold " + std::to_string(total) + " tokens, its field 'tokens' " +
              std::to_string(c.tokens));
  }
  return c;
}

json corpus_scores_json(const std::vector<CorpusScore>& scores) {
  json rows = json::array();
  for (const auto& s : scores) rows.push_back(s.to_json());
  return json{{"corpora", rows}};
}

std::vector<CorpusScore> evaluate_corpora(model::CausalLM& model, const workspace::Workspace& ws,
                                          const CorpusEvalOptions& opt) {
  const auto split = workspace::parse_split(opt.split, "--split");
  auto tok = ws.load_tokenizer(opt.tokenizer);
  workspace::check_model_fits_tokenizer(model.vocabulary_rows(), tok.vocab_size(), "the model", opt.tokenizer);
  std::vector<CorpusScore> rows;
  std::printf("%-12s %-5s %10s %8s %10s %8s %8s\n", "corpus", "split", "tokens", "loss", "perplexity", "bpb", "xz bpb");
  for (const auto& spec : opt.corpora) {
    data::TokenStream stream({ws.ensure_shards(spec, opt.tokenizer).of(split)});
    stream.check_ids_below(std::size_t(model.vocabulary_rows()), "the model's vocabulary");
    auto r = eval::evaluate(model, stream, tok, opt.max_tokens, /*batch_size=*/8, opt.context);
    const std::string name = ws.corpus_name(spec);
    CorpusScore row{name, opt.split, r.tokens, r.bytes, r.loss, r.perplexity, r.bits_per_byte, std::nullopt, {}};
    if (opt.documents) row.documents = r.documents;
    double xz = 0;
    if (opt.xz) {
      // Keep the split alive while iterating: a reference into a temporary would dangle.
      const data::SplitCorpus corpus = ws.prepare_corpus(spec);
      std::string text;
      for (const auto& d : workspace::split_docs(corpus, split)) text += d.text + "\n";
      xz = eval::xz_bits_per_byte(text);
      row.xz_bits_per_byte = xz;
    }
    std::printf("%-12s %-5s %10zu %8.4f %10.2f %8.4f %8s\n", name.c_str(), opt.split.c_str(), r.tokens, r.loss,
                r.perplexity, r.bits_per_byte, opt.xz ? std::to_string(xz).substr(0, 6).c_str() : "-");
    rows.push_back(row);
  }
  return rows;
}

}  // namespace structlm::experiment
