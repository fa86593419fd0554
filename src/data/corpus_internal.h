// What the corpus adapters share: one loader per source (each in its own file) and the small
// text helpers they have in common. Private to src/data.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus.h"

namespace structlm::data::detail {

struct HtmlTextRules;  // data/html_text.h

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
// Django's documentation (python-django-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_django_docs(const CorpusPaths& paths);
// CMake's documentation (cmake-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_cmake_docs(const CorpusPaths& paths);
// SQLAlchemy's documentation (python-sqlalchemy-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_sqlalchemy_docs(const CorpusPaths& paths);
// LLVM's documentation (llvm-15-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_llvm_docs(const CorpusPaths& paths);
// Clang's documentation (clang-15-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_clang_docs(const CorpusPaths& paths);
// The LibreOffice help in English, one document per page (corpus_libreoffice_help.cpp).
Corpus load_libreoffice_help(const CorpusPaths& paths);
// The GNU Octave manual (makeinfo HTML), one document per node (corpus_texinfo_docs.cpp).
Corpus load_octave_docs(const CorpusPaths& paths);
// The Maxima manual (makeinfo HTML), likewise (corpus_texinfo_docs.cpp).
Corpus load_maxima_docs(const CorpusPaths& paths);
// Git's documentation (asciidoc HTML: manual pages, how-tos, technical notes, the user manual), one document per page (corpus_git_docs.cpp).
Corpus load_git_docs(const CorpusPaths& paths);
// pandas' documentation (python-pandas-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_pandas_docs(const CorpusPaths& paths);
// Sphinx's own documentation (sphinx-doc), likewise (corpus_sphinx_docs.cpp).
Corpus load_sphinx_docs(const CorpusPaths& paths);
// The Erlang/OTP documentation (erlang-doc: guides, reference manuals, release notes), one document per page (corpus_erlang_docs.cpp).
Corpus load_erlang_docs(const CorpusPaths& paths);
std::vector<std::string> split_fortunes(const std::string& text);
// The PostgreSQL documentation's HTML pages (DocBook), one document per page (corpus_postgres_docs.cpp).
Corpus load_postgres_docs(const CorpusPaths& paths);
// The Perl documentation's POD files, one document per file (corpus_perl_docs.cpp).
Corpus load_perl_docs(const CorpusPaths& paths);
// The Rust books (mdBook HTML, not the API documentation), one document per page (corpus_rust_books.cpp).
Corpus load_rust_books(const CorpusPaths& paths);
// SWORD modules read through diatheke (corpus_sword.cpp): the World English Bible, one document
// per chapter; Spurgeon's Treasury of David, one per section of a psalm; Matthew Henry's Concise
// Commentary and the Scofield notes, one per chapter commented on.
Corpus load_web(const CorpusPaths& paths);
Corpus load_tdavid(const CorpusPaths& paths);
Corpus load_mhcc(const CorpusPaths& paths);
Corpus load_scofield(const CorpusPaths& paths);
// A module's conf as diatheke is to read it: a driver that does not match the module's data files
// under `sword_dir` (zCom4 named for zCom's ot.bzv/nt.bzv) corrected, anything else as it is.
std::string sword_conf_for(const std::string& conf, const std::string& sword_dir);
// A user's own files, streamed (corpus_files.cpp): `fn` gets each document as it is read, the
// Corpus returned holds the name and source only. `progress` as stream_corpus's (may be empty).
using DocFn = std::function<void(Document&&)>;
Corpus stream_text_file(const std::string& path, std::size_t doc_chars, const DocFn& fn, const ProgressFn& progress);
Corpus stream_jsonl_file(const std::string& path, const DocFn& fn, const ProgressFn& progress);
Corpus stream_directory(const std::string& path, const DocFn& fn, const ProgressFn& progress);

// Packs consecutive pieces (sentences, glosses, paragraphs) into documents: a document is closed
// once it holds `per_doc` pieces or `max_chars` bytes (whichever comes first; 0 = no limit), so a
// piece is never cut. Ids are `prefix#k`, k counting from 0.
void pack_pieces(const std::vector<std::string>& pieces, const std::string& prefix, const std::string& sep,
                 std::size_t per_doc, std::size_t max_chars, std::vector<Document>& out);

// Splits text into paragraphs at blank lines (whitespace-only lines count as blank); each paragraph
// keeps its inner newlines, without leading or trailing blank lines.
std::vector<std::string> split_paragraphs(const std::string& text);

// The HTML pages `pages` (paths relative to `root`, ending in .html) as documents of `c`, each
// read, checked to be text (check_is_text) and converted by `rules` (html_to_text); a page that
// `skip` accepts (a redirect, say) or that holds no text is left out. Document id: the path
// without .html.
void add_html_pages(Corpus& c, const std::string& root, const std::vector<std::string>& pages,
                    const HtmlTextRules& rules, const std::function<bool(const std::string& html)>& skip = {});
std::string trim(const std::string& s);

// Appends code point `cp` (at most 0x10FFFF) to `out` as UTF-8: for markup's numeric character
// references (&#8212;).
void append_utf8(std::string& out, unsigned long cp);

}  // namespace structlm::data::detail
