// Held-out sentences for the dependency-retention measurements (docs/METHODS.md §1c): which
// sentences, and their link-grammar parses cached on disk, since parsing is slow (tens of ms to
// seconds a sentence) and the same sentences serve every run and seed. No torch here.
//
// Cache file: DIR/linkgrammar-<hash>.jsonl, the hash over link-grammar's version, the parser
// options and the sentences, so a changed input never reads a stale cache. One JSON object a
// line, in the order of the sentences:
//   {"text": "...", "parsed": true, "null_count": 0, "words": ["The", "dog", ...],
//    "spans": [[0, 3], [4, 7], ...]   (byte spans; null for a word that was not located),
//    "links": [[0, 1, "Ds**c"], ...]} (left word, right word, label; left < right)
#pragma once
#include <string>
#include <vector>

#include "text/link_grammar.h"

namespace structlm::text {

struct SentenceSelection {
  std::size_t min_words = 5, max_words = 40;  // words by text::words (sentences.h)
  std::size_t max_sentences = 1000;
};

// The sentences (split_sentences) of `documents`, in order, with min..max words and valid UTF-8.
// When there are more than max_sentences, every (count / max_sentences)-th one is kept
// (indices floor(k·count/max)), so the choice is deterministic and spread over all documents
// rather than the first few.
std::vector<std::string> select_sentences(const std::vector<std::string>& documents, const SentenceSelection& sel);

std::string link_cache_path(const std::string& dir, const std::vector<std::string>& sentences,
                            const LinkParserOptions& opts);

void write_link_cache(const std::string& path, const std::vector<LinkedSentence>& sentences);  // atomic
// Errors name the file and line: "PATH:3: field 'links' ...".
std::vector<LinkedSentence> read_link_cache(const std::string& path);

// The parses of `sentences`: read from link_cache_path(cache_dir, ...) when it exists (and must
// then hold exactly these sentences), else parsed now with one LinkParser and written there.
// Sentences must be valid UTF-8 (an error names the first that is not).
std::vector<LinkedSentence> parse_sentences(const std::vector<std::string>& sentences, const std::string& cache_dir,
                                            const LinkParserOptions& opts = {}, bool verbose = true);

}  // namespace structlm::text
