// Hugging Face tokenizer.json, the SentencePiece kind (BPE with byte fallback: Llama 2,
// TinyLlama, Mistral v0.1) and the NFC normaliser (Qwen2):
//  - against an independent Python reference (scripts/reference/sp_bpe_ref.py, stdlib only),
//    which learns tiny vocabularies from Brown text and encodes adversarial text with them, in
//    each way a file can say it (Prepend/Replace normaliser; Metaspace first/always/never, split
//    or not; merges as strings or pairs);
//  - on cases worked by hand below;
//  - NFC against Python's unicodedata;
//  - every variant this reader does not implement refused by field.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "text/byte_alphabet.h"
#include "text/text_test_support.h"
#include "text/tokenizer.h"

namespace structlm::text {
namespace {

using test_util::error_of;
using Ids = std::vector<TokenId>;

const char* kPython = "/usr/bin/python3";  // Debian's; `python3` on PATH may be another
const std::string kSp = "\u2581";          // SentencePiece's space

// Adversarial text: accents, CJK and emoji (not in the learnt vocabularies: byte fallback),
// whitespace runs, leading and trailing spaces, tabs and newlines, digits, contractions, a
// literal U+2581, text made only of spaces, and the empty text.
std::vector<std::string> adversarial_texts() {
  return {"Hello world",
          "The jury said it didn't like the city's plan; they'll see, won't they?",
          "  leading spaces",
          "trailing spaces   ",
          "   ",
          " ",
          "",
          "a",
          "multiple     spaces\tand\ttabs\n\nand newlines\r\n",
          "\n\nstarts with newlines",
          "naïve café résumé Ångström façade",
          "東京タワー 2024年 の 日本語",
          "emoji 🙂🙂 ok 👍🏽 🇫🇷",
          "digits 0123456789 3.14159 1,000,000 -42 +7e10",
          "I'M here, they'LL see 12345 apples!",
          "a\u2581b \u2581 literal U+2581",
          "mixed: Ünïcödé + ASCII + 中文 + Ελληνικά + русский + עברית",
          "x=1+2;\r\ny==3 && z != 4 || w <= 5",
          "<s> and </s> are text here"};
}

// A Brown text of about `n` bytes, whitespace runs and all.
std::string brown_sample(std::size_t n, int file) {
  std::string s = testing::brown_texts(std::size_t(file + 1)).at(std::size_t(file));
  return s.substr(0, std::min(n, s.size()));
}

json run_reference(const std::vector<std::string>& args) {
  std::vector<std::string> argv{kPython, testing::source_path("scripts/reference/sp_bpe_ref.py")};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  if (r.exit_code != 0) throw Error("sp_bpe_ref.py failed: " + r.err + r.out);
  return nullptr;
}

struct Variant {
  std::string name;
  std::vector<std::string> learn_args;
};

TEST(SpTokenizerJson, EncodesAsTheReferenceOnLearntVocabulariesAndAdversarialText) {
  testing::ScratchDir dir;
  // The learning text: Brown plus a few accented words (so some accented characters are in the
  // vocabulary and others, seen once, are not: min-char-count 2).
  const std::string train = brown_sample(60000, 0) + "\ncafé café naïve naïve résumé déjà vu\n";
  write_file_atomic(dir / "train.txt", train);
  std::vector<std::string> texts = adversarial_texts();
  for (int f = 1; f <= 2; ++f) texts.push_back(brown_sample(3000, f));  // unseen Brown text
  texts.push_back(train.substr(0, 2000));
  write_file_atomic(dir / "texts.json", json(texts).dump());

  const std::vector<Variant> variants = {
      {"legacy", {"--style", "legacy"}},
      {"legacy_pairs", {"--style", "legacy", "--pairs", "--merges", "60"}},
      {"metaspace_first", {"--style", "metaspace", "--prepend-scheme", "first"}},
      {"metaspace_first_split", {"--style", "metaspace", "--prepend-scheme", "first", "--split"}},
      {"metaspace_always_split", {"--style", "metaspace", "--prepend-scheme", "always", "--split"}},
      {"metaspace_never", {"--style", "metaspace", "--prepend-scheme", "never"}},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    const std::string tok_dir = dir / v.name;
    make_dirs(tok_dir);
    std::vector<std::string> learn{"learn", "--text", dir / "train.txt", "--out", tok_dir + "/tokenizer.json"};
    if (std::find(v.learn_args.begin(), v.learn_args.end(), "--merges") == v.learn_args.end())
      learn.insert(learn.end(), {"--merges", "300"});
    learn.insert(learn.end(), v.learn_args.begin(), v.learn_args.end());
    run_reference(learn);
    run_reference({"encode", "--tokenizer", tok_dir + "/tokenizer.json", "--texts", dir / "texts.json", "--out",
                   tok_dir + "/expected.json"});
    const json expected = load_json(tok_dir + "/expected.json");
    ASSERT_EQ(expected.size(), texts.size());

    const Tokenizer tok = Tokenizer::load(tok_dir);  // a directory with a tokenizer.json
    EXPECT_EQ(tok.eot(), 2u);                         // </s>
    EXPECT_FALSE(tok.lossless());
    const bool legacy = v.name.rfind("legacy", 0) == 0;
    std::size_t fallbacks = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const std::string& t = texts[i];
      const Ids ids = tok.encode(t);
      ASSERT_EQ(ids, expected[i]["ids"].get<Ids>()) << "text " << i << ": " << t.substr(0, 80);
      EXPECT_EQ(tok.decode(ids), expected[i]["decoded"].get<std::string>()) << t.substr(0, 80);
      for (TokenId id : ids) fallbacks += id >= 3 && id < 259;
      // Token bytes: the text with the prepended space (legacy: always, the text being non-empty).
      std::string joined;
      for (TokenId id : ids) joined += tok.token_bytes(id);
      if (legacy && t.find(kSp) == std::string::npos) EXPECT_EQ(joined, t.empty() ? "" : " " + t);
      if (legacy && t.find(kSp) == std::string::npos) EXPECT_EQ(tok.decode(ids), t);  // lossless here
    }
    EXPECT_GT(fallbacks, 50u);  // CJK and emoji went through byte fallback
  }
}

// A hand-made vocabulary: <unk> <s> </s>, <0x00>..<0xFF> at 3..258, then these pieces.
json hand_vocab_file(const json& normalizer, const json& pre_tokenizer, const std::vector<std::string>& merges) {
  json vocab = json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  const std::vector<std::string> pieces = {kSp, "a", "b", "c", kSp + "a", "ab", "aba", "bc", kSp + kSp, "é"};
  for (std::size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = 259 + i;
  json added = json::array();
  for (int i = 0; i < 3; ++i)
    added.push_back({{"id", i}, {"content", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>"}, {"special", true}});
  return {{"added_tokens", added},
          {"normalizer", normalizer},
          {"pre_tokenizer", pre_tokenizer},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             {{{"type", "Replace"}, {"pattern", {{"String", kSp}}}, {"content", " "}},
              {{"type", "ByteFallback"}},
              {{"type", "Fuse"}},
              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"vocab", vocab},
            {"merges", merges}}}};
}

const json kLegacyNormalizer = {{"type", "Sequence"},
                                {"normalizers",
                                 {{{"type", "Prepend"}, {"prepend", kSp}},
                                  {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSp}}}}};

json metaspace(const char* scheme, bool split) {
  return {{"type", "Metaspace"}, {"replacement", kSp}, {"prepend_scheme", scheme}, {"split", split}};
}

// Ids of the hand vocabulary: ▁ 259, a 260, b 261, c 262, ▁a 263, ab 264, aba 265, bc 266,
// ▁▁ 267, é 268; byte b is 3 + b.
TEST(SpTokenizerJson, HandWorkedCases) {
  testing::ScratchDir dir;
  auto load = [&](const json& j, const std::string& name) {
    write_file_atomic(dir / name, j.dump());
    return Tokenizer::load_hf(dir / name);
  };
  // Merge ranks: 0 "a b", 1 "ab a", 2 "▁ a", 3 "b c", 4 "▁ ▁".
  const std::vector<std::string> merges = {"a b", "ab a", kSp + " a", "b c", kSp + " " + kSp};
  const Tokenizer never = load(hand_vocab_file(nullptr, metaspace("never", false), merges), "never.json");
  const Tokenizer legacy = load(hand_vocab_file(kLegacyNormalizer, nullptr, merges), "legacy.json");
  const Tokenizer first = load(hand_vocab_file(nullptr, metaspace("first", false), merges), "first.json");
  const Tokenizer split = load(hand_vocab_file(nullptr, metaspace("always", true), merges), "split.json");
  EXPECT_EQ(never.vocab_size(), 269u);
  EXPECT_EQ(never.eot(), 2u);

  // "abab", nothing prepended: symbols a b a b. Pairs (a,b)@0 rank 0, (b,a)@1 none, (a,b)@2
  // rank 0. The lowest is (a,b)@0: ab a b; that makes (ab,a)@0, rank 1, which waits behind
  // (a,b)@2 (rank 0): ab ab. The queued (ab,a)@0 is stale now ((ab,ab) has no merge): done.
  EXPECT_EQ(never.encode("abab"), (Ids{264, 264}));
  // "abac": a b a c. (a,b)@0 rank 0: ab a c. Now (ab,a)@0 rank 1 is the only pair with a merge
  // ((a,c): none): aba c. GPT-2's bpe() would get the same here; the difference shows below.
  EXPECT_EQ(never.encode("abac"), (Ids{265, 262}));
  // "abcab": a b c a b. (a,b)@0 r0, (b,c)@1 r3, (a,b)@3 r0. (a,b)@0: ab c a b, (ab,c) none.
  // (a,b)@3: ab c ab. (b,c)@1 is stale (b was merged away). Result ab c ab.
  EXPECT_EQ(never.encode("abcab"), (Ids{264, 262, 264}));
  // "bcab": b c a b. (b,c)@0 r3, (c,a) none, (a,b)@2 r0. (a,b)@2 first: b c ab; then (b,c)@0:
  // bc ab.
  EXPECT_EQ(never.encode("bcab"), (Ids{266, 264}));
  // Byte fallback: é is a piece (268); è (C3 A8) is not: <0xC3> <0xA8> = 3+195, 3+168. 🙂 is
  // F0 9F 99 82; a newline is <0x0A> = 13; a space with no Metaspace or normaliser around it
  // is a character like any other, not in the vocabulary: <0x20> = 35.
  EXPECT_EQ(never.encode("éè"), (Ids{268, 198, 171}));
  EXPECT_EQ(never.encode("🙂\n"), (Ids{3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82, 13}));
  // Metaspace "never" still turns spaces into ▁: "a b" -> a ▁ b; no merge applies ((▁,b): none).
  EXPECT_EQ(never.encode("a b"), (Ids{260, 259, 261}));
  EXPECT_EQ(never.decode({260, 259, 261}), "a b");

  // Legacy normaliser: "a" -> "▁a" -> (▁,a) rank 2 -> ▁a (263). Decoding "▁a" gives " a",
  // whose leading space the Strip removes.
  EXPECT_EQ(legacy.encode("a"), (Ids{263}));
  EXPECT_EQ(legacy.decode({263}), "a");
  EXPECT_EQ(legacy.token_bytes(263), " a");  // the prepended space counts as a byte
  // " a" -> "▁▁a": ▁ ▁ a; pairs (▁,▁)@0 rank 4, (▁,a)@1 rank 2: ▁ ▁a. Decoded "  a", stripped
  // once: " a", the text again.
  EXPECT_EQ(legacy.encode(" a"), (Ids{259, 263}));
  EXPECT_EQ(legacy.decode(legacy.encode(" a")), " a");
  // "  " -> "▁▁▁": (▁,▁)@0 and @1, both rank 4; @0 first: ▁▁ ▁, and (▁▁,▁) has no merge.
  EXPECT_EQ(legacy.encode("  "), (Ids{267, 259}));
  EXPECT_EQ(legacy.encode(""), Ids{});
  // A byte token decodes to its byte; the special tokens to their own text.
  EXPECT_EQ(legacy.decode({263, 3 + 0xC3, 3 + 0xA8}), "aè");
  EXPECT_EQ(legacy.decode({1, 263}), "<s> a");  // as tokenizers: the Strip sees "<" first

  // Metaspace "first", no split: "a" -> "▁a" as above; " a" -> "▁a" too (the text starts with
  // ▁ after the replacement: nothing prepended), so decoding loses that leading space, exactly
  // as tokenizers does.
  EXPECT_EQ(first.encode("a"), (Ids{263}));
  EXPECT_EQ(first.encode(" a"), (Ids{263}));
  EXPECT_EQ(first.decode(first.encode(" a")), "a");
  // "ab ab": "▁ab▁ab": ▁ a b ▁ a b. Lowest: (a,b)@1 r0 and (a,b)@4 r0, then the (▁,a) pairs
  // are gone ((▁,ab): no merge): ▁ ab ▁ ab.
  EXPECT_EQ(first.encode("ab ab"), (Ids{259, 264, 259, 264}));

  // Split: "a ab" -> "▁a▁ab" -> pieces "▁a", "▁ab": ▁a | ▁ ab (the ▁ of "▁ab" cannot reach
  // across: within the piece, (a,b) r0 beats (▁,a) r2, and (▁,ab) has no merge).
  EXPECT_EQ(split.encode("a ab"), (Ids{263, 259, 264}));
  // "a  a" -> "▁a▁▁a" -> pieces "▁a", "▁", "▁a": ▁a ▁ ▁a. (In one piece: (▁,a)@0 r2, (a,▁)
  // none, (▁,▁)@2 r4, (▁,a)@3 r2; the two r2 first: ▁a ▁ ▁a, and (▁,▁) is stale: the same.)
  EXPECT_EQ(split.encode("a  a"), (Ids{263, 259, 263}));
  // "always" prepends only when the text does not start with ▁: "  a" -> "▁▁a" -> pieces "▁",
  // "▁a"; " a" -> "▁a", one piece.
  EXPECT_EQ(split.encode("  a"), (Ids{259, 263}));
  EXPECT_EQ(split.encode(" a"), (Ids{263}));
  EXPECT_EQ(first.encode(" ab"), (Ids{259, 264}));
}

// The merge loop is tokenizers': the lowest-ranked pair each time, where GPT-2's bpe() merges
// every occurrence of a pair before it looks at the pairs those merges made.
TEST(SpTokenizerJson, AMergeMadeMidwayCompetesAtOnce) {
  testing::ScratchDir dir;
  // Ranks: 0 "ab a", 1 "a b". "abab": a b a b; (a,b)@0 and (a,b)@2, rank 1. (a,b)@0: ab a b;
  // the new pair (ab,a)@0 has rank 0 and is merged before (a,b)@2: aba b, and (a,b)@2 is
  // stale (its a is gone). GPT-2 would merge both (a,b) first: ab ab.
  const std::vector<std::string> merges = {"ab a", "a b"};
  write_file_atomic(dir / "t.json", hand_vocab_file(nullptr, metaspace("never", false), merges).dump());
  const Tokenizer t = Tokenizer::load_hf(dir / "t.json");
  EXPECT_EQ(t.encode("abab"), (Ids{265, 261}));
  EXPECT_EQ(t.encode("ababab"), (Ids{265, 261, 264}))
      << "a b a b a b: (a,b)@0 -> ab a b a b; (ab,a)@0 r0 -> aba b a b; (a,b)@4 r1 -> aba b ab";
}

json byte_level_with(const json& normalizer) {
  json vocab = json::object();
  const auto& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b) vocab[alphabet.utf8[b]] = b;
  vocab["Ã©"] = 256;  // é as byte-alphabet string (C3 A9)
  return {{"added_tokens", {{{"id", 257}, {"content", "<|endoftext|>"}, {"special", true}}}},
          {"normalizer", normalizer},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"Ã ©"}}}}};
}

TEST(SpTokenizerJson, NfcNormaliserMatchesPythonsUnicodedata) {
  testing::ScratchDir dir;
  write_file_atomic(dir / "nfc.json", byte_level_with({{"type", "NFC"}}).dump());
  write_file_atomic(dir / "plain.json", byte_level_with(nullptr).dump());
  const Tokenizer nfc = Tokenizer::load_hf(dir / "nfc.json"), plain = Tokenizer::load_hf(dir / "plain.json");
  EXPECT_FALSE(nfc.lossless());
  EXPECT_TRUE(plain.lossless());
  // By hand: "e" + U+0301 (combining acute) is "é" (C3 A9) in NFC, one merge: token 256.
  EXPECT_EQ(nfc.encode("e\u0301"), (Ids{256}));
  EXPECT_EQ(plain.encode("e\u0301").size(), 3u);  // e, CC, 81: no merge without NFC
  EXPECT_EQ(nfc.decode(nfc.encode("e\u0301")), "é");
  // Invalid UTF-8 is kept byte for byte; the valid runs around it are normalised.
  EXPECT_EQ(nfc.decode(nfc.encode("\xff" "e\u0301\xc3")), "\xff" "é\xc3");

  std::vector<std::string> texts = adversarial_texts();
  for (const char* t : {"e\u0301 a\u0308 \u212b \u1100\u1161\u11a8 \u00c5 A\u030a",  // decomposed, Ångström sign, jamo
                        "\u1e9b\u0323 q\u0307\u0323 \u0344 \u0958 \ufb2c",             // reordering, exclusions
                        "\uac00\u11a8 \u0041\u0301\u0300"})
    texts.push_back(t);
  write_file_atomic(dir / "texts.json", json(texts).dump());
  const ProcessResult r = run_process(
      {kPython, "-c",
       "import json,sys,unicodedata; t=json.load(open(sys.argv[1],encoding='utf-8')); "
       "json.dump([unicodedata.normalize('NFC',x) for x in t],open(sys.argv[2],'w',encoding='utf-8'))",
       dir / "texts.json", dir / "nfc_texts.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json normalized = load_json(dir / "nfc_texts.json");
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string want = normalized[i].get<std::string>();
    EXPECT_EQ(nfc.encode(texts[i]), plain.encode(want)) << texts[i];
    EXPECT_EQ(nfc.decode(nfc.encode(texts[i])), want) << texts[i];
  }
}

TEST(SpTokenizerJson, WhatThisReaderDoesNotImplementIsRefusedByField) {
  testing::ScratchDir dir;
  auto error_for = [&](const json& j) {
    write_file_atomic(dir / "t.json", j.dump());
    return error_of([&] { Tokenizer::load_hf(dir / "t.json"); });
  };
  const std::vector<std::string> merges = {"a b"};
  const json base = hand_vocab_file(kLegacyNormalizer, nullptr, merges);
  json j = base;
  j["normalizer"]["normalizers"][1]["pattern"] = {{"Regex", " +"}};
  EXPECT_NE(error_for(j).find("'normalizer.normalizers[1].pattern' must be {\"String\""), std::string::npos) << error_for(j);
  j = base;
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_NE(error_for(j).find("'normalizer.type' is 'Lowercase'"), std::string::npos) << error_for(j);
  j = base;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}};
  EXPECT_NE(error_for(j).find("'pre_tokenizer.type' is 'ByteLevel'"), std::string::npos) << error_for(j);
  j = base;
  j["pre_tokenizer"] = metaspace("sometimes", false);
  EXPECT_NE(error_for(j).find("'pre_tokenizer.prepend_scheme' is \"sometimes\""), std::string::npos) << error_for(j);
  j = base;
  j["pre_tokenizer"] = metaspace("first", false);
  j["pre_tokenizer"]["replacement"] = "__";
  EXPECT_NE(error_for(j).find("'pre_tokenizer.replacement' must be one character"), std::string::npos) << error_for(j);
  j = base;
  j["decoder"] = {{"type", "Metaspace"}, {"replacement", kSp}};
  EXPECT_NE(error_for(j).find("field 'decoder' must be a Sequence"), std::string::npos) << error_for(j);
  j = base;
  std::swap(j["decoder"]["decoders"][0], j["decoder"]["decoders"][1]);  // ByteFallback before Replace
  EXPECT_NE(error_for(j).find("'decoder.decoders[1].type' is 'Replace'"), std::string::npos) << error_for(j);
  j = base;
  j["decoder"]["decoders"][3]["stop"] = 1;
  EXPECT_NE(error_for(j).find("'decoder.decoders[3].stop' is 1"), std::string::npos) << error_for(j);
  j = base;
  j["decoder"]["decoders"].erase(1);
  EXPECT_NE(error_for(j).find("decoders[1].type' is 'Fuse'"), std::string::npos) << error_for(j);
  j = base;
  j["model"]["vocab"].erase("<0x41>");
  j["model"]["vocab"]["A"] = 3 + 0x41;
  EXPECT_NE(error_for(j).find("no byte-fallback token <0x41> in model.vocab"), std::string::npos) << error_for(j);
  j = base;
  j["model"]["byte_fallback"] = "yes";
  EXPECT_NE(error_for(j).find("'model.byte_fallback' must be true or false"), std::string::npos) << error_for(j);
  j = base;
  j["model"]["merges"].push_back("a zz");
  EXPECT_NE(error_for(j).find("model.merges[1]: unknown token \"zz\""), std::string::npos) << error_for(j);
  j = base;
  j["model"]["vocab"].erase("</s>");
  j["model"]["vocab"]["<pad>"] = 2;
  j["added_tokens"].erase(2);
  EXPECT_NE(error_for(j).find("no document separator"), std::string::npos) << error_for(j);
  // The byte-level kind takes NFC, not the SentencePiece normalisers, nor other forms.
  j = byte_level_with(kLegacyNormalizer);
  EXPECT_NE(error_for(j).find("'normalizer.normalizers[0].type' is 'Prepend'"), std::string::npos) << error_for(j);
  j = byte_level_with({{"type", "NFKC"}});
  EXPECT_NE(error_for(j).find("'normalizer.type' is 'NFKC'"), std::string::npos) << error_for(j);
  j = byte_level_with(nullptr);
  j["pre_tokenizer"] = metaspace("first", false);
  EXPECT_NE(error_for(j).find("Metaspace only with model.byte_fallback"), std::string::npos) << error_for(j);
  // A tokenizer.json of either new kind is not written back as GPT-2's files.
  write_file_atomic(dir / "ok.json", base.dump());
  EXPECT_NE(error_of([&] { Tokenizer::load_hf(dir / "ok.json").save(dir / "saved"); }).find("tokenizer.json"),
            std::string::npos);
}

}  // namespace
}  // namespace structlm::text
