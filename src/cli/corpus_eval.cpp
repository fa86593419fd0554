#include "cli/corpus_eval.h"

#include <cstdio>

#include "cli/workspace.h"
#include "core/error.h"
#include "eval/evaluate.h"

namespace structlm::cli {

static const std::vector<data::Document>& split_docs(const data::SplitCorpus& s, const std::string& split) {
  if (split == "train") return s.train;
  if (split == "val") return s.val;
  if (split == "test") return s.test;
  throw Error("--split: expected train, val or test, got '" + split + "'");
}

json evaluate_corpora(model::GPT& model, const CorpusEvalOptions& opt) {
  auto tok = load_tokenizer(opt.tokenizer);
  check(tok.vocab_size() <= (std::size_t)model->cfg.vocab_size, opt.tokenizer,
        "tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model only " +
            std::to_string(model->cfg.vocab_size));
  json rows = json::array();
  std::printf("%-12s %-5s %10s %8s %10s %8s %8s\n", "corpus", "split", "tokens", "loss", "perplexity", "bpb", "xz bpb");
  for (const auto& spec : opt.corpora) {
    auto shards = ensure_shards(opt.data_dir, spec, opt.tokenizer);
    const std::string& path = opt.split == "train" ? shards.train : opt.split == "val" ? shards.val : shards.test;
    data::TokenStream stream({path});
    auto r = eval::evaluate(model, stream, tok, opt.max_tokens);
    json row = {{"corpus", corpus_name(spec)}, {"split", opt.split},          {"tokens", r.tokens},
                {"bytes", r.bytes},            {"loss", r.loss},              {"perplexity", r.perplexity},
                {"bits_per_byte", r.bits_per_byte}};
    double xz = 0;
    if (opt.xz) {
      // Keep the split alive while iterating: a reference into a temporary would dangle.
      const data::SplitCorpus split = prepare_corpus(opt.data_dir, spec);
      std::string text;
      for (const auto& d : split_docs(split, opt.split)) text += d.text + "\n";
      xz = eval::xz_bits_per_byte(text);
      row["xz_bits_per_byte"] = xz;
    }
    std::printf("%-12s %-5s %10zu %8.4f %10.2f %8.4f %8s\n", corpus_name(spec).c_str(), opt.split.c_str(), r.tokens,
                r.loss, r.perplexity, r.bits_per_byte, opt.xz ? std::to_string(xz).substr(0, 6).c_str() : "-");
    rows.push_back(row);
  }
  return json{{"corpora", rows}};
}

}  // namespace structlm::cli
