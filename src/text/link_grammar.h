// Reference dependency links from link-grammar (Debian's liblink-grammar, English dictionary), for
// the dependency-retention measurements of docs/METHODS.md §1c: held-out sentences are parsed once,
// and each word's links become "this token depends on that earlier token" (link_tokens.h).
// No torch here.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace structlm::text {

struct LinkedWord {
  std::string text;  // the sentence's own bytes at [begin, end); link-grammar's word, stripped, if not located
  long long begin = -1, end = -1;  // byte span in the sentence; -1 when the word could not be located
  bool located() const { return begin >= 0; }
};

struct WordLink {
  int left = 0, right = 0;  // word indices, left < right
  std::string label;        // link-grammar's link type ("Ss*s", "Ds**c", "MVp", ...)
};

struct LinkedSentence {
  std::string text;
  bool parsed = false;  // false: no linkage (none found within the limits, or empty/invalid text)
  int null_count = 0;   // words the chosen linkage leaves unlinked
  std::vector<LinkedWord> words;  // without LEFT-WALL and RIGHT-WALL: words[0] is the first word
  std::vector<WordLink> links;    // links to the walls are dropped (they link no two words)
};

struct LinkParserOptions {
  std::string dictionary = "en";  // a language name, or a dictionary directory
  int max_parse_seconds = 3;      // per sentence; a sentence that runs out keeps what was found
  // Words the parser may leave unlinked. It tries 0 first and allows more only when a sentence
  // has no complete linkage, so real text with a stray word still parses.
  int max_null_count = 3;
  // Off: an unknown word is parsed as an unknown word (by its shape), not replaced by a guessed
  // dictionary word, so the links describe the sentence as written.
  bool spell_guess = false;
};

// One dictionary, created once (about a second); parse() is then tens of milliseconds a sentence.
// Not thread-safe: use one parser per thread.
class LinkParser {
 public:
  explicit LinkParser(const LinkParserOptions& opts = {});  // error if the dictionary is missing
  ~LinkParser();
  LinkParser(const LinkParser&) = delete;
  LinkParser& operator=(const LinkParser&) = delete;

  // The best linkage (linkage 0: fewest unlinked words, then lowest cost). Words are located in
  // `sentence` by link-grammar's own byte offsets; see locate_words for the fallback.
  LinkedSentence parse(const std::string& sentence);

  const LinkParserOptions& options() const { return opts_; }
  static std::string library_version();  // "link-grammar-5.12.0"

 private:
  struct Impl;
  LinkParserOptions opts_;
  std::unique_ptr<Impl> impl_;
};

// "dog.n" -> "dog", "Mr..x" -> "Mr.", "[the]" (unlinked) -> "the", "blarg[?].n" -> "blarg",
// "3.5[!<NUMBERS>]" -> "3.5", "." -> ".", "e.g." -> "e.g.": link-grammar's display form of a
// word without its subscript and its guess/null annotations.
std::string strip_link_grammar_word(const std::string& word);

// Gives each word its byte span in `sentence`. `spans[i]` is link-grammar's span of word i; it is
// kept when it is non-empty, inside the sentence and starts at or after the previous word's end.
// Otherwise the word (already stripped, in words[i].text) is searched for forward from the
// previous located word's end; a word not found there stays unlocated (-1) and the search point
// does not move. A located word's text becomes the sentence's own bytes at its span (so a word
// link-grammar rewrote, like a lowercased "The", reads as written).
void locate_words(const std::string& sentence, std::vector<LinkedWord>& words,
                  const std::vector<std::pair<std::size_t, std::size_t>>& spans);

}  // namespace structlm::text
