// Tokenizer's plumbing: construction, the derived tables, and the accessors.
#include <atomic>

#include "core/error.h"
#include "text/byte_alphabet.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

void Tokenizer::Impl::finish() {
  static std::atomic<std::uint64_t> next_instance{1};
  instance = next_instance++;

  bytes.assign(strings.size(), std::string());
  if (sentencepiece) {
    finish_sentencepiece();
    return;
  }
  for (std::size_t id = 0; id < strings.size(); ++id) {
    if (id < special.size() && special[id]) {
      bytes[id] = strings[id];  // a special token decodes to its own text
      continue;
    }
    if (!detail::token_string_to_bytes(strings[id], bytes[id]))
      throw Error("tokenizer: token " + std::to_string(id) + " is outside the byte alphabet");
  }
  whole_ids.clear();
  if (ignore_merges)
    for (std::size_t id = 0; id < strings.size(); ++id)
      if (id >= special.size() || !special[id]) whole_ids.emplace(bytes[id], TokenId(id));
  const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    auto it = ids.find(alphabet.utf8[b]);
    if (it == ids.end())
      throw Error("tokenizer: no token for byte " + std::to_string(b));
    byte_ids[b] = it->second;
  }
  merge_table.reserve(merge_ids.size());
  for (std::size_t rank = 0; rank < merge_ids.size(); ++rank) {
    const auto& m = merge_ids[rank];
    merge_table.insert(m[0], m[1], {std::uint32_t(rank), m[2]});
  }
}

namespace {

// The byte of a byte-fallback token: "<0x41>" (tokenizers' ByteFallback decoder reads the two
// digits in either case; its BPE model writes them upper case).
bool byte_token(const std::string& s, unsigned char& byte) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  if (s.size() != 6 || s.compare(0, 3, "<0x") != 0 || s[5] != '>' || hex(s[3]) < 0 || hex(s[4]) < 0) return false;
  byte = static_cast<unsigned char>(hex(s[3]) * 16 + hex(s[4]));
  return true;
}

}  // namespace

// The SentencePiece kind: a token's bytes are what the file's decoder makes of it alone, before
// the joined text is stripped: its Replace steps ("▁" -> " "), then a byte token <0xXX> is
// that byte. So "▁the" is " the", and the first piece of a text, whose "▁" is usually the
// one the normaliser or Metaspace put in front (no character of the text), counts that space
// too: the token bytes of encode(text) add up to the text's bytes plus that one, which decode()
// strips again. Special tokens go through the same decoder, as in `tokenizers` ("<s>" stays).
void Tokenizer::Impl::finish_sentencepiece() {
  for (std::size_t id = 0; id < strings.size(); ++id) {
    std::string s = strings[id];
    for (const auto& [from, to] : decoder.replace) s = detail::replace_all(s, from, to);
    unsigned char b = 0;
    bytes[id] = byte_token(s, b) ? std::string(1, char(b)) : s;
  }
  ascii_ids.fill(kDead);
  char_ids.clear();
  whole_ids.clear();
  for (const auto& [piece, id] : piece_ids) {
    const std::size_t n = detail::utf8_char_length(piece);
    if (n == 0 || n != piece.size()) continue;
    if (n == 1) ascii_ids[static_cast<unsigned char>(piece[0])] = id;
    else char_ids.emplace(char_key(piece), id);
  }
  static const char* kHex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const std::string name = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
    auto it = piece_ids.find(name);
    if (it == piece_ids.end()) throw Error("tokenizer: no byte-fallback token " + name);
    byte_ids[b] = it->second;
  }
  merge_table.reserve(merge_ids.size());
  for (std::size_t rank = 0; rank < merge_ids.size(); ++rank) {
    const auto& m = merge_ids[rank];
    merge_table.insert(m[0], m[1], {std::uint32_t(rank), m[2]});
  }
}

namespace {
void check_id(TokenId id, std::size_t n, const char* what) {
  if (id >= n)
    fail(what, "token id " + std::to_string(id) + " is out of range (vocabulary of " +
                   std::to_string(n) + ")");
}
}  // namespace

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
  std::size_t total = 0;
  for (TokenId id : ids) {
    check_id(id, impl_->bytes.size(), "decode");
    total += impl_->bytes[id].size();
  }
  std::string out;
  out.reserve(total);
  for (TokenId id : ids) out += impl_->bytes[id];
  // The decoder's Strip (SentencePiece kind): the space the normaliser or Metaspace prepended.
  const std::string& strip = impl_->decoder.strip_content;
  std::size_t cut = 0;
  for (std::size_t k = 0; k < impl_->decoder.strip_start && !strip.empty() && out.compare(cut, strip.size(), strip) == 0; ++k)
    cut += strip.size();
  if (cut) out.erase(0, cut);
  return out;
}

std::string Tokenizer::token_bytes(TokenId id) const {
  check_id(id, impl_->bytes.size(), "token_bytes");
  return impl_->bytes[id];
}

std::string Tokenizer::token_string(TokenId id) const {
  check_id(id, impl_->strings.size(), "token_string");
  return impl_->strings[id];
}

std::size_t Tokenizer::vocab_size() const { return impl_->strings.size(); }
bool Tokenizer::lossless() const { return !impl_->sentencepiece && impl_->normalizer.empty(); }
TokenId Tokenizer::eot() const { return impl_->eot; }
const std::vector<std::pair<std::string, std::string>>& Tokenizer::merges() const {
  return impl_->merges;
}

}  // namespace structlm::text
