// GGUF vocabularies <-> tokenizer.json (see gguf_vocab.h).
#include "interop/gguf_vocab.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/utf8.h"
#include "formats/gguf_llama_config.h"
#include "text/tokenizer.h"

namespace structlm::interop {

// torch-free (fuzz/fuzz_gguf_llama.cpp compiles this file): the token types from formats.
using formats::kGgufTokenControl;
using formats::kGgufTokenNormal;
using formats::kGgufTokenUnused;
using formats::kGgufTokenUserDefined;

namespace {

// The pre-tokenizer regexes of the llama.cpp `tokenizer.ggml.pre` names this reader knows, as
// the models' own tokenizer.json files spell them (Qwen2's differs from Llama 3's only in taking
// digits one at a time).
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The regex of a Sequence[Split, ByteLevel] pre-tokenizer, or "" for any other form.
std::string split_regex(const json& pre) {
  if (!pre.is_object() || pre.value("type", std::string()) != "Sequence" || !pre.contains("pretokenizers") ||
      !pre["pretokenizers"].is_array() || pre["pretokenizers"].size() != 2)
    return "";
  const json& split = pre["pretokenizers"][0];
  if (!split.is_object() || split.value("type", std::string()) != "Split" || !split.contains("pattern") ||
      !split["pattern"].is_object())
    return "";
  return split["pattern"].value("Regex", std::string());
}

// llama.cpp's name for the pre-tokenizer of a byte-level BPE tokenizer.json, or why there is none.
std::string gguf_pre_of(const json& tj, const std::string& path) {
  const json& m = tj.value("model", json::object());
  if (m.value("type", std::string()) != "BPE") fail(path, "field 'model.type': only BPE vocabularies are exported");
  const json& norm = tj.value("normalizer", json());
  const bool nfc = norm.is_object() && norm.value("type", std::string()) == "NFC";
  if (!norm.is_null() && !nfc)
    fail(path, "field 'normalizer': a GGUF vocabulary has no normaliser (llama.cpp's qwen2 pre-tokenizer "
               "implies NFC); not exported");
  const json& pre = tj.value("pre_tokenizer", json());
  const std::string regex = split_regex(pre);
  // Qwen2's NFC travels as the name "qwen2": only with Qwen2's regex.
  if (nfc) {
    if (regex == kQwen2Regex) return "qwen2";
    fail(path, "field 'normalizer' is NFC but 'pre_tokenizer' is not Qwen2's regex: llama.cpp has no name for it; "
               "not exported");
  }
  if (pre.is_object() && pre.value("type", std::string()) == "ByteLevel" && pre.value("use_regex", true)) return "gpt-2";
  if (regex == kLlama3Regex) return "llama-bpe";
  fail(path, "field 'pre_tokenizer': not GPT-2's, Llama 3's or Qwen2's, so llama.cpp has no name for it; not exported");
}

// ---- SentencePiece vocabularies (tokenizer.ggml.model "llama") ----
const std::string kSpSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space
constexpr std::int64_t kTypeUnknown = 2, kTypeByte = 6;

// Bytes of the UTF-8 character at s[i] (1 for a byte that starts none: such text splits per byte).
std::size_t char_bytes(const std::string& s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  return i + n <= s.size() ? n : 1;
}

bool is_byte_piece(const std::string& t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// A merge (left, right) and the piece it makes, by id.
struct SpMerge {
  std::int64_t left, right, made;
};

// Hugging Face's SentencePieceExtractor.extract(vocab_scores), which its LlamaConverter uses to
// write a SentencePiece model's tokenizer.json: for every piece, in id order, each split (at a
// character boundary) into two pieces of the vocabulary, those of one piece ordered by (id of
// left, id of right); then all of them stably sorted by the merged piece's score, highest first.
// Only `mergeable` pieces take part (normal and byte ones): the tokenizer.json reader refuses
// merges that touch special tokens, which text never encodes into.
std::vector<SpMerge> sp_merges(const std::vector<std::string>& pieces, const std::vector<double>& scores,
                               const std::vector<bool>& mergeable) {
  std::map<std::string, std::int64_t> id;
  for (std::size_t i = 0; i < pieces.size(); ++i) id[pieces[i]] = std::int64_t(i);
  std::vector<SpMerge> merges;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (!mergeable[i]) continue;
    const std::string& p = pieces[i];
    const std::size_t first = merges.size();
    for (std::size_t k = p.empty() ? 0 : char_bytes(p, 0); k > 0 && k < p.size(); k += char_bytes(p, k)) {
      auto l = id.find(p.substr(0, k)), r = id.find(p.substr(k));
      if (l != id.end() && r != id.end() && mergeable[std::size_t(l->second)] && mergeable[std::size_t(r->second)])
        merges.push_back({l->second, r->second, std::int64_t(i)});
    }
    std::sort(merges.begin() + std::ptrdiff_t(first), merges.end(),
              [](const SpMerge& a, const SpMerge& b) { return std::pair(a.left, a.right) < std::pair(b.left, b.right); });
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [&](const SpMerge& a, const SpMerge& b) { return scores[std::size_t(a.made)] > scores[std::size_t(b.made)]; });
  return merges;
}

// The tokenizer.json of a SentencePiece vocabulary, as transformers' LlamaConverter writes Llama
// 2's (legacy form): BPE with byte fallback, every piece in model.vocab, the merges sp_merges
// derives from the scores, the unknown, control and user-defined pieces added special tokens;
// the normaliser Prepend("▁") (llama.cpp's add_space_prefix, default true) and Replace(" " ->
// "▁"); no pre-tokenizer; the decoder Replace, ByteFallback, Fuse, Strip; <s> and </s> around a
// text as add_bos_token / add_eos_token say (a post processor structlm writes but never reads).
json sp_tokenizer_json(const formats::GgufFile& f, std::int64_t rows) {
  const std::string kTokens = "tokenizer.ggml.tokens", kScores = "tokenizer.ggml.scores",
                    kTypes = "tokenizer.ggml.token_type";
  const auto& tokens = f.get_string_array(kTokens);
  if (tokens.empty() || std::int64_t(tokens.size()) > rows)
    fail(f.name, "metadata key '" + kTokens + "': " + std::to_string(tokens.size()) + " tokens for " +
                     std::to_string(rows) + " embedding rows");
  const auto& scores = f.get_float_array(kScores);
  if (scores.size() != tokens.size())
    fail(f.name, "metadata key '" + kScores + "': " + std::to_string(scores.size()) + " scores for " +
                     std::to_string(tokens.size()) + " tokens");
  const auto& types = f.get_int_array(kTypes);
  if (types.size() != tokens.size())
    fail(f.name, "metadata key '" + kTypes + "': " + std::to_string(types.size()) + " entries for " +
                     std::to_string(tokens.size()) + " tokens");
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string at = " (token " + std::to_string(i) + ")";
    if (!std::isfinite(scores[i])) fail(f.name, "metadata key '" + kScores + "': score " + std::to_string(i) + " is not finite");
    if (types[i] < kGgufTokenNormal || types[i] > kTypeByte)
      fail(f.name, "metadata key '" + kTypes + "': type " + std::to_string(types[i]) + at +
                       " is not one of llama.cpp's 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte");
    if ((types[i] == kTypeByte) != is_byte_piece(tokens[i]))
      fail(f.name, "metadata key '" + kTypes + "': token " + std::to_string(i) + " '" + tokens[i].substr(0, 40) + "' has type " +
                       std::to_string(types[i]) + ", but byte tokens (type 6) are exactly the pieces <0x00>..<0xFF>");
    if (tokens[i].empty()) fail(f.name, "metadata key '" + kTokens + "': token " + std::to_string(i) + " is empty");
    if (auto [it, fresh] = seen.emplace(tokens[i], i); !fresh)
      fail(f.name, "metadata key '" + kTokens + "': tokens " + std::to_string(it->second) + " and " + std::to_string(i) +
                       " are both '" + tokens[i].substr(0, 40) + "'");
  }
  std::size_t n = tokens.size();
  while (n > 0 && types[n - 1] == kGgufTokenUnused) --n;  // the converter's [PADn] rows
  auto id_key = [&](const std::string& key) -> std::int64_t {
    if (!f.find(key)) return -1;
    const std::uint64_t v = f.get_uint(key);
    if (v >= n) fail(f.name, "metadata key '" + key + "': " + std::to_string(v) + " is not a token id (" + std::to_string(n) + " tokens)");
    return std::int64_t(v);
  };
  auto flag = [&](const std::string& key, bool otherwise) { return f.find(key) ? f.get_bool(key) : otherwise; };
  std::int64_t unk = id_key("tokenizer.ggml.unknown_token_id");
  for (std::size_t i = 0; i < n && unk < 0; ++i)
    if (types[i] == kTypeUnknown) unk = std::int64_t(i);
  const std::int64_t bos = id_key("tokenizer.ggml.bos_token_id"), eos = id_key("tokenizer.ggml.eos_token_id");
  // llama.cpp's defaults for a SentencePiece vocabulary: a space before the text, <s> added.
  const bool prefix = flag("tokenizer.ggml.add_space_prefix", true);
  const bool add_bos = flag("tokenizer.ggml.add_bos_token", true) && bos >= 0;
  const bool add_eos = flag("tokenizer.ggml.add_eos_token", false) && eos >= 0;

  json vocab = json::object(), added = json::array();
  std::vector<bool> mergeable(n);
  for (std::size_t id = 0; id < n; ++id) {
    vocab[tokens[id]] = id;
    mergeable[id] = types[id] == kGgufTokenNormal || types[id] == kTypeByte;
    if (!mergeable[id]) added.push_back({{"id", id}, {"content", tokens[id]}, {"special", true}, {"normalized", false}});
  }
  const std::vector<std::string> pieces(tokens.begin(), tokens.begin() + std::ptrdiff_t(n));
  json merges = json::array();
  for (const SpMerge& m : sp_merges(pieces, scores, mergeable))
    merges.push_back(pieces[std::size_t(m.left)] + " " + pieces[std::size_t(m.right)]);

  json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpSpace}};
  json normalizers = json::array();
  if (prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", kSpSpace}});
  normalizers.push_back(replace_space);
  json decoders = {{{"type", "Replace"}, {"pattern", {{"String", kSpSpace}}}, {"content", " "}},
                   {{"type", "ByteFallback"}},
                   {{"type", "Fuse"}}};
  if (prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  json post = nullptr;
  if (add_bos || add_eos) {
    json single = json::array();
    if (add_bos) single.push_back({{"SpecialToken", {{"id", tokens[std::size_t(bos)]}, {"type_id", 0}}}});
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    if (add_eos) single.push_back({{"SpecialToken", {{"id", tokens[std::size_t(eos)]}, {"type_id", 0}}}});
    post = {{"type", "TemplateProcessing"}, {"single", single}};
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
          {"pre_tokenizer", nullptr},
          {"post_processor", post},
          {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", unk >= 0 ? json(tokens[std::size_t(unk)]) : json()},
            {"fuse_unk", true}, {"byte_fallback", true}, {"ignore_merges", false}, {"vocab", vocab},
            {"merges", merges}}}};
}

// Whether a SentencePiece-style tokenizer.json puts "▁" before the text (llama.cpp's
// add_space_prefix); refused, naming the field, where llama.cpp's SentencePiece tokenizer (spaces
// to "▁", no other normalising, no splitting) would encode otherwise.
bool sp_space_prefix(const json& tj, const std::vector<std::string>& pieces, const std::string& path) {
  const json& norm = tj.value("normalizer", json());
  const json& pre = tj.value("pre_tokenizer", json());
  auto is_replace_space = [](const json& s) {
    return s.is_object() && s.value("type", std::string()) == "Replace" && s.contains("pattern") &&
           s["pattern"].is_object() && s["pattern"].value("String", std::string()) == " " &&
           s.value("content", std::string()) == kSpSpace;
  };
  if (pre.is_null()) {  // the legacy form: Sequence[Prepend("▁")?, Replace(" " -> "▁")]
    const json steps = norm.is_object() && norm.value("type", std::string()) == "Sequence"
                           ? norm.value("normalizers", json::array())
                           : json::array({norm});
    const bool prepend = steps.size() == 2 && steps[0].is_object() && steps[0].value("type", std::string()) == "Prepend" &&
                         steps[0].value("prepend", std::string()) == kSpSpace;
    if (steps.size() == 1 + std::size_t(prepend) && is_replace_space(steps.back())) return prepend;
    fail(path, "field 'normalizer': llama.cpp's SentencePiece tokenizer only puts '▁' for spaces (and before the "
               "text); another normaliser is not exported");
  }
  if (!norm.is_null()) fail(path, "field 'normalizer': with a Metaspace pre-tokenizer a normaliser is not exported");
  if (pre.value("type", std::string()) != "Metaspace" || pre.value("replacement", std::string()) != kSpSpace)
    fail(path, "field 'pre_tokenizer': only Metaspace('▁') has a GGUF form for a SentencePiece vocabulary");
  // Metaspace's split cuts the text before each "▁", llama.cpp does not: the same only when no
  // piece holds a "▁" after its start.
  if (pre.value("split", true))
    for (const auto& p : pieces)
      if (p.find(kSpSpace, 1) != std::string::npos)
        fail(path, "field 'pre_tokenizer.split' is true and piece '" + p.substr(0, 40) +
                       "' holds '▁' inside: llama.cpp, which does not split, would encode it; not exported");
  const json scheme = pre.value("prepend_scheme", json());
  const bool legacy_off = pre.contains("add_prefix_space") && pre["add_prefix_space"] == false;
  return !legacy_off && !(scheme.is_string() && scheme.get<std::string>() == "never");
}

// The SentencePiece kind of add_gguf_vocab: what _set_vocab_sentencepiece writes (model "llama",
// pre "default", tokens, scores, token types, then bos, eos, unk ids and add_bos/add_eos_token).
// A tokenizer.json keeps no scores; SentencePiece's BPE scores a piece minus its rank, which is
// what is written (normal pieces -0, -1, ... in id order; unknown, control and byte pieces 0;
// the converter's [PADn] rows -1000), and only where the merges that import (sp_merges) derives
// from those scores are the file's merges: otherwise llama.cpp would encode differently, and the
// export is refused.
void add_sp_vocab(formats::GgufWriter& w, const json& tj, const text::Tokenizer& tok, std::int64_t V, std::int64_t bos,
                  std::int64_t eos, const std::string& path) {
  const json& model = tj["model"];
  if (model.value("ignore_merges", false))
    fail(path, "field 'model.ignore_merges' is true: llama.cpp's SentencePiece tokenizer always merges; not exported");
  const std::int64_t n = std::int64_t(tok.vocab_size());
  std::set<std::int64_t> added;
  for (const auto& a : tj.value("added_tokens", json::array()))
    if (a.is_object() && a.value("id", -1) >= 0) added.insert(a["id"].get<std::int64_t>());
  const json unk_field = model.value("unk_token", json());
  const std::string unk = unk_field.is_string() ? unk_field.get<std::string>() : "";
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  std::vector<bool> mergeable;
  std::map<std::string, std::int64_t> id_of;
  std::int64_t rank = 0, unk_id = -1;
  for (std::int64_t id = 0; id < V; ++id) {
    if (id >= n) {  // rows past the vocabulary, as the converter pads them
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      types.push_back(kGgufTokenUnused);
      scores.push_back(-1000.0f);
      continue;
    }
    const std::string t = tok.token_string(text::TokenId(id));
    const bool special = added.count(id) > 0;
    const std::int32_t type = !unk.empty() && t == unk ? std::int32_t(kTypeUnknown)
                              : special                ? kGgufTokenControl
                              : is_byte_piece(t)       ? std::int32_t(kTypeByte)
                                                       : kGgufTokenNormal;
    if (type == kTypeUnknown) unk_id = id;
    tokens.push_back(t);
    types.push_back(type);
    scores.push_back(type == kGgufTokenNormal ? float(-rank++) : 0.0f);
    mergeable.push_back(type == kGgufTokenNormal || type == kTypeByte);
    id_of.emplace(t, id);
  }
  const std::vector<std::string> pieces(tokens.begin(), tokens.begin() + std::ptrdiff_t(n));
  const bool prefix = sp_space_prefix(tj, pieces, path);

  // The file's merges must be the ones the scores give: the same pairs, making the same pieces
  // in the same order (within one piece, transformers' versions order the splits differently;
  // that order never changes an encoding, as no other merge ranks between them).
  const std::vector<double> wide(scores.begin(), scores.begin() + std::ptrdiff_t(n));
  const std::vector<SpMerge> derived = sp_merges(pieces, wide, mergeable);
  const auto& file = tok.merges();
  std::vector<std::pair<std::string, std::string>> ours;
  for (const SpMerge& m : derived) ours.emplace_back(pieces[std::size_t(m.left)], pieces[std::size_t(m.right)]);
  std::vector<std::pair<std::string, std::string>> a = ours, b = file;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  bool same = a == b;
  for (std::size_t i = 0; same && i < ours.size(); ++i) same = ours[i].first + ours[i].second == file[i].first + file[i].second;
  if (!same)
    fail(path, "field 'model.merges': " + std::to_string(file.size()) + " merges, but the pieces' order (SentencePiece's "
               "scores, the only form GGUF keeps) gives " + std::to_string(ours.size()) +
               " others or in another order; llama.cpp would encode differently, so it is not exported");

  auto special_id = [&](std::int64_t given, const char* piece) -> std::int64_t {
    if (given >= 0) return given;
    auto it = id_of.find(piece);
    if (it == id_of.end()) fail(path, std::string("no ") + piece + " token and the model names none");
    return it->second;
  };
  // add_bos / add_eos: what the post processor puts around a single text.
  bool add_bos = false, add_eos = false;
  const json& post = tj.value("post_processor", json());
  if (post.is_object() && post.value("type", std::string()) == "TemplateProcessing" && post.contains("single") &&
      post["single"].is_array() && !post["single"].empty()) {
    const json& single = post["single"];
    add_bos = single.front().contains("SpecialToken");
    add_eos = single.size() > 1 && single.back().contains("SpecialToken");
  }
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_f32_array("tokenizer.ggml.scores", scores);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_u32("tokenizer.ggml.bos_token_id", std::uint32_t(special_id(bos, "<s>")));
  w.add_u32("tokenizer.ggml.eos_token_id", std::uint32_t(special_id(eos, "</s>")));
  if (unk_id >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", std::uint32_t(unk_id));
  w.add_bool("tokenizer.ggml.add_bos_token", add_bos);
  w.add_bool("tokenizer.ggml.add_eos_token", add_eos);
  if (!prefix) w.add_bool("tokenizer.ggml.add_space_prefix", false);
}

}  // namespace

json gguf_vocab_tokenizer_json(const formats::GgufFile& f, std::int64_t rows) {
  // JSON holds text: a token or merge that is not UTF-8 would make the tokenizer.json unwritable
  // (nlohmann's dump throws; found by fuzz_gguf_llama, fuzz/corpus/gguf_llama/regress-*).
  for (const std::string key : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"}) {
    if (!f.find(key)) continue;
    const auto& strings = f.get_string_array(key);
    for (std::size_t i = 0; i < strings.size(); ++i)
      if (const std::size_t at = invalid_strict_utf8_offset(strings[i]); at != std::string::npos)
        fail(f.name, "metadata key '" + key + "': entry " + std::to_string(i) + " is not valid UTF-8 (byte " +
                         std::to_string(at) + ")");
  }
  const std::string& model = f.get_string("tokenizer.ggml.model");
  if (model == "llama") return sp_tokenizer_json(f, rows);
  if (model != "gpt2")
    fail(f.name, "metadata key 'tokenizer.ggml.model' is '" + model +
                     "': only byte-level BPE ('gpt2') and SentencePiece ('llama') vocabularies are read");
  const auto& tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (std::int64_t(tokens.size()) > rows)
    fail(f.name, "metadata key 'tokenizer.ggml.tokens': " + std::to_string(tokens.size()) + " tokens for " +
                     std::to_string(rows) + " embedding rows");
  std::vector<std::int64_t> types(tokens.size(), kGgufTokenNormal);
  if (f.find("tokenizer.ggml.token_type")) {
    types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      fail(f.name, "metadata key 'tokenizer.ggml.token_type': " + std::to_string(types.size()) + " entries for " +
                       std::to_string(tokens.size()) + " tokens");
  }
  std::size_t n = tokens.size();
  while (n > 0 && types[n - 1] == kGgufTokenUnused) --n;  // padding rows are model rows, not tokens
  json vocab = json::object(), added = json::array();
  for (std::size_t id = 0; id < n; ++id) {
    if (types[id] == kGgufTokenControl || types[id] == kGgufTokenUserDefined || types[id] == kGgufTokenUnused)
      added.push_back({{"id", id}, {"content", tokens[id]}, {"special", true}, {"normalized", false}});
    else
      vocab[tokens[id]] = id;
  }
  json merges = f.find("tokenizer.ggml.merges") ? json(f.get_string_array("tokenizer.ggml.merges")) : json::array();
  const std::string pre = f.find("tokenizer.ggml.pre") ? f.get_string("tokenizer.ggml.pre") : "default";
  json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  json pre_tokenizer, normalizer = nullptr;
  bool ignore_merges = false;
  auto split_then_byte_level = [&](const char* regex) {
    json split = {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
    byte_level["use_regex"] = false;
    return json{{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}};
  };
  if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
    pre_tokenizer = byte_level;
  } else if (pre == "llama-bpe" || pre == "llama3") {
    pre_tokenizer = split_then_byte_level(kLlama3Regex);
    ignore_merges = true;  // as llama.cpp's llama-bpe vocabulary (and Llama 3's tokenizer.json)
  } else if (pre == "qwen2") {
    pre_tokenizer = split_then_byte_level(kQwen2Regex);
    normalizer = {{"type", "NFC"}};  // Qwen2's tokenizer.json normalises; its merges are all used
  } else {
    fail(f.name, "metadata key 'tokenizer.ggml.pre' is '" + pre + "': its pre-tokenizer is not known to this reader");
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", normalizer},
          {"pre_tokenizer", pre_tokenizer},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"ignore_merges", ignore_merges},
            {"vocab", vocab}, {"merges", merges}}}};
}

void add_gguf_vocab(formats::GgufWriter& w, const std::string& tokenizer_dir, std::int64_t rows, std::int64_t bos,
                    std::int64_t eos, const std::string& path) {
  if (tokenizer_dir.empty()) fail(path, "a GGUF file carries its vocabulary: the model's tokenizer directory is needed");
  const text::Tokenizer tok = text::Tokenizer::load(tokenizer_dir);
  const std::int64_t V = rows;
  if (std::int64_t(tok.vocab_size()) > V)
    fail(path, "the tokenizer has " + std::to_string(tok.vocab_size()) + " tokens but the model only " +
                   std::to_string(V) + " rows: wrong tokenizer?");

  // The vocabulary: tokenizer.json where the directory has one (its added tokens are control
  // tokens), else GPT-2's files (the end-of-text token is the control token).
  const std::string tj_path = tokenizer_dir + "/tokenizer.json";
  const bool has_json = !file_exists(tokenizer_dir + "/encoder.json") && file_exists(tj_path);
  std::string pre = "gpt-2";
  std::vector<std::int32_t> types(std::size_t(V), kGgufTokenNormal);
  if (has_json) {
    const json tj = load_json(tj_path);
    const json& m = tj.value("model", json::object());
    if (m.is_object() && m.value("byte_fallback", false)) return add_sp_vocab(w, tj, tok, V, bos, eos, tj_path);
    pre = gguf_pre_of(tj, tj_path);
    for (const auto& a : tj.value("added_tokens", json::array()))
      if (a.value("id", -1) >= 0 && a.value("id", -1) < V) types[std::size_t(a["id"].get<std::int64_t>())] = kGgufTokenControl;
  } else {
    types[std::size_t(tok.eot())] = kGgufTokenControl;
  }
  std::vector<std::string> tokens;
  for (std::int64_t id = 0; id < V; ++id) {
    if (id < std::int64_t(tok.vocab_size())) {
      tokens.push_back(tok.token_string(text::TokenId(id)));
    } else {
      tokens.push_back("[PAD" + std::to_string(id) + "]");  // rows past the vocabulary, as the converter pads
      types[std::size_t(id)] = kGgufTokenUnused;
    }
  }
  std::vector<std::string> merges;
  for (const auto& [a, b] : tok.merges()) merges.push_back(a + " " + b);

  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", pre);
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merges);
  w.add_u32("tokenizer.ggml.bos_token_id", std::uint32_t(bos >= 0 ? bos : tok.eot()));
  w.add_u32("tokenizer.ggml.eos_token_id", std::uint32_t(eos >= 0 ? eos : tok.eot()));
}

}  // namespace structlm::interop
