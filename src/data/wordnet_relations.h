// WordNet's synonym and hypernym relations, for HCMA's neighbour-retrieval evaluation
// (docs/METHODS.md §2d). Read from the data.noun, data.verb, data.adj and data.adv files of
// WordNet 3.0 (Debian wordnet-base, data::kWordnetDir). No torch here.
#pragma once
#include <map>
#include <set>
#include <string>

#include "data/corpus.h"  // kWordnetDir

namespace structlm::data {

// lemma (lower case, '_' between words as in WordNet) -> its synonyms (other lemmas of its
// synsets) and the lemmas of its synsets' hypernyms (pointers '@' and '@i'), any part of speech.
// Every lemma of the four files is a key, with an empty set when it has neither. A lemma is
// never its own relation. Adjective markers ("galore(ip)") are dropped. Errors name the file and
// line.
using WordRelations = std::map<std::string, std::set<std::string>>;
WordRelations load_wordnet_relations(const std::string& wordnet_dir = kWordnetDir);

}  // namespace structlm::data
