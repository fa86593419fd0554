// Writing small dictd databases for the dictionary corpus tests: dictd's base-64 numbers (written
// independently of the reader) and gzip data (what dictzip files are).
#pragma once
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "core/io.h"

namespace structlm::test_util {

inline std::string b64(std::size_t v) {
  const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  do {
    s.insert(s.begin(), digits[v % 64]);
    v /= 64;
  } while (v);
  return s;
}

inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(f);
}

// DIR/NAME.index + DIR/NAME.dict.dz holding `entries` (headword, text) in order; returns the
// index text so a test can damage it.
inline std::string write_dictd(const std::string& dir, const std::string& name,
                               const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string dict, index;
  for (const auto& [head, text] : entries) {
    index += head + "\t" + b64(dict.size()) + "\t" + b64(text.size()) + "\n";
    dict += text;
  }
  write_file_atomic(dir + "/" + name + ".index", index);
  write_gzip(dir + "/" + name + ".dict.dz", dict);
  return index;
}

}  // namespace structlm::test_util
