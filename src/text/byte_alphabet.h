// GPT-2's byte-to-unicode alphabet: every byte gets a printable code point, so a byte string is a
// readable token string ("Ġthe" for " the") and encoder.json can be plain JSON. Private to text/.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace structlm::text::detail {

struct ByteAlphabet {
  std::array<std::uint16_t, 256> code_point{};  // byte -> its code point
  std::array<std::uint8_t, 256> gpt2_order{};   // GPT-2 id i (0..255) -> the byte it stands for
  std::array<std::string, 256> utf8;            // byte -> its code point as UTF-8
  // code point -> byte + 1 (0: not in the alphabet); the alphabet tops out below 0x144.
  std::array<std::uint16_t, 0x144> byte_of{};
};

const ByteAlphabet& byte_alphabet();

std::string bytes_to_token_string(std::string_view bytes);
// Inverse of bytes_to_token_string. False when `token` is not valid UTF-8 over the alphabet.
bool token_string_to_bytes(std::string_view token, std::string& bytes);

}  // namespace structlm::text::detail
