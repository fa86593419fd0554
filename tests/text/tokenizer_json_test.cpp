// Hugging Face tokenizer.json (byte-level BPE; the SentencePiece kind and NFC are in
// sp_tokenizer_json_test.cpp): GPT-2's own files rewritten in that format encode
// exactly as GPT-2's loader does; Llama 3's pre-tokenizer regex cuts text as Python's `regex`
// module does (the pieces below were produced with it); ignore_merges, special tokens, and every
// setting this reader does not implement refused by name.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "text/byte_alphabet.h"
#include "text/gpt2_pretokenize.h"
#include "text/text_test_support.h"
#include "text/tokenizer.h"

namespace structlm::text {
namespace {

using test_util::error_of;

// Llama 3's pattern, as its tokenizer.json holds it.
const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json gpt2_as_tokenizer_json(bool merges_as_pairs) {
  const json encoder = load_json(testing::gpt2_dir() + "/encoder.json");
  json merges = json::array();
  for (const auto& line : read_lines(testing::gpt2_dir() + "/vocab.bpe")) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    if (merges_as_pairs)
      merges.push_back({line.substr(0, space), line.substr(space + 1)});
    else
      merges.push_back(line);
  }
  return {{"version", "1.0"},
          {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"byte_fallback", false},
                     {"vocab", encoder}, {"merges", merges}}}};
}

std::vector<std::string> pieces(const std::string& text, const detail::Pattern* p) {
  std::vector<std::string> out;
  detail::PreTokenizer pre(text, p);
  std::string_view piece;
  while (pre.next(piece)) out.emplace_back(piece);
  return out;
}

TEST(TokenizerJson, Gpt2InTokenizerJsonEncodesAsGpt2sOwnFiles) {
  testing::ScratchDir dir;
  std::vector<std::string> texts;
  for (const auto& t : load_json(testing::source_path("tests/text/gpt2_vectors_texts.json"))) texts.push_back(t);
  for (const auto& t : testing::brown_texts(3)) texts.push_back(t);
  for (bool pairs : {false, true}) {
    write_file_atomic(dir / "tokenizer.json", gpt2_as_tokenizer_json(pairs).dump());
    const Tokenizer hf = Tokenizer::load(dir.path());  // no encoder.json there: tokenizer.json
    ASSERT_EQ(hf.vocab_size(), 50257u);
    EXPECT_EQ(hf.eot(), 50256u);
    for (const auto& t : texts) {
      const auto ids = hf.encode(t);
      ASSERT_EQ(ids, testing::gpt2().encode(t)) << t.substr(0, 80);
      EXPECT_EQ(hf.decode(ids), t);
    }
  }
}

TEST(TokenizerJson, Llama3RegexCutsTextAsPythonsRegexModuleDoes) {
  const detail::Pattern* p = detail::Pattern::get(kLlama3Regex);
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world", p), (V{"Hello", " world"}));
  // Contractions in any case, digits in threes, a lone space before digits.
  EXPECT_EQ(pieces("I'M here, they'LL see 12345 apples!", p),
            (V{"I", "'M", " here", ",", " they", "'LL", " see", " ", "123", "45", " apples", "!"}));
  EXPECT_EQ(pieces("  leading\n\n  spaces\t\ttabs  ", p),
            (V{" ", " leading", "\n\n", " ", " spaces", "\t", "\ttabs", "  "}));
  EXPECT_EQ(pieces("naïve café 東京タワー 2024年", p), (V{"naïve", " café", " 東京タワー", " ", "202", "4", "年"}));
  EXPECT_EQ(pieces("x=1+2;\r\ny==3", p), (V{"x", "=", "1", "+", "2", ";\r\n", "y", "==", "3"}));
  EXPECT_EQ(pieces("emoji 🙂🙂 ok", p), (V{"emoji", " 🙂🙂", " ok"}));
  // GPT-2's own regex differs on the same text (digits unbounded, case-sensitive contractions).
  EXPECT_EQ(pieces("they'LL 12345", nullptr), (V{"they", "'", "LL", " 12345"}));
}

// A Llama-3-shaped file: bytes, merges "a b" and "b c", a vocabulary entry "abc" no merge makes,
// ignore_merges on, and specials after the vocabulary.
json tiny_llama3(bool ignore_merges) {
  json vocab = json::object();
  const auto& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b) vocab[alphabet.utf8[b]] = b;
  vocab["ab"] = 256;
  vocab["bc"] = 257;
  vocab["abc"] = 258;
  return {{"added_tokens",
           {{{"id", 259}, {"content", "<|begin_of_text|>"}, {"special", true}},
            {{"id", 260}, {"content", "<|end_of_text|>"}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", kLlama3Regex}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
          {"model", {{"type", "BPE"}, {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", {"a b", "b c"}}}}};
}

TEST(TokenizerJson, IgnoreMergesSpecialTokensAndTheDocumentSeparator) {
  testing::ScratchDir dir;
  write_file_atomic(dir / "on.json", tiny_llama3(true).dump());
  write_file_atomic(dir / "off.json", tiny_llama3(false).dump());
  const Tokenizer on = Tokenizer::load_hf(dir / "on.json"), off = Tokenizer::load_hf(dir / "off.json");
  EXPECT_EQ(on.vocab_size(), 261u);
  EXPECT_EQ(on.eot(), 259u);  // <|begin_of_text|>: Llama 3 starts each document with it
  // "abc" is a vocabulary entry: with ignore_merges the piece is that token; without, BPE
  // merges "a b" first and "ab c" is no merge.
  EXPECT_EQ(on.encode("abc"), (std::vector<TokenId>{258}));
  EXPECT_EQ(off.encode("abc"), (std::vector<TokenId>{256, 'c'}));
  EXPECT_EQ(on.encode("abcd"), (std::vector<TokenId>{256, 'c', 'd'}));  // not in the vocabulary: BPE
  // Special tokens in text are text; their ids decode to their own text.
  EXPECT_EQ(on.encode("<|end_of_text|>").size(), 15u);  // byte by byte: no merge applies
  EXPECT_EQ(on.decode({259, 256, 'c'}), "<|begin_of_text|>abc");
  // A tokenizer from tokenizer.json is not written back as GPT-2's files.
  EXPECT_NE(error_of([&] { on.save(dir / "saved"); }).find("tokenizer.json"), std::string::npos);
}

TEST(TokenizerJson, WhatThisReaderDoesNotImplementIsRefusedByField) {
  testing::ScratchDir dir;
  auto error_for = [&](const json& j) {
    write_file_atomic(dir / "t.json", j.dump());
    return error_of([&] { Tokenizer::load_hf(dir / "t.json"); });
  };
  json j = tiny_llama3(true);
  j["normalizer"] = {{"type", "NFKC"}};  // NFC is read (sp_tokenizer_json_test.cpp); nothing else
  EXPECT_NE(error_for(j).find("'normalizer.type' is 'NFKC'"), std::string::npos) << error_for(j);
  j = tiny_llama3(true);
  j["model"]["byte_fallback"] = true;  // the SentencePiece kind, which takes no ByteLevel
  EXPECT_NE(error_for(j).find("'pre_tokenizer.type' is 'Sequence': a SentencePiece-style file"), std::string::npos)
      << error_for(j);
  j = tiny_llama3(true);
  j["model"]["type"] = "Unigram";
  EXPECT_NE(error_for(j).find("'model.type' is Unigram"), std::string::npos);
  j = tiny_llama3(true);
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_NE(error_for(j).find("pretokenizers[0].pattern.Regex"), std::string::npos) << error_for(j);
  j = tiny_llama3(true);
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_NE(error_for(j).find("'pre_tokenizer.type' is 'Metaspace'"), std::string::npos);
  j = tiny_llama3(true);
  j["model"]["merges"].push_back("c zz");
  EXPECT_NE(error_for(j).find("model.merges[2]: unknown token \"zz\""), std::string::npos) << error_for(j);
  j = tiny_llama3(true);
  j["added_tokens"][1]["id"] = 262;  // id 261 left unused
  EXPECT_NE(error_for(j).find("no token has id 260"), std::string::npos) << error_for(j);
  j = tiny_llama3(true);
  j["model"]["vocab"].erase("a");
  j["model"]["vocab"]["aa"] = 97;  // id 97 taken, but byte 97 ("a") has no token
  EXPECT_NE(error_for(j).find("no token for byte 97"), std::string::npos) << error_for(j);
  j = tiny_llama3(true);
  j["added_tokens"] = json::array();
  EXPECT_NE(error_for(j).find("no document separator"), std::string::npos);
  write_file_atomic(dir / "cut.json", tiny_llama3(true).dump().substr(0, 200));
  EXPECT_NE(error_of([&] { Tokenizer::load_hf(dir / "cut.json"); }).find(dir / "cut.json"), std::string::npos);
}

}  // namespace
}  // namespace structlm::text
