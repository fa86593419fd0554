#include "experiment/corpus_eval.h"

#include <cstdio>

#include "core/error.h"
#include "eval/evaluate.h"

namespace structlm::experiment {

json CorpusScore::to_json() const {
  json j = {{"corpus", corpus}, {"split", split}, {"tokens", tokens}, {"bytes", bytes},
            {"loss", loss},     {"perplexity", perplexity}, {"bits_per_byte", bits_per_byte}};
  if (xz_bits_per_byte) j["xz_bits_per_byte"] = *xz_bits_per_byte;
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
    CorpusScore row{name, opt.split, r.tokens, r.bytes, r.loss, r.perplexity, r.bits_per_byte, std::nullopt};
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
