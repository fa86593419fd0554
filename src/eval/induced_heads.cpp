#include "eval/induced_heads.h"

#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "eval/dependency_probe.h"
#include "eval/mode_guard.h"
#include "text/link_grammar.h"
#include "text/link_tokens.h"
#include "text/sentences.h"

namespace structlm::eval {

namespace {

// A token's bytes as one printable CoNLL-U field: surrounding whitespace dropped, inner
// whitespace as '_', bytes that are not valid UTF-8 (half a character) as \xNN.
std::string printable(const std::string& bytes) {
  std::size_t b = bytes.find_first_not_of(" \t\n\r"), e = bytes.find_last_not_of(" \t\n\r");
  std::string s = b == std::string::npos ? "" : bytes.substr(b, e - b + 1);
  if (!text::valid_utf8(s)) {
    std::string esc;
    char buf[8];
    for (unsigned char c : s) {
      if (c < 0x80) {
        esc += char(c);
      } else {
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        esc += buf;
      }
    }
    s = esc;
  }
  for (auto& c : s)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
  return s.empty() ? "_" : s;
}

}  // namespace


TokenHeads induce_heads(model::GPT& net, const text::Tokenizer& tok, const std::string& sentence, bool with_links) {
  auto ids = tok.encode(sentence);
  check(!ids.empty(), "parse", "the sentence is empty");
  check(std::int64_t(ids.size()) + 1 <= net->cfg.block_size, "parse",
        "the sentence has " + std::to_string(ids.size()) + " tokens; the model's context holds " +
            std::to_string(net->cfg.block_size - 1) + " after <|endoftext|>");
  std::vector<std::int64_t> input{std::int64_t(tok.eot())};
  input.insert(input.end(), ids.begin(), ids.end());
  const auto n = std::int64_t(input.size());
  model::ForwardTrace trace;
  {
    EvalGuard guard(net);
    net->forward(torch::tensor(input, torch::kLong).view({1, n}).to(net->wte->weight.device()), nullptr, &trace);
  }
  TokenHeads h;
  h.has_dependency = !trace.dependency.empty();
  auto attn = trace.attention.back()[0].cpu().to(torch::kDouble);
  torch::Tensor dep = h.has_dependency ? trace.dependency.back()[0].cpu().to(torch::kDouble) : torch::Tensor();
  // Position 0 is <|endoftext|>: heads are sought among the sentence's own earlier tokens.
  auto attn_heads = induced_heads(attn, 1);
  std::vector<int> dep_heads = h.has_dependency ? induced_heads(dep, 1) : std::vector<int>();
  std::vector<int> partners;
  if (with_links) {
    text::LinkParser parser;
    partners = text::token_partners(parser.parse(sentence), text::token_spans(tok, ids));
  }
  for (std::int64_t i = 1; i < n; ++i) {
    h.forms.push_back(printable(tok.token_bytes(text::TokenId(input[i]))));
    h.attn.push_back(attn_heads[i] < 0 ? 0 : attn_heads[i]);
    h.attn_w.push_back(attn_heads[i] < 0 ? 0.0 : attn[i][attn_heads[i]].item<double>());
    if (h.has_dependency) {
      h.dep.push_back(dep_heads[i] < 0 ? 0 : dep_heads[i]);
      h.dep_w.push_back(dep_heads[i] < 0 ? 0.0 : dep[i][dep_heads[i]].item<double>());
    }
    if (with_links) h.link.push_back(partners[i - 1] < 0 ? 0 : partners[i - 1] + 1);
  }
  return h;
}

std::string heads_as_text(const TokenHeads& h, const std::string& sentence) {
  std::ostringstream out;
  out << "# " << sentence << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%4s  %-16s %-24s %-24s%s\n", "id", "token",
                h.has_dependency ? "head by D (weight)" : "head by D", "head by attention (weight)",
                h.link.empty() ? "" : "  link-grammar");
  out << line;
  auto head = [&](int k, double w) {
    if (k == 0) return std::string("0 (root)");
    char b[96];
    std::snprintf(b, sizeof b, "%d %s (%.2f)", k, h.forms[k - 1].c_str(), w);
    return std::string(b);
  };
  for (std::size_t i = 0; i < h.forms.size(); ++i) {
    std::string link = h.link.empty() ? "" : h.link[i] ? std::to_string(h.link[i]) + " " + h.forms[h.link[i] - 1] : "-";
    std::snprintf(line, sizeof line, "%4zu  %-16s %-24s %-24s%s%s\n", i + 1, h.forms[i].c_str(),
                  h.has_dependency ? head(h.dep[i], h.dep_w[i]).c_str() : "(no D: plain model)",
                  head(h.attn[i], h.attn_w[i]).c_str(), h.link.empty() ? "" : "  ", link.c_str());
    out << line;
  }
  return out.str();
}

std::string heads_as_conllu(const TokenHeads& h, const std::string& sentence, int sent_id) {
  std::ostringstream out;
  out << "# sent_id = " << sent_id << "\n# text = " << sentence << "\n";
  for (std::size_t i = 0; i < h.forms.size(); ++i) {
    const int head = h.has_dependency ? h.dep[i] : h.attn[i];
    char misc[160];
    int k = std::snprintf(misc, sizeof misc, "AttnHead=%d|AttnWeight=%.3f", h.attn[i], h.attn_w[i]);
    if (h.has_dependency) k += std::snprintf(misc + k, sizeof misc - k, "|DHead=%d|DWeight=%.3f", h.dep[i], h.dep_w[i]);
    if (!h.link.empty()) std::snprintf(misc + k, sizeof misc - k, "|LinkHead=%d", h.link[i]);
    out << i + 1 << '\t' << h.forms[i] << "\t_\t_\t_\t_\t" << head << '\t' << (head == 0 ? "root" : "dep")
        << "\t_\t" << misc << "\n";
  }
  out << "\n";
  return out.str();
}

}  // namespace structlm::eval
