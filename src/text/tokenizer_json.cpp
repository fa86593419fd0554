// Hugging Face tokenizer.json, two kinds of BPE:
//  - byte-level (GPT-2, Llama 3, Qwen2, SmolLM): a vocabulary over GPT-2's byte alphabet, merges
//    in rank order, a pre-tokenizer regex, added special tokens, and at most an NFC normaliser
//    (Qwen2);
//  - SentencePiece-style with byte fallback (model.byte_fallback: Llama 2, TinyLlama, Mistral
//    v0.1): a vocabulary of Unicode pieces ("▁" for space) with the 256 tokens <0x00>..<0xFF>,
//    merges, a normaliser Sequence[Prepend("▁"), Replace(" " -> "▁")] (older files) or a
//    Metaspace pre-tokenizer (newer ones), and the decoder Sequence[Replace("▁" -> " "),
//    ByteFallback, Fuse, Strip(" ", 1, 0)].
// Everything the encoder relies on is checked, and anything this reader does not implement
// (another model type, another normaliser, pre-tokenizer or decoder) is refused naming the field,
// rather than encoded differently from the library that wrote the file.
#include <algorithm>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "text/byte_alphabet.h"
#include "text/gpt2_pretokenize.h"
#include "text/normalize.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

namespace {

std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 60;
  return json(s.size() > kMax ? s.substr(0, kMax) + "..." : s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// j[key] when it is a string, else "" (absent, or another JSON type: refused by the caller).
std::string str_of(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
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
  if (!b.is_object() || str_of(b, "type") != "ByteLevel")
    fail(path, "field '" + where + "' must be a ByteLevel pre-tokenizer, found " + b.dump().substr(0, 80));
  require_off(b, "add_prefix_space", path, where + ".", "a space added before the text is not implemented");
  const auto use_regex_it = b.find("use_regex");
  if (use_regex_it != b.end() && !use_regex_it->is_boolean())
    fail(path, "field '" + where + ".use_regex' must be true or false");
  const bool use_regex = use_regex_it == b.end() || use_regex_it->get<bool>();
  if (use_regex != regex_expected)
    fail(path, "field '" + where + ".use_regex' is " + (use_regex ? "true" : "false") +
                   (regex_expected ? ": expected GPT-2's regex here" : ": a Split already cut the text"));
}

// The pre-tokenizer regex: GPT-2's for a lone ByteLevel, the Split's for Sequence[Split, ByteLevel].
const detail::Pattern* read_pre_tokenizer(const json& j, const std::string& path) {
  const json& p = field(j, "pre_tokenizer", path, "");
  if (!p.is_object()) fail(path, "field 'pre_tokenizer' must be an object");
  const std::string type = str_of(p, "type");
  if (type == "ByteLevel") {
    check_byte_level(p, true, path, "pre_tokenizer");
    return detail::Pattern::gpt2();
  }
  if (type != "Sequence")
    fail(path, "field 'pre_tokenizer.type' is '" + type +
                   "': only ByteLevel, or a Sequence of a regex Split and ByteLevel, is supported (Metaspace only with "
                   "model.byte_fallback, the SentencePiece kind)");
  const json& seq = field(p, "pretokenizers", path, "pre_tokenizer.");
  if (!seq.is_array() || seq.size() != 2)
    fail(path, "field 'pre_tokenizer.pretokenizers' must hold a Split and a ByteLevel");
  const json& split = seq[0];
  const std::string at = "pre_tokenizer.pretokenizers[0]";
  if (!split.is_object() || str_of(split, "type") != "Split")
    fail(path, "field '" + at + ".type' must be Split");
  if (str_of(split, "behavior") != "Isolated") fail(path, "field '" + at + ".behavior' must be Isolated");
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

// The normaliser: none, NFC, or (SentencePiece kind only) Prepend and Replace of a string, alone
// or in a Sequence, applied in file order.
std::vector<detail::NormalizerStep> read_normalizer(const json& j, bool sentencepiece, const std::string& path) {
  const json& n = field(j, "normalizer", path, "");
  std::vector<detail::NormalizerStep> steps;
  if (n.is_null()) return steps;
  auto one = [&](const json& s, const std::string& where) {
    if (!s.is_object()) fail(path, "field '" + where + "' must be an object");
    const std::string type = str_of(s, "type");
    if (type == "NFC") {
      steps.push_back({detail::NormalizerStep::kNfc, "", ""});
      return;
    }
    if (sentencepiece && type == "Prepend") {
      const json& p = field(s, "prepend", path, where + ".");
      if (!p.is_string()) fail(path, "field '" + where + ".prepend' must be a string");
      steps.push_back({detail::NormalizerStep::kPrepend, p.get<std::string>(), ""});
      return;
    }
    if (sentencepiece && type == "Replace") {
      const json& pattern = field(s, "pattern", path, where + ".");
      if (!pattern.is_object() || !pattern.contains("String") || !pattern["String"].is_string() ||
          pattern["String"].get<std::string>().empty())
        fail(path, "field '" + where + ".pattern' must be {\"String\": non-empty string} (a regex is not implemented)");
      const json& content = field(s, "content", path, where + ".");
      if (!content.is_string()) fail(path, "field '" + where + ".content' must be a string");
      steps.push_back({detail::NormalizerStep::kReplace, pattern["String"].get<std::string>(), content.get<std::string>()});
      return;
    }
    fail(path, "field '" + where + ".type' is '" + (type.empty() ? s.dump().substr(0, 40) : type) + "': only NFC" +
                   (sentencepiece ? ", Prepend and Replace are" : " is") + " implemented" +
                   (sentencepiece ? "" : " for byte-level BPE (Prepend and Replace only with model.byte_fallback)"));
  };
  if (str_of(n, "type") == "Sequence") {
    const json& list = field(n, "normalizers", path, "normalizer.");
    if (!list.is_array()) fail(path, "field 'normalizer.normalizers' must be an array");
    for (std::size_t i = 0; i < list.size(); ++i) one(list[i], "normalizer.normalizers[" + std::to_string(i) + "]");
  } else {
    one(n, "normalizer");
  }
  return steps;
}

// The SentencePiece kind's pre-tokenizer: none (the normaliser did the work) or Metaspace, read
// as `tokenizers` deserialises it: prepend_scheme defaults to "always", add_prefix_space false
// (older files) means "never", split defaults to true.
MetaspaceSpec read_metaspace(const json& j, const std::string& path) {
  const json& p = field(j, "pre_tokenizer", path, "");
  MetaspaceSpec m;
  if (p.is_null()) return m;
  if (!p.is_object()) fail(path, "field 'pre_tokenizer' must be an object or null");
  const std::string type = str_of(p, "type");
  if (type != "Metaspace")
    fail(path, "field 'pre_tokenizer.type' is '" + type +
                   "': a SentencePiece-style file (model.byte_fallback) takes a Metaspace pre-tokenizer or none");
  const json& r = field(p, "replacement", path, "pre_tokenizer.");
  if (!r.is_string() || r.get<std::string>().empty() ||
      detail::utf8_char_length(r.get<std::string>()) != r.get<std::string>().size())
    fail(path, "field 'pre_tokenizer.replacement' must be one character");
  m.replacement = r.get<std::string>();
  if (p.contains("prepend_scheme") && !p["prepend_scheme"].is_null()) {
    const std::string scheme = str_of(p, "prepend_scheme");
    if (scheme == "always") m.prepend = MetaspaceSpec::Prepend::kAlways;
    else if (scheme == "first") m.prepend = MetaspaceSpec::Prepend::kFirst;
    else if (scheme == "never") m.prepend = MetaspaceSpec::Prepend::kNever;
    else fail(path, "field 'pre_tokenizer.prepend_scheme' is " + p["prepend_scheme"].dump().substr(0, 40) +
                        ": expected \"always\", \"first\" or \"never\"");
  }
  for (const char* key : {"add_prefix_space", "split"})
    if (p.contains(key) && !p[key].is_null() && !p[key].is_boolean())
      fail(path, std::string("field 'pre_tokenizer.") + key + "' must be true or false");
  if (p.contains("add_prefix_space") && p["add_prefix_space"].is_boolean() && !p["add_prefix_space"].get<bool>())
    m.prepend = MetaspaceSpec::Prepend::kNever;
  if (p.contains("split") && p["split"].is_boolean()) m.split = p["split"].get<bool>();
  return m;
}

// The SentencePiece kind's decoder, which decode() and token_bytes() follow:
// Sequence[Replace*, ByteFallback, Fuse, Strip?] in this order (Fuse may go when no Strip follows:
// the decoded tokens are joined anyway). Replace patterns are strings; Strip removes leading
// copies of one character only (stop 0).
SpDecoder read_sp_decoder(const json& j, const std::string& path) {
  SpDecoder im;
  const json& d = field(j, "decoder", path, "");
  if (!d.is_object() || str_of(d, "type") != "Sequence")
    fail(path, "field 'decoder' must be a Sequence of Replace, ByteFallback, Fuse and Strip for model.byte_fallback, found " +
                   (d.is_object() && !str_of(d, "type").empty() ? "type '" + str_of(d, "type") + "'" : d.dump().substr(0, 60)));
  const json& list = field(d, "decoders", path, "decoder.");
  if (!list.is_array()) fail(path, "field 'decoder.decoders' must be an array");
  enum { kReplace, kByteFallback, kFuse, kStrip } stage = kReplace;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    const std::string where = "decoder.decoders[" + std::to_string(i) + "]";
    const std::string type = str_of(s, "type");
    if (type == "Replace" && stage == kReplace) {
      const json& pattern = field(s, "pattern", path, where + ".");
      if (!pattern.is_object() || !pattern.contains("String") || !pattern["String"].is_string() ||
          pattern["String"].get<std::string>().empty())
        fail(path, "field '" + where + ".pattern' must be {\"String\": non-empty string} (a regex is not implemented)");
      const json& content = field(s, "content", path, where + ".");
      if (!content.is_string()) fail(path, "field '" + where + ".content' must be a string");
      im.replace.emplace_back(pattern["String"].get<std::string>(), content.get<std::string>());
    } else if (type == "ByteFallback" && stage == kReplace) {
      stage = kByteFallback;
    } else if (type == "Fuse" && stage == kByteFallback) {
      stage = kFuse;
    } else if (type == "Strip" && stage == kFuse) {
      stage = kStrip;
      const json& content = field(s, "content", path, where + ".");
      const json& start = field(s, "start", path, where + ".");
      const json& stop = field(s, "stop", path, where + ".");
      if (!content.is_string() || content.get<std::string>().empty() ||
          detail::utf8_char_length(content.get<std::string>()) != content.get<std::string>().size())
        fail(path, "field '" + where + ".content' must be one character");
      if (!start.is_number_unsigned() || start.get<std::uint64_t>() > 1024)
        fail(path, "field '" + where + ".start' must be a small non-negative integer");
      if (!stop.is_number_unsigned() || stop.get<std::uint64_t>() != 0)
        fail(path, "field '" + where + ".stop' is " + stop.dump().substr(0, 20) + ": stripping the end is not implemented");
      im.strip_content = content.get<std::string>();
      im.strip_start = std::size_t(start.get<std::uint64_t>());
    } else {
      fail(path, "field '" + where + ".type' is '" + (type.empty() ? s.dump().substr(0, 40) : type) +
                     "': expected Sequence[Replace..., ByteFallback, Fuse, Strip] in this order");
    }
  }
  if (stage == kReplace) fail(path, "field 'decoder.decoders' has no ByteFallback: byte tokens would not decode");
  return im;
}

}  // namespace

void Tokenizer::Impl::read_tokenizer_json(const std::string& path) {
  const json j = load_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object (a Hugging Face tokenizer.json)");
  const json& model = field(j, "model", path, "");
  if (!model.is_object()) fail(path, "field 'model' must be an object");
  if (str_of(model, "type") != "BPE")
    fail(path, "field 'model.type' is " +
                   (!model.contains("type") ? std::string("missing")
                    : model["type"].is_string() ? model["type"].get<std::string>().substr(0, 40)
                                                : model["type"].dump().substr(0, 40)) +
                   ": only BPE is supported");
  require_off(model, "dropout", path, "model.", "BPE dropout is for training, not for encoding");
  require_off(model, "continuing_subword_prefix", path, "model.", "subword prefixes are not implemented");
  require_off(model, "end_of_word_suffix", path, "model.", "end-of-word suffixes are not implemented");
  for (const char* key : {"byte_fallback", "ignore_merges"})
    if (model.contains(key) && !model[key].is_null() && !model[key].is_boolean())
      fail(path, std::string("field 'model.") + key + "' must be true or false");
  sentencepiece = model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>();
  ignore_merges = model.contains("ignore_merges") && model["ignore_merges"].is_boolean() && model["ignore_merges"].get<bool>();
  normalizer = read_normalizer(j, sentencepiece, path);
  if (sentencepiece) {
    metaspace = read_metaspace(j, path);
    decoder = read_sp_decoder(j, path);
  } else {
    pattern = read_pre_tokenizer(j, path);
  }

  // The vocabulary: byte-alphabet strings (byte-level) or any pieces (SentencePiece kind), unique ids.
  const json& vocab = field(model, "vocab", path, "model.");
  if (!vocab.is_object() || vocab.empty()) fail(path, "field 'model.vocab' must be a non-empty object");
  std::vector<std::pair<std::string, std::uint64_t>> entries;
  std::string scratch;
  for (auto& [token, value] : vocab.items()) {
    if (!value.is_number_unsigned())
      fail(path, "model.vocab entry " + shown(token) + ": the id must be a non-negative integer, not " + value.dump());
    if (token.empty()) fail(path, "model.vocab has an empty token");
    if (!sentencepiece && !detail::token_string_to_bytes(token, scratch))
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
  if (sentencepiece) {
    // Byte fallback needs every byte: without <0xXX>, `tokenizers` would fall back to the
    // unknown token, which this reader does not implement.
    for (const auto& [token, id] : entries) piece_ids.emplace(token, TokenId(id));
    static const char* kHex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const std::string name = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
      if (!piece_ids.count(name))
        fail(path, "no byte-fallback token " + name + " in model.vocab (byte fallback needs all 256)");
    }
  } else {
    const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
    for (int b = 0; b < 256; ++b)
      if (!ids.count(alphabet.utf8[b]))
        fail(path, "no token for byte " + std::to_string(b) + " (" + shown(alphabet.utf8[b]) + ") in model.vocab");
  }

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
    // The SentencePiece kind looks tokens up in model.vocab alone, as `tokenizers` does.
    const auto& table = sentencepiece ? piece_ids : ids;
    auto l = table.find(left), r = table.find(right), made = table.find(left + right);
    for (auto [it, name] : {std::pair{l, &left}, std::pair{r, &right}})
      if (it == table.end() || special[it->second]) fail(path, at + "unknown token " + shown(*name));
    if (made == table.end() || special[made->second])
      fail(path, at + "the merge makes " + shown(left + right) + ", which is not in model.vocab");
    merge_ids.push_back({l->second, r->second, made->second});
    merges.emplace_back(std::move(left), std::move(right));
  }

  // The token that separates documents in shards: GPT-2 and Qwen2 end a text with
  // <|endoftext|>; Llama 3 begins one with <|begin_of_text|>; SentencePiece vocabularies
  // (Llama 2, TinyLlama, Mistral) end one with </s>.
  for (const char* name : {"<|endoftext|>", "<|begin_of_text|>", "</s>"}) {
    auto it = ids.find(name);
    if (it != ids.end()) {
      eot = it->second;
      return;
    }
  }
  fail(path, "none of <|endoftext|>, <|begin_of_text|>, </s> is a token: no document separator");
}

Tokenizer Tokenizer::load_hf(const std::string& tokenizer_json) {
  Tokenizer t;
  t.impl_->read_tokenizer_json(tokenizer_json);
  t.impl_->finish();
  return t;
}

}  // namespace structlm::text
