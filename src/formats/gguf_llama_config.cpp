#include "formats/gguf_llama_config.h"

#include "core/error.h"

namespace structlm::formats {

std::int64_t gguf_hparam(const GgufFile& f, const std::string& key) {
  const std::uint64_t v = f.get_uint(key);
  if (v < 1 || v > 0x7fffffff) fail(f.name, "metadata key '" + key + "': " + std::to_string(v) + " is outside 1..2^31-1");
  return static_cast<std::int64_t>(v);
}

HfLlamaConfig llama_config_from_gguf(const GgufFile& f) {
  const std::string& path = f.name;
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2")
    fail(path, "metadata key 'general.architecture': '" + arch + "' is neither 'llama' nor 'qwen2'");
  const bool qwen2 = arch == "qwen2";
  const std::string P = arch + ".";  // the hyperparameters' key prefix
  auto key = [&](const char* k) { return P + k; };

  HfLlamaConfig c;
  c.model_type = arch;
  c.num_hidden_layers = gguf_hparam(f, key("block_count"));
  c.max_position_embeddings = gguf_hparam(f, key("context_length"));
  c.hidden_size = gguf_hparam(f, key("embedding_length"));
  c.intermediate_size = gguf_hparam(f, key("feed_forward_length"));
  c.num_attention_heads = gguf_hparam(f, key("attention.head_count"));
  c.num_key_value_heads =
      f.find(key("attention.head_count_kv")) ? gguf_hparam(f, key("attention.head_count_kv")) : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(path, "metadata key '" + key("attention.head_count_kv") + "': " + std::to_string(c.num_key_value_heads) +
                   " does not divide the head count " + std::to_string(c.num_attention_heads));
  c.head_dim = f.find(key("attention.key_length")) ? gguf_hparam(f, key("attention.key_length"))
                                                   : c.hidden_size / c.num_attention_heads;
  if (f.find(key("attention.value_length")) && gguf_hparam(f, key("attention.value_length")) != c.head_dim)
    fail(path, "metadata key '" + key("attention.value_length") + "' differs from key_length: not a Llama block");
  if (!f.find(key("attention.key_length")) && c.hidden_size % c.num_attention_heads != 0)
    fail(path, "metadata key '" + key("attention.head_count") +
                   "' does not divide embedding_length and no key_length is given");
  if (c.head_dim % 2 != 0) fail(path, "head size " + std::to_string(c.head_dim) + " is odd: rotary positions rotate pairs");
  if (f.find(key("rope.dimension_count")) && gguf_hparam(f, key("rope.dimension_count")) != c.head_dim)
    fail(path, "metadata key '" + key("rope.dimension_count") + "': rotary positions on part of a head are not implemented");
  c.rope_theta = f.find(key("rope.freq_base")) ? f.get_float(key("rope.freq_base")) : 10000.0;
  c.rms_norm_eps = f.get_float(key("attention.layer_norm_rms_epsilon"));
  if (!(c.rope_theta > 0) || !(c.rms_norm_eps > 0)) fail(path, "rope.freq_base and layer_norm_rms_epsilon must be > 0");
  if (f.find(key("rope.scaling.type")) && f.get_string(key("rope.scaling.type")) != "none")
    fail(path, "metadata key '" + key("rope.scaling.type") + "' = '" + f.get_string(key("rope.scaling.type")) +
                   "': rope scaling from GGUF is not implemented yet");
  if (qwen2 && f.find_tensor("rope_freqs.weight"))
    fail(path, "tensor 'rope_freqs.weight': llama.cpp's qwen2 architecture has no per-frequency rope factors");
  if (f.find_tensor("token_embd.weight") == nullptr) fail(path, "tensor 'token_embd.weight' is missing");
  const auto& embd = *f.find_tensor("token_embd.weight");
  if (embd.ne.size() != 2 || embd.ne[0] != std::uint64_t(c.hidden_size) || embd.ne[1] > 0x7fffffff)
    fail(path, "tensor 'token_embd.weight': expected ne (embedding_length, n_vocab)");
  c.vocab_size = std::int64_t(embd.ne[1]);
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  if (f.find("tokenizer.ggml.bos_token_id")) c.bos_token_id = std::int64_t(f.get_uint("tokenizer.ggml.bos_token_id"));
  if (f.find("tokenizer.ggml.eos_token_id")) c.eos_token_id = std::int64_t(f.get_uint("tokenizer.ggml.eos_token_id"));
  if (qwen2) {
    // Qwen2's q/k/v biases are part of the architecture (llama.cpp's qwen2 graph requires them);
    // any other bias in the file is then "not part of a qwen2 model" below.
    c.attention_bias = c.qkv_bias_only = true;
  } else {
    // Biases: llama.cpp's llama graph adds them when present (attention_bias / mlp_bias models).
    c.attention_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
    c.mlp_bias = f.find_tensor("blk.0.ffn_gate.bias") != nullptr;
  }
  // Bounded by the tensors present before any model is built: 9 tensors per layer at least.
  if (std::uint64_t(c.num_hidden_layers) > f.tensors.size() / 9)
    fail(path, "metadata key '" + key("block_count") + "': " + std::to_string(c.num_hidden_layers) +
                   " layers, but the file has only " + std::to_string(f.tensors.size()) + " tensors");

  return c;
}

}  // namespace structlm::formats
