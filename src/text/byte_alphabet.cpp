#include "text/byte_alphabet.h"

namespace structlm::text::detail {

namespace {

// Bytes that GPT-2 keeps as their own (Latin-1) code point: the visible ones. All others
// (controls, space, DEL, NBSP, soft hyphen) are moved to 256, 257, ... in byte order, and come
// after the visible ones in GPT-2's id order.
bool keeps_own_code_point(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

ByteAlphabet build() {
  ByteAlphabet a;
  int next_id = 0;
  for (int b = 0; b < 256; ++b)
    if (keeps_own_code_point(b)) {
      a.code_point[b] = std::uint16_t(b);
      a.gpt2_order[next_id++] = std::uint8_t(b);
    }
  int moved = 0;
  for (int b = 0; b < 256; ++b)
    if (!keeps_own_code_point(b)) {
      a.code_point[b] = std::uint16_t(256 + moved++);
      a.gpt2_order[next_id++] = std::uint8_t(b);
    }
  for (int b = 0; b < 256; ++b) {
    unsigned cp = a.code_point[b];
    if (cp < 0x80) {
      a.utf8[b] = std::string(1, char(cp));
    } else {  // every code point here is below 0x800: two UTF-8 bytes
      a.utf8[b] = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
    }
    a.byte_of[cp] = std::uint16_t(b + 1);
  }
  return a;
}

}  // namespace

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet = build();
  return alphabet;
}

std::string bytes_to_token_string(std::string_view bytes) {
  const ByteAlphabet& a = byte_alphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += a.utf8[c];
  return out;
}

bool token_string_to_bytes(std::string_view token, std::string& bytes) {
  const ByteAlphabet& a = byte_alphabet();
  bytes.clear();
  for (std::size_t i = 0; i < token.size();) {
    unsigned c0 = static_cast<unsigned char>(token[i]);
    unsigned cp;
    if (c0 < 0x80) {
      cp = c0;
      i += 1;
    } else if ((c0 & 0xE0) == 0xC0 && i + 1 < token.size() &&
               (static_cast<unsigned char>(token[i + 1]) & 0xC0) == 0x80) {
      cp = ((c0 & 0x1F) << 6) | (static_cast<unsigned char>(token[i + 1]) & 0x3F);
      if (cp < 0x80) return false;  // overlong: one token string per byte string
      i += 2;
    } else {
      return false;  // longer sequences cannot be in the alphabet; broken ones neither
    }
    if (cp >= a.byte_of.size() || a.byte_of[cp] == 0) return false;
    bytes += char(a.byte_of[cp] - 1);
  }
  return true;
}

}  // namespace structlm::text::detail
