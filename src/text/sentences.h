// Sentences and words of plain text, by one fixed rule shared by every measurement that counts
// them: the held-out sentences given to link-grammar (docs/METHODS.md §1c, dependency retention)
// and the generation metrics (distinct-n, MTLD, seq-rep-4, sentence lengths). What matters for
// those measurements is that reference text and generated text are cut the same way, not that
// the cut is linguistically perfect. No torch here.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace structlm::text {

// Sentence rule:
// - a blank line (paragraph break) always ends a sentence; single newlines are spaces;
// - otherwise a sentence ends after a run of '.', '!' or '?' (plus closing quotes/brackets right
//   after it) that is followed by whitespace and then by something other than a lowercase ASCII
//   letter ("he said. then" does not split: lowercase text after a period is rarely a new sentence);
// - except after a single '.' that closes a known abbreviation ("Mr.", "Dr.", "St.", "vs.", ...)
//   or an initial / dotted abbreviation ("J.", "U.S.", "e.g."): those would otherwise cut
//   "Mr. Smith" and "J. F. Kennedy" apart. ("in the U.S. The" stays one sentence: a known miss.)
// Each sentence is returned with surrounding whitespace trimmed and inner runs of whitespace kept
// as they are (byte-exact substrings apart from the trim), and empty ones are dropped.
std::vector<std::string> split_sentences(std::string_view text);

// Word rule (the generation metrics' "words"): split on ASCII whitespace, strip leading and
// trailing punctuation (ASCII punctuation and the Unicode quotes, dashes and ellipsis “ ” ‘ ’ – — …),
// lowercase ASCII letters, drop what is left empty. Punctuation inside a word stays ("don't",
// "u.s", "well-known"), so a contraction is one word and a lone "--" or "." is none. This is
// what MTLD's reference implementations do (lowercase, punctuation removed, whitespace split).
std::vector<std::string> words(std::string_view text);

// Whether `s` decodes as UTF-8 (lead and continuation bytes; overlong forms are not checked).
bool valid_utf8(std::string_view s);

}  // namespace structlm::text
