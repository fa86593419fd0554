// Held-out evaluation: mean loss, perplexity and bits per byte. Bits per byte divide the total
// loss (in bits) by the UTF-8 bytes the scored tokens decode to, so models with different
// tokenizers compare. A classical compressor (xz -9, through liblzma) gives the floor to beat.
#pragma once
#include <string>
#include <vector>

#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

// The scored tokens of one document: their summed loss and count. A bootstrap over documents
// (report/document_bootstrap.h) resamples these, since the tokens within a document are not
// independent draws.
struct DocumentScore {
  double nats = 0;
  std::size_t tokens = 0;
};

struct EvalResult {
  double loss = 0;  // mean nats per token
  double perplexity = 0;
  double bits_per_byte = 0;
  std::size_t tokens = 0, bytes = 0;
  // In stream order. Shards prefix every document with the tokenizer's eot() (data/tokenize.h),
  // so a target whose input is eot() starts a document; the target eot() itself ends the one
  // before. Targets before the first eot() (a stream that does not start with one) form the
  // first document.
  std::vector<DocumentScore> documents;
};

// Scores every token of `stream` after the first, in non-overlapping windows of `context` tokens
// (0: the model's context length; each window's first token is context only). `max_tokens` > 0
// caps the work (the last document may then be cut). Any architecture (model/causal_lm.h).
EvalResult evaluate(model::CausalLM& model, const data::TokenStream& stream, const text::Tokenizer& tok,
                    std::size_t max_tokens = 0, int batch_size = 8, std::int64_t context = 0);
inline EvalResult evaluate(model::GPT& model, const data::TokenStream& stream, const text::Tokenizer& tok,
                           std::size_t max_tokens = 0, int batch_size = 8) {
  return evaluate(*model, stream, tok, max_tokens, batch_size);
}

// 8 * |xz -9 (text)| / |text|.
double xz_bits_per_byte(const std::string& text);

}  // namespace structlm::eval
