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
// One GCIDE entry's text with its markup removed (corpus_gcide.cpp says what is kept).
std::string clean_gcide_entry(const std::string& raw);
// FOLDOC, the Jargon File and The Devil's Dictionary (dictd databases; corpus_dictionaries.cpp),
// and one entry of each cleaned, for the tests.
Corpus load_foldoc(const CorpusPaths& paths);
Corpus load_jargon(const CorpusPaths& paths);
Corpus load_devil(const CorpusPaths& paths);
std::string clean_dictionary_entry(const std::string& raw);
// The fortune files of Debian's fortunes package, one document per fortune (corpus_fortunes.cpp).
Corpus load_fortunes(const CorpusPaths& paths);
// The Python documentation's HTML pages, one document per page (corpus_sphinx_docs.cpp).
Corpus load_python_docs(const CorpusPaths& paths);
// The Linux kernel documentation's HTML pages, likewise (corpus_sphinx_docs.cpp).
Corpus load_linux_docs(const CorpusPaths& paths);
std::vector<std::string> split_fortunes(const std::string& text);
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
