// What the corpus adapters share: one loader per source (each in its own file) and the small
// text helpers they have in common. Private to src/data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/corpus.h"

namespace structlm::data::detail {

Corpus load_brown(const CorpusPaths& paths);
Corpus load_nlp_corpus(const CorpusPaths& paths);
Corpus load_kjv(const CorpusPaths& paths);
Corpus load_wordnet(const CorpusPaths& paths);
Corpus load_gcide(const CorpusPaths& paths);
// GCIDE's pieces, for the tests: a dictd base-64 number ("5I" = 5 * 64 + 8), and one entry's text
// with its markup removed (corpus_gcide.cpp says what is kept).
std::uint64_t dictd_number(const std::string& s, const std::string& where);
std::string clean_gcide_entry(const std::string& raw);
Corpus load_text_file(const std::string& path, std::size_t doc_chars);
Corpus load_jsonl_file(const std::string& path);
Corpus load_directory(const std::string& path);

// Packs consecutive pieces (sentences, glosses, paragraphs) into documents: a document is closed
// once it holds `per_doc` pieces or `max_chars` bytes (whichever comes first; 0 = no limit), so a
// piece is never cut. Ids are `prefix#k`, k counting from 0.
void pack_pieces(const std::vector<std::string>& pieces, const std::string& prefix, const std::string& sep,
                 std::size_t per_doc, std::size_t max_chars, std::vector<Document>& out);

// Splits text into paragraphs at blank lines (whitespace-only lines count as blank); each paragraph
// keeps its inner newlines, without leading or trailing blank lines.
std::vector<std::string> split_paragraphs(const std::string& text);

std::string trim(const std::string& s);

}  // namespace structlm::data::detail
