// Sentence selection and the link-grammar parse cache (text/link_cache.h): round trip, reuse,
// and errors for malformed cache lines naming the file and the line.
#include <gtest/gtest.h>

#include "core/io.h"
#include "text/link_cache.h"
#include "text_test_support.h"

namespace structlm::text {
namespace {

using test_util::error_of;
using testing::ScratchDir;

void expect_same(const LinkedSentence& a, const LinkedSentence& b) {
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.parsed, b.parsed);
  EXPECT_EQ(a.null_count, b.null_count);
  ASSERT_EQ(a.words.size(), b.words.size());
  for (std::size_t i = 0; i < a.words.size(); ++i) {
    EXPECT_EQ(a.words[i].text, b.words[i].text);
    EXPECT_EQ(a.words[i].begin, b.words[i].begin);
    EXPECT_EQ(a.words[i].end, b.words[i].end);
  }
  ASSERT_EQ(a.links.size(), b.links.size());
  for (std::size_t k = 0; k < a.links.size(); ++k) {
    EXPECT_EQ(a.links[k].left, b.links[k].left);
    EXPECT_EQ(a.links[k].right, b.links[k].right);
    EXPECT_EQ(a.links[k].label, b.links[k].label);
  }
}

TEST(LinkCache, SelectsSentencesByLengthSpreadOverTheDocuments) {
  // Sentences and their word counts: alpha 5, bravo 2 (too short), charlie 6 | delta 5, echo 42
  // (too long) | foxtrot 7, golf 5. (Named by words: "A." would be an initial, which ends no sentence.)
  std::string forty_one;
  for (int i = 0; i < 41; ++i) forty_one += "w ";
  std::vector<std::string> docs = {"One two three four alpha. Short bravo. One two three four five charlie.",
                                   "One two three four delta.\n\n" + forty_one + "echo.",
                                   "One two three four five six foxtrot. One two three four golf."};
  SentenceSelection sel;
  auto all = select_sentences(docs, sel);
  EXPECT_EQ(all, (std::vector<std::string>{"One two three four alpha.", "One two three four five charlie.",
                                           "One two three four delta.", "One two three four five six foxtrot.",
                                           "One two three four golf."}));
  // 5 candidates, 2 wanted: indices floor(0·5/2) = 0 and floor(1·5/2) = 2.
  sel.max_sentences = 2;
  EXPECT_EQ(select_sentences(docs, sel), (std::vector<std::string>{"One two three four alpha.", "One two three four delta."}));
  sel.max_sentences = 5;
  sel.min_words = 6;
  sel.max_words = 6;
  EXPECT_EQ(select_sentences(docs, sel), (std::vector<std::string>{"One two three four five charlie."}));
}

TEST(LinkCache, RoundTripAndReuse) {
  ScratchDir dir;
  const std::vector<std::string> sentences = {"The dog chased a cat in the garden.", "the the the dog dog cat",
                                              "I don't think it's ready, Mr. Smith's dog said."};
  LinkParserOptions opts;
  opts.max_null_count = 0;  // so the second sentence does not parse
  auto parsed = parse_sentences(sentences, dir.path(), opts, false);
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_TRUE(parsed[0].parsed);
  EXPECT_FALSE(parsed[1].parsed);
  const std::string path = link_cache_path(dir.path(), sentences, opts);
  ASSERT_TRUE(file_exists(path));
  EXPECT_EQ(read_lines(path).size(), 3u);
  auto back = read_link_cache(path);
  ASSERT_EQ(back.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) expect_same(parsed[i], back[i]);

  // A second call reads the file rather than parsing: a label changed in the file comes back.
  std::string bytes = read_file(path);
  auto at = bytes.find("\"Ss*s\"");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 6, "\"XYZ\"");
  write_file_atomic(path, bytes);
  auto again = parse_sentences(sentences, dir.path(), opts, false);
  EXPECT_EQ(again[0].links[0].label, "XYZ");

  // Other options or other sentences: another file.
  LinkParserOptions other = opts;
  other.max_null_count = 3;
  EXPECT_NE(link_cache_path(dir.path(), sentences, other), path);
  EXPECT_NE(link_cache_path(dir.path(), {sentences[0]}, opts), path);
  EXPECT_EQ(path.rfind(dir.path() + "/linkgrammar-", 0), 0u);
}

TEST(LinkCache, UnlocatedWordsRoundTripAsNull) {
  ScratchDir dir;
  LinkedSentence s;
  s.text = "We can't.";
  s.parsed = true;
  s.words = {{"We", 0, 2}, {"cannot", -1, -1}, {".", 8, 9}};
  s.links = {{0, 1, "Sp"}};
  write_link_cache(dir / "c.jsonl", {s});
  EXPECT_EQ(read_lines(dir / "c.jsonl")[0],
            R"({"links":[[0,1,"Sp"]],"null_count":0,"parsed":true,"spans":[[0,2],null,[8,9]],)"
            R"("text":"We can't.","words":["We","cannot","."]})");
  expect_same(read_link_cache(dir / "c.jsonl")[0], s);
}

TEST(LinkCache, MalformedLinesAreErrorsNamingFileAndLine) {
  ScratchDir dir;
  const std::string good = R"({"text":"A b.","parsed":true,"null_count":0,"words":["A","b","."],)"
                           R"("spans":[[0,1],[2,3],[3,4]],"links":[[0,1,"Ss"]]})";
  auto error_for = [&](const std::string& second_line) {
    write_file_atomic(dir / "bad.jsonl", good + "\n" + second_line + "\n");
    return error_of([&] { read_link_cache(dir / "bad.jsonl"); });
  };
  const std::string where = dir / "bad.jsonl:2: ";
  EXPECT_EQ(error_for("{not json"), where + "invalid JSON at byte 3 of the line");
  EXPECT_EQ(error_for("[1, 2]"), where + "expected a JSON object, not array");
  EXPECT_EQ(error_for(R"({"parsed":true,"null_count":0,"words":[],"spans":[],"links":[]})"),
            where + "field 'text' is missing");
  EXPECT_EQ(error_for(R"({"text":"x","parsed":1,"null_count":0,"words":[],"spans":[],"links":[]})"),
            where + "field 'parsed' must be true or false, not number");
  EXPECT_EQ(error_for(R"({"text":"A b","parsed":true,"null_count":0,"words":["A","b"],"spans":[[0,1]],"links":[]})"),
            where + "'spans' has 1 entries for 2 words");
  EXPECT_EQ(error_for(R"({"text":"A b","parsed":true,"null_count":0,"words":["A","b"],"spans":[[0,1],[2,9]],"links":[]})"),
            where + "spans[1] must be null or [begin, end] inside the text");
  EXPECT_EQ(error_for(R"({"text":"A b","parsed":true,"null_count":0,"words":["A","b"],"spans":[null,null],"links":[[1,0,"S"]]})"),
            where + "links[0] must be [left, right, label] with 0 <= left < right < 2");
  EXPECT_EQ(error_for(R"({"text":"A b","parsed":true,"null_count":0,"words":["A","b"],"spans":[null,null],"links":[[0,2,"S"]]})"),
            where + "links[0] must be [left, right, label] with 0 <= left < right < 2");
  EXPECT_EQ(error_for(""), where + "empty line (expected one parsed sentence per line)");
}

TEST(LinkCache, ACacheHoldingOtherSentencesIsAnError) {
  ScratchDir dir;
  const std::vector<std::string> sentences = {"The dog chased a cat in the garden."};
  const std::string path = link_cache_path(dir.path(), sentences, {});
  LinkedSentence other;
  other.text = "Something else.";
  write_link_cache(path, {other});
  EXPECT_EQ(error_of([&] { parse_sentences(sentences, dir.path(), {}, false); }),
            path + ":1: field 'text' is not the sentence it should cache");
  write_link_cache(path, {other, other});
  EXPECT_EQ(error_of([&] { parse_sentences(sentences, dir.path(), {}, false); }),
            path + ": holds 2 sentences, expected 1");
  EXPECT_EQ(error_of([&] { parse_sentences({"ok.", "caf\xe9"}, dir.path(), {}, false); }),
            "link-grammar: sentence 1 is not valid UTF-8");
}

}  // namespace
}  // namespace structlm::text
