// The structure a model induces on a sentence (`structlm parse`, CSTDE's probe of docs/METHODS.md
// §1c): for each token its most likely head among the earlier tokens, from the last layer's
// dependency distribution D (CSTDE models) and from the last layer's head-averaged attention
// (every model), optionally next to link-grammar's reference links; as a text table or CoNLL-U.
#pragma once
#include <string>
#include <vector>

#include "model/gpt.h"
#include "text/tokenizer.h"

namespace structlm::eval {

struct TokenHeads {
  std::vector<std::string> forms;
  std::vector<int> dep, attn, link;      // 1-based head token, 0 = none/root
  std::vector<double> dep_w, attn_w;     // the head's weight
  bool has_dependency = false;
};

// The sentence is encoded after <|endoftext|>; it must fit the model's context.
TokenHeads induce_heads(model::GPT& net, const text::Tokenizer& tok, const std::string& sentence, bool with_links);
std::string heads_as_text(const TokenHeads& h, const std::string& sentence);
// CoNLL-U (universaldependencies.org/format.html): HEAD is the D head for CSTDE models and the
// attention head otherwise; both (and link-grammar's) are also in MISC.
std::string heads_as_conllu(const TokenHeads& h, const std::string& sentence, int sent_id);

}  // namespace structlm::eval
