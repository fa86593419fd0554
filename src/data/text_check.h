// Whether a file a user points at holds text: a corpus is prepared from UTF-8 text only, so a
// binary file (an archive, an image, random bytes) or text in another encoding is refused with
// its name instead of being cut into "documents" of garbage.
#pragma once
#include <string>

namespace structlm::data {

// Throws Error naming `path` when `bytes` hold a NUL byte, do not decode as UTF-8, or are more
// than 1 % control characters (other than tab, newline, carriage return, form feed, vertical tab).
void check_is_text(const std::string& bytes, const std::string& path);

// For a source known to be UTF-8 with stray Windows-1252 bytes (GCIDE has three: "market\x92s",
// "fa\xe7ade"): every byte that does not start a valid UTF-8 sequence is read as Windows-1252
// (its five unassigned bytes as U+FFFD) and written as UTF-8. `repaired` counts those bytes.
std::string repair_cp1252(const std::string& bytes, std::size_t* repaired = nullptr);

}  // namespace structlm::data
