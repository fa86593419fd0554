// llm.c model and tokenizer files (layout in llmc.h), parsed as hostile bytes.
#include "formats/llmc.h"

#include "formats/byte_cursor.h"

namespace structlm::formats {

using detail::ByteCursor;
using detail::put;

namespace {

constexpr const char* kParamNames[kLlmcParamTensors] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
    "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"};

std::array<std::int32_t, 256> read_header(ByteCursor& c) {
  std::array<std::int32_t, 256> h{};
  c.need(kLlmcHeaderBytes, "header (256 int32)");
  for (auto& v : h) v = c.read<std::int32_t>("header");
  return h;
}

}  // namespace

const char* llmc_param_name(int index) {
  return index >= 0 && index < kLlmcParamTensors ? kParamNames[index] : "?";
}

std::array<std::vector<std::int64_t>, kLlmcParamTensors> llmc_param_shapes(const LlmcModelHeader& h) {
  const std::int64_t Vp = h.padded_vocab_size, T = h.max_seq_len, L = h.num_layers, C = h.channels;
  return {{{Vp, C}, {T, C}, {L, C}, {L, C}, {L, 3 * C, C}, {L, 3 * C}, {L, C, C}, {L, C},
           {L, C}, {L, C}, {L, 4 * C, C}, {L, 4 * C}, {L, C, 4 * C}, {L, C}, {C}, {C}}};
}

std::array<std::uint64_t, kLlmcParamTensors> llmc_param_counts(const LlmcModelHeader& h) {
  std::array<std::uint64_t, kLlmcParamTensors> out{};
  const auto shapes = llmc_param_shapes(h);
  for (int i = 0; i < kLlmcParamTensors; ++i) {
    std::uint64_t n = 1;
    for (auto d : shapes[i]) n *= static_cast<std::uint64_t>(d);  // bounded by parse_llmc_model's limits
    out[i] = n;
  }
  return out;
}

LlmcModelHeader parse_llmc_model(const std::uint8_t* data, std::size_t size, const std::string& name) {
  ByteCursor c(data, size, name);
  const auto h = read_header(c);
  if (h[0] != kLlmcModelMagic)
    fail(name, "header magic: " + std::to_string(h[0]) + " is not llm.c's model magic " + std::to_string(kLlmcModelMagic));
  LlmcModelHeader m;
  m.version = h[1];
  if (m.version != kLlmcModelVersionF32 && m.version != kLlmcModelVersionBF16)
    fail(name, "header version: " + std::to_string(m.version) + " is not supported (3: float32, 5: bfloat16)");
  m.max_seq_len = h[2];
  m.vocab_size = h[3];
  m.num_layers = h[4];
  m.num_heads = h[5];
  m.channels = h[6];
  m.padded_vocab_size = h[7];
  const std::pair<const char*, std::int32_t> fields[] = {{"maxT", m.max_seq_len}, {"V", m.vocab_size},
                                                         {"L", m.num_layers},     {"NH", m.num_heads},
                                                         {"C", m.channels},       {"Vp", m.padded_vocab_size}};
  for (const auto& [field, v] : fields)
    if (v <= 0) fail(name, std::string("header ") + field + ": " + std::to_string(v) + " must be positive");
  if (m.padded_vocab_size < m.vocab_size)
    fail(name, "header Vp: padded vocabulary " + std::to_string(m.padded_vocab_size) + " is smaller than V = " +
                   std::to_string(m.vocab_size));
  if (m.channels % m.num_heads != 0)
    fail(name, "header NH: C = " + std::to_string(m.channels) + " is not divisible by NH = " + std::to_string(m.num_heads));

  // All fields are < 2^31, so each shape product (at most 2^31 * 4 * 2^31 * 2^31) could still
  // overflow 64 bits: multiply with checks, and compare the total with the file size.
  const auto shapes = llmc_param_shapes(m);
  std::uint64_t total = 0;
  for (int i = 0; i < kLlmcParamTensors; ++i) {
    std::uint64_t n = 1;
    for (auto d : shapes[i])
      if (!detail::mul_ok(n, static_cast<std::uint64_t>(d), n))
        fail(name, std::string("header: the size of parameter '") + kParamNames[i] + "' overflows");
    if (!detail::add_ok(total, n, total)) fail(name, "header: the parameter count overflows");
  }
  std::uint64_t bytes;
  if (!detail::mul_ok(total, m.bytes_per_param(), bytes)) fail(name, "header: the parameter byte size overflows");
  const std::uint64_t have = size - kLlmcHeaderBytes;
  if (have != bytes)
    fail(name, "parameters: the header describes " + std::to_string(total) + " parameters (" + std::to_string(bytes) +
                   " bytes) but the file holds " + std::to_string(have) + " bytes after the header" +
                   (have < bytes ? " (truncated?)" : ""));
  return m;
}

std::string llmc_model_header_bytes(const LlmcModelHeader& m) {
  std::array<std::int32_t, 256> h{};
  h[0] = kLlmcModelMagic;
  h[1] = m.version;
  h[2] = m.max_seq_len;
  h[3] = m.vocab_size;
  h[4] = m.num_layers;
  h[5] = m.num_heads;
  h[6] = m.channels;
  h[7] = m.padded_vocab_size;
  std::string out;
  for (auto v : h) put(out, v);
  return out;
}

LlmcTokenizer parse_llmc_tokenizer(const std::uint8_t* data, std::size_t size, const std::string& name) {
  ByteCursor c(data, size, name);
  const auto h = read_header(c);
  if (h[0] != kLlmcTokenizerMagic)
    fail(name, "header magic: " + std::to_string(h[0]) + " is not llm.c's tokenizer magic " +
                   std::to_string(kLlmcTokenizerMagic));
  LlmcTokenizer t;
  t.version = h[1];
  if (t.version != 1 && t.version != 2)
    fail(name, "header version: " + std::to_string(t.version) + " is not supported (1 or 2)");
  const std::int32_t n = h[2];
  if (n <= 0) fail(name, "header vocab_size: " + std::to_string(n) + " must be positive");
  // Each token takes at least 2 bytes (length + one byte): a count the file cannot hold is
  // rejected before the table is allocated.
  if (static_cast<std::uint64_t>(n) > c.remaining() / 2)
    fail(name, "header vocab_size: " + std::to_string(n) + " tokens cannot fit in the " +
                   std::to_string(c.remaining()) + " bytes after the header");
  if (t.version == 2) {
    t.eot = h[3];
    if (t.eot < 0 || t.eot >= n)
      fail(name, "header eot_token: " + std::to_string(t.eot) + " is not a token id (0.." + std::to_string(n - 1) + ")");
  }
  t.tokens.reserve(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) {
    const std::string field = "token " + std::to_string(i);
    const auto len = c.read<std::uint8_t>(field + " length");
    if (len == 0) fail(name, field + ": length 0 (every token stands for at least one byte)");
    t.tokens.push_back(c.read_bytes(len, field));
  }
  if (c.remaining() != 0)
    fail(name, std::to_string(c.remaining()) + " unexpected bytes after the last token (vocab_size " +
                   std::to_string(n) + " too small?)");
  return t;
}

std::string llmc_tokenizer_bytes(const LlmcTokenizer& t, const std::string& name) {
  if (t.tokens.empty() || t.tokens.size() > 0x7fffffff) fail(name, "a tokenizer needs 1..2^31-1 tokens");
  if (t.eot < 0 || static_cast<std::size_t>(t.eot) >= t.tokens.size())
    fail(name, "the end-of-text id " + std::to_string(t.eot) + " is not a token id");
  std::array<std::int32_t, 256> h{};
  h[0] = kLlmcTokenizerMagic;
  h[1] = 2;
  h[2] = static_cast<std::int32_t>(t.tokens.size());
  h[3] = t.eot;
  std::string out;
  for (auto v : h) put(out, v);
  for (std::size_t i = 0; i < t.tokens.size(); ++i) {
    const std::string& s = t.tokens[i];
    if (s.empty() || s.size() > 255)
      fail(name, "token " + std::to_string(i) + " has " + std::to_string(s.size()) +
                     " bytes; llm.c's format holds 1..255");
    put<std::uint8_t>(out, static_cast<std::uint8_t>(s.size()));
    out += s;
  }
  return out;
}

}  // namespace structlm::formats
