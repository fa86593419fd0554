#include "eval/evaluate.h"

#include <lzma.h>

#include <cmath>

#include "core/error.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

namespace F = torch::nn::functional;

EvalResult evaluate(model::CausalLM& model, const data::TokenStream& stream, const text::Tokenizer& tok,
                    std::size_t max_tokens, int batch_size, std::int64_t context) {
  const std::string where = "evaluation data";
  const std::size_t N = stream.size();
  if (N < 2) fail(where, "has " + std::to_string(N) + " tokens; scoring needs at least 2");
  if (batch_size <= 0) fail(where, "batch size must be > 0");
  if (context < 0 || context > model.context_length())
    fail(where, "context " + std::to_string(context) + " is outside 1.." + std::to_string(model.context_length()) +
                    " (the model's context length)");
  std::size_t n_targets = N - 1;  // every token after the first
  if (max_tokens > 0 && max_tokens < n_targets) n_targets = max_tokens;

  // Bytes per token id, looked up once: bits per byte need the UTF-8 length of every target.
  const std::size_t tok_vocab = tok.vocab_size();
  std::vector<std::uint32_t> byte_len(tok_vocab);
  for (std::size_t id = 0; id < tok_vocab; ++id) byte_len[id] = std::uint32_t(tok.token_bytes(text::TokenId(id)).size());

  EvalGuard guard(model);  // eval mode + no grad, training mode restored on return
  const torch::Device device = model.module().parameters().front().device();
  const std::int64_t T = context > 0 ? context : model.context_length(), V = model.vocabulary_rows();

  EvalResult r;
  double total_nats = 0;
  const std::int64_t eot = std::int64_t(tok.eot());
  // Window w covers tokens [w*T, w*T + len + 1): inputs are its first len tokens, targets the
  // last len. Its first token was the previous window's last target, so every token after the
  // first is scored exactly once, and each window starts with a context of one token.
  data::for_each_window_batch(stream, n_targets, T, batch_size, 1, [&](std::int64_t rows, std::int64_t len,
                                                                      const std::vector<std::int64_t>& buf) {
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t t = 0; t <= len; ++t) {
        const std::int64_t id = buf[std::size_t(i * (len + 1) + t)];
        if (id < 0 || id >= V) fail(where, "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
        if (std::size_t(id) >= tok_vocab)
          fail(where, "token id " + std::to_string(id) + " is outside the tokenizer's vocabulary (" + std::to_string(tok_vocab) + ")");
        if (t > 0) r.bytes += byte_len[std::size_t(id)];
      }
    auto batch = torch::from_blob(const_cast<std::int64_t*>(buf.data()), {rows, len + 1}, torch::kLong)
                     .to(device, false, /*copy=*/true);
    auto logits = model.next_token_logits(batch.slice(1, 0, len), nullptr);
    // Per-token losses summed in double: a float sum over millions of tokens drifts.
    auto nll = F::cross_entropy(logits.reshape({-1, V}).to(torch::kFloat), batch.slice(1, 1, len + 1).reshape({-1}),
                                F::CrossEntropyFuncOptions().reduction(torch::kNone));
    const torch::Tensor nll64 = nll.to(torch::kDouble).contiguous().cpu();
    total_nats += nll64.sum().item<double>();
    r.tokens += std::size_t(rows * len);
    // Windows arrive in stream order, so documents are counted across them.
    const double* per_token = nll64.data_ptr<double>();
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t t = 1; t <= len; ++t) {
        if (buf[std::size_t(i * (len + 1) + t - 1)] == eot || r.documents.empty()) r.documents.emplace_back();
        r.documents.back().nats += per_token[i * len + t - 1];
        r.documents.back().tokens += 1;
      }
  });

  r.loss = total_nats / double(r.tokens);
  r.perplexity = std::exp(r.loss);
  // Total bits over total bytes; a token that decodes to no bytes adds bits but no bytes.
  r.bits_per_byte = r.bytes ? total_nats / std::log(2.0) / double(r.bytes) : 0.0;
  return r;
}

double xz_bits_per_byte(const std::string& text) {
  if (text.empty()) return 0.0;
  // What `xz -9` writes: preset 9 (not extreme), CRC64 check, in the .xz container.
  std::vector<std::uint8_t> out(lzma_stream_buffer_bound(text.size()));
  std::size_t out_pos = 0;
  lzma_ret rc = lzma_easy_buffer_encode(9, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const std::uint8_t*>(text.data()),
                                        text.size(), out.data(), &out_pos, out.size());
  if (rc != LZMA_OK) throw Error("xz: compression failed (liblzma error " + std::to_string(int(rc)) + ")");
  return 8.0 * double(out_pos) / double(text.size());
}

}  // namespace structlm::eval
