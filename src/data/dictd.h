// dictd databases (the format of Debian's dict-* packages): NAME.index, one line per headword
// "headword<TAB>offset<TAB>length" with dictd's base-64 numbers, and NAME.dict.dz, the entries'
// text (dictzip, which is gzip). Private to src/data: the dictionary corpora read them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace structlm::data::detail {

struct DictdEntry {
  std::string headword;  // the first headword the index gives this entry
  std::size_t offset = 0;
  std::string raw;       // the entry's text as stored
};

// dictd's base-64 number ("5I" = 5 * 64 + 8); errors name `where`.
std::uint64_t dictd_number(const std::string& s, const std::string& where);

// Every entry of DIR/NAME.index + DIR/NAME.dict.dz once (distinct offset, in file order), without
// the database's own entries (headwords 00-database-* / 00database*, and 00-NAME-*). The data
// must be UTF-8 text; with `repair_cp1252` stray Windows-1252 bytes are read as such first
// (text_check.h). A missing index is an error with `install_hint`; a malformed line, an entry
// past the end of the data or truncated compressed data an error naming the file.
std::vector<DictdEntry> read_dictd(const std::string& dir, const std::string& name, const std::string& install_hint,
                                   bool repair_cp1252 = false);

}  // namespace structlm::data::detail
