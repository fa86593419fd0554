// Hugging Face tokenizer.json, the byte-level BPE kind (GPT-2, Llama 3, Qwen2 without its NFC
// normaliser, SmolLM): a vocabulary over GPT-2's byte alphabet, merges in rank order, a
// pre-tokenizer regex, added special tokens. Everything the encoder relies on is checked, and
// anything this reader does not implement (another model type, a normaliser, byte fallback,
// other pre-tokenizers) is refused naming the field, rather than encoded differently from the
// library that wrote the file.
#include <algorithm>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "text/byte_alphabet.h"
#include "text/gpt2_pretokenize.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

namespace {

std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 60;
  return json(s.size() > kMax ? s.substr(0, kMax) + "..." : s).dump(-1, ' ', false, json::error_handler_t::replace);
}

const json& field(const json& j, const char* key, const std::string& path, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) fail(path, "missing field '" + where + key + "'");
  return *it;
}

// A setting that must be absent, null, false or empty for this reader: anything else changes
// the encoding in a way it does not implement.
void require_off(const json& j, const char* key, const std::string& path, const std::string& where,
                 const std::string& why) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || (it->is_boolean() && !it->get<bool>()) ||
      (it->is_string() && it->get<std::string>().empty()) || (it->is_number() && it->get<double>() == 0))
    return;
  fail(path, "field '" + where + key + "' is " + it->dump() + ": " + why);
}

// ByteLevel with its own regex (use_regex) or after a Split that supplies one.
void check_byte_level(const json& b, bool regex_expected, const std::string& path, const std::string& where) {
  if (!b.is_object() || b.value("type", "") != "ByteLevel")
    fail(path, "field '" + where + "' must be a ByteLevel pre-tokenizer, found " + b.dump().substr(0, 80));
  require_off(b, "add_prefix_space", path, where + ".", "a space added before the text is not implemented");
  const bool use_regex = b.value("use_regex", true);
  if (use_regex != regex_expected)
    fail(path, "field '" + where + ".use_regex' is " + (use_regex ? "true" : "false") +
                   (regex_expected ? ": expected GPT-2's regex here" : ": a Split already cut the text"));
}

// The pre-tokenizer regex: GPT-2's for a lone ByteLevel, the Split's for Sequence[Split, ByteLevel].
const detail::Pattern* read_pre_tokenizer(const json& j, const std::string& path) {
  const json& p = field(j, "pre_tokenizer", path, "");
  if (!p.is_object()) fail(path, "field 'pre_tokenizer' must be an object");
  const std::string type = p.value("type", "");
  if (type == "ByteLevel") {
    check_byte_level(p, true, path, "pre_tokenizer");
    return detail::Pattern::gpt2();
  }
  if (type != "Sequence")
    fail(path, "field 'pre_tokenizer.type' is '" + type + "': only ByteLevel, or a Sequence of a regex Split and ByteLevel, is supported");
  const json& seq = field(p, "pretokenizers", path, "pre_tokenizer.");
  if (!seq.is_array() || seq.size() != 2)
    fail(path, "field 'pre_tokenizer.pretokenizers' must hold a Split and a ByteLevel");
  const json& split = seq[0];
  const std::string at = "pre_tokenizer.pretokenizers[0]";
  if (!split.is_object() || split.value("type", "") != "Split")
    fail(path, "field '" + at + ".type' must be Split");
  if (split.value("behavior", "") != "Isolated") fail(path, "field '" + at + ".behavior' must be Isolated");
  require_off(split, "invert", path, at + ".", "an inverted split is not implemented");
  const json& pattern = field(split, "pattern", path, at + ".");
  if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string())
    fail(path, "field '" + at + ".pattern' must be {\"Regex\": string}");
  check_byte_level(seq[1], false, path, "pre_tokenizer.pretokenizers[1]");
  try {
    return detail::Pattern::get(pattern["Regex"].get<std::string>());
  } catch (const Error& e) {
    fail(path, "field '" + at + ".pattern.Regex': " + e.what());
  }
}

}  // namespace

void Tokenizer::Impl::read_tokenizer_json(const std::string& path) {
  const json j = load_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object (a Hugging Face tokenizer.json)");
  const json& normalizer = field(j, "normalizer", path, "");
  if (!normalizer.is_null())
    fail(path, "field 'normalizer' is " + normalizer.value("type", normalizer.dump().substr(0, 40)) +
                   ": normalisers are not implemented (byte-level BPE without one only)");
  const json& model = field(j, "model", path, "");
  if (!model.is_object()) fail(path, "field 'model' must be an object");
  if (model.value("type", "") != "BPE")
    fail(path, "field 'model.type' is " + model.value("type", std::string("missing")) + ": only BPE is supported");
  require_off(model, "dropout", path, "model.", "BPE dropout is for training, not for encoding");
  require_off(model, "byte_fallback", path, "model.",
              "SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama) is not implemented yet");
  require_off(model, "continuing_subword_prefix", path, "model.", "subword prefixes are not byte-level BPE");
  require_off(model, "end_of_word_suffix", path, "model.", "end-of-word suffixes are not byte-level BPE");
  ignore_merges = model.value("ignore_merges", false);
  pattern = read_pre_tokenizer(j, path);

  // The vocabulary: byte-alphabet strings with unique ids.
  const json& vocab = field(model, "vocab", path, "model.");
  if (!vocab.is_object() || vocab.empty()) fail(path, "field 'model.vocab' must be a non-empty object");
  std::vector<std::pair<std::string, std::uint64_t>> entries;
  std::string scratch;
  for (auto& [token, value] : vocab.items()) {
    if (!value.is_number_unsigned())
      fail(path, "model.vocab entry " + shown(token) + ": the id must be a non-negative integer, not " + value.dump());
    if (token.empty() || !detail::token_string_to_bytes(token, scratch))
      fail(path, "model.vocab entry " + shown(token) + ": not a token string over GPT-2's byte alphabet");
    entries.emplace_back(token, value.get<std::uint64_t>());
  }
  // Added tokens: specials (and any other added token) are whole strings, never BPE output.
  const json& added = field(j, "added_tokens", path, "");
  if (!added.is_array()) fail(path, "field 'added_tokens' must be an array");
  std::vector<std::pair<std::string, std::uint64_t>> extra;
  for (std::size_t i = 0; i < added.size(); ++i) {
    const json& a = added[i];
    const std::string at = "added_tokens[" + std::to_string(i) + "]";
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_unsigned() || !a.contains("content") ||
        !a["content"].is_string() || a["content"].get<std::string>().empty())
      fail(path, "field '" + at + "' must be {\"id\": non-negative integer, \"content\": non-empty string, ...}");
    extra.emplace_back(a["content"].get<std::string>(), a["id"].get<std::uint64_t>());
  }
  std::uint64_t n = 0;
  for (const auto* list : {&entries, &extra})
    for (const auto& e : *list) n = std::max(n, e.second + 1);
  if (n > (std::uint64_t(1) << 31)) fail(path, "token id " + std::to_string(n - 1) + " is out of range");
  strings.assign(n, std::string());
  special.assign(n, false);
  std::vector<bool> used(n, false);
  for (const auto& [token, id] : entries) {
    if (used[id]) fail(path, "model.vocab entry " + shown(token) + ": id " + std::to_string(id) + " is also " + shown(strings[id]));
    used[id] = true;
    strings[id] = token;
    ids.emplace(token, TokenId(id));
  }
  for (const auto& [content, id] : extra) {
    if (used[id]) {
      // GPT-2's <|endoftext|> is both in the vocabulary and an added token: the same one, fine.
      if (strings[id] == content && ids.count(content) && ids.at(content) == id) {
        special[id] = true;
        continue;
      }
      fail(path, "added token " + shown(content) + ": id " + std::to_string(id) + " is also " + shown(strings[id]));
    }
    used[id] = true;
    strings[id] = content;
    special[id] = true;
    ids.emplace(content, TokenId(id));
  }
  const auto hole = std::find(used.begin(), used.end(), false);
  if (hole != used.end())
    fail(path, "no token has id " + std::to_string(hole - used.begin()) + " (ids must run 0.." + std::to_string(n - 1) +
                   " without gaps)");
  const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b)
    if (!ids.count(alphabet.utf8[b]))
      fail(path, "no token for byte " + std::to_string(b) + " (" + shown(alphabet.utf8[b]) + ") in model.vocab");

  // Merges: "left right" strings (older files) or [left, right] pairs (newer ones), rank order.
  const json& merge_list = field(model, "merges", path, "model.");
  if (!merge_list.is_array()) fail(path, "field 'model.merges' must be an array");
  merges.reserve(merge_list.size());
  merge_ids.reserve(merge_list.size());
  for (std::size_t i = 0; i < merge_list.size(); ++i) {
    const json& m = merge_list[i];
    const std::string at = "model.merges[" + std::to_string(i) + "]: ";
    std::string left, right;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const std::size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() || s.find(' ', space + 1) != std::string::npos)
        fail(path, at + "expected two token strings separated by one space, found " + shown(s));
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      fail(path, at + "expected \"left right\" or [\"left\", \"right\"], found " + m.dump().substr(0, 80));
    }
    auto l = ids.find(left), r = ids.find(right), made = ids.find(left + right);
    for (auto [it, name] : {std::pair{l, &left}, std::pair{r, &right}})
      if (it == ids.end() || special[it->second]) fail(path, at + "unknown token " + shown(*name));
    if (made == ids.end() || special[made->second])
      fail(path, at + "the merge makes " + shown(left + right) + ", which is not in model.vocab");
    merge_ids.push_back({l->second, r->second, made->second});
    merges.emplace_back(std::move(left), std::move(right));
  }

  // The token that separates documents in shards: GPT-2 and Qwen2 end a text with
  // <|endoftext|>; Llama 3 begins one with <|begin_of_text|>.
  for (const char* name : {"<|endoftext|>", "<|begin_of_text|>"}) {
    auto it = ids.find(name);
    if (it != ids.end()) {
      eot = it->second;
      return;
    }
  }
  fail(path, "neither <|endoftext|> nor <|begin_of_text|> is a token: no document separator");
}

Tokenizer Tokenizer::load_hf(const std::string& tokenizer_json) {
  Tokenizer t;
  t.impl_->read_tokenizer_json(tokenizer_json);
  t.impl_->finish();
  return t;
}

}  // namespace structlm::text
