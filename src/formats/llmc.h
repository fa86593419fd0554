// llm.c's binary files (github.com/karpathy/llm.c, train_gpt2.py / train_gpt2.c), byte level only,
// no torch. All little-endian, each starting with a 256 x int32 header.
//
// Model checkpoint: header[0] = 20240326, [1] = version (3: float32 parameters, 5: bfloat16),
// [2] = maxT, [3] = V, [4] = L, [5] = NH, [6] = C, [7] = Vp (V padded, usually to a multiple of
// 128). Then 16 parameter tensors, back to back, torch Linear layout [out, in], stacked over
// layers: wte (Vp x C), wpe (maxT x C), ln1w, ln1b (L x C), qkvw (L x 3C x C), qkvb (L x 3C),
// attprojw (L x C x C), attprojb (L x C), ln2w, ln2b (L x C), fcw (L x 4C x C), fcb (L x 4C),
// fcprojw (L x C x 4C), fcprojb (L x C), lnfw, lnfb (C). Output is tied to wte; rows V..Vp-1 of
// wte are padding.
//
// Tokenizer: header[0] = 20240328, [1] = version (1, or 2 with [3] = the end-of-text id),
// [2] = token count; then per token a uint8 length (1..255) and that many raw bytes.
//
// Token shards (magic 20240520) are src/data/shard.h: structlm's shards are llm.c's.
//
// The parsers treat the bytes as hostile (sizes checked with overflow-safe arithmetic before
// anything is allocated or read; errors name the file and the header field) and are the entry
// points for fuzzing.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace structlm::formats {

constexpr std::int32_t kLlmcModelMagic = 20240326;
constexpr std::int32_t kLlmcModelVersionF32 = 3;
constexpr std::int32_t kLlmcModelVersionBF16 = 5;
constexpr std::int32_t kLlmcTokenizerMagic = 20240328;
constexpr std::size_t kLlmcHeaderBytes = 256 * 4;
constexpr int kLlmcParamTensors = 16;

struct LlmcModelHeader {
  std::int32_t version = kLlmcModelVersionF32;
  std::int32_t max_seq_len = 0;        // maxT
  std::int32_t vocab_size = 0;         // V
  std::int32_t num_layers = 0;         // L
  std::int32_t num_heads = 0;          // NH
  std::int32_t channels = 0;           // C
  std::int32_t padded_vocab_size = 0;  // Vp >= V
  bool bf16() const { return version == kLlmcModelVersionBF16; }
  std::size_t bytes_per_param() const { return bf16() ? 2 : 4; }
};

// Element counts of the 16 parameter tensors in file order, and their shapes ([L, ...] for the
// stacked ones). Callers must pass a header that parse_llmc_model accepted (or they built).
std::array<std::uint64_t, kLlmcParamTensors> llmc_param_counts(const LlmcModelHeader& h);
std::array<std::vector<std::int64_t>, kLlmcParamTensors> llmc_param_shapes(const LlmcModelHeader& h);
const char* llmc_param_name(int index);  // "wte", "wpe", "ln1w", ...

// Validates the header and that the file holds exactly header + all parameters. The parameters
// start at data + kLlmcHeaderBytes.
LlmcModelHeader parse_llmc_model(const std::uint8_t* data, std::size_t size, const std::string& name);
std::string llmc_model_header_bytes(const LlmcModelHeader& h);  // the 1024-byte header

struct LlmcTokenizer {
  std::int32_t version = 2;
  std::int32_t eot = -1;            // version 2 only
  std::vector<std::string> tokens;  // raw bytes of each token, by id
};
LlmcTokenizer parse_llmc_tokenizer(const std::uint8_t* data, std::size_t size, const std::string& name);
// Version 2 file; errors (naming `name`) for tokens that are empty or longer than 255 bytes.
std::string llmc_tokenizer_bytes(const LlmcTokenizer& t, const std::string& name);

}  // namespace structlm::formats
