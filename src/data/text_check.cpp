#include "data/text_check.h"

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "core/error.h"
#include "core/utf8.h"

namespace structlm::data {

namespace {
std::string hex_byte(unsigned char c) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", c);
  return b;
}
}  // namespace

void check_is_text(const std::string& bytes, const std::string& path) {
  const auto nul = bytes.find('\0');
  if (nul != std::string::npos)
    fail(path, "not a text file (a NUL byte at offset " + std::to_string(nul) + "); corpora are read from UTF-8 text");
  const auto bad = invalid_utf8_offset(bytes);
  if (bad != std::string::npos)
    fail(path, "not UTF-8 text (byte " + hex_byte(static_cast<unsigned char>(bytes[bad])) + " at offset " +
                   std::to_string(bad) + " does not decode); convert it first, e.g. iconv -f latin1 -t utf-8");
  std::size_t control = 0;
  for (unsigned char c : bytes)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') || c == 0x7f) ++control;
  // A stray escape or bell in real text is rare; one byte in a hundred is a binary format.
  if (control * 100 > bytes.size())
    fail(path, "not a text file (" + std::to_string(control) + " control characters in " + std::to_string(bytes.size()) +
                   " bytes)");
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// Windows-1252's 0x80-0x9F (0xFFFD where it assigns nothing); 0xA0-0xFF are Latin-1's.
constexpr std::uint32_t kCp1252High[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

}  // namespace

std::string repair_cp1252(const std::string& bytes, std::size_t* repaired) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t fixed = 0, i = 0;
  while (i < bytes.size()) {
    const auto bad = invalid_utf8_offset(std::string_view(bytes).substr(i));
    if (bad == std::string::npos) {
      out.append(bytes, i, std::string::npos);
      break;
    }
    out.append(bytes, i, bad);
    const unsigned char c = static_cast<unsigned char>(bytes[i + bad]);
    append_utf8(out, c < 0xa0 ? kCp1252High[c - 0x80] : c);  // c >= 0x80: ASCII always decodes
    ++fixed;
    i += bad + 1;
  }
  if (repaired) *repaired = fixed;
  return out;
}

}  // namespace structlm::data
