// Preparing a corpus as a stream (data::ensure_split): the same assignment and the same bytes as
// the in-memory rule, duplicates removed when asked, deterministic, and nothing left behind by a
// malformed or truncated input.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "dedup_docs.h"
#include "data/corpus_internal.h"
#include "data/split.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::edited;
using structlm::test_util::random_doc;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// The tiny-corpus rule as split_corpus wrote it before it streamed (a whole corpus in memory):
// the expected assignment, 0 train, 1 val, 2 test, per document.
std::vector<int> reference_assignment(const std::vector<std::string>& ids, const SplitFractions& f,
                                      unsigned long long seed) {
  const std::size_t n = ids.size();
  const std::array<std::pair<double, double>, 3> range = {{{f.val + f.test, 1.0}, {0.0, f.val}, {f.val, f.val + f.test}}};
  std::vector<double> u(n);
  std::vector<int> where(n);
  std::array<std::size_t, 3> count{};
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = document_draw(seed, ids[i]);
    where[i] = u[i] < f.val ? 1 : u[i] < f.val + f.test ? 2 : 0;
    ++count[where[i]];
  }
  if (n >= 3) {
    for (int s : {1, 2, 0}) {
      if (count[s] > 0 || (s == 1 && f.val <= 0) || (s == 2 && f.test <= 0)) continue;
      std::size_t best = n;
      double best_dist = 2;
      for (std::size_t i = 0; i < n; ++i) {
        if (count[where[i]] < 2) continue;
        double d = u[i] < range[s].first ? range[s].first - u[i] : u[i] - range[s].second;
        if (d < best_dist || (d == best_dist && ids[i] < ids[best])) {
          best = i;
          best_dist = d;
        }
      }
      if (best == n) continue;
      --count[where[best]];
      where[best] = s;
      ++count[s];
    }
  }
  return where;
}

// The files as write_split wrote them before it streamed: each JSONL line dumped whole, and
// split.json dumped from one object holding every id.
std::array<std::string, 4> reference_files(const std::vector<Document>& docs, const std::vector<int>& where,
                                           const std::string& name, const json& meta_in) {
  std::array<std::string, 4> out;  // train, val, test, split.json
  json meta = meta_in;
  meta["format"] = "structlm-split";
  meta["version"] = 1;
  meta["name"] = name;
  const char* names[] = {"train", "val", "test"};
  for (int p = 0; p < 3; ++p) {
    json ids = json::array();
    std::size_t bytes = 0, count = 0;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (where[i] != p) continue;
      json j = {{"id", docs[i].id}, {"text", docs[i].text}};
      out[std::size_t(p)] += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      ids.push_back(docs[i].id);
      bytes += docs[i].text.size();
      ++count;
    }
    meta["docs"][names[p]] = count;
    meta["bytes"][names[p]] = bytes;
    meta["ids"][names[p]] = ids;
  }
  out[3] = meta.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
  return out;
}

std::string jsonl_of(const std::vector<Document>& docs) {
  std::string s;
  for (const auto& d : docs) s += json({{"id", d.id}, {"text", d.text}}).dump() + "\n";
  return s;
}

std::vector<Document> numbered(int n, const std::string& prefix = "doc") {
  std::vector<Document> docs;
  for (int i = 0; i < n; ++i) docs.push_back({prefix + std::to_string(i), "text of " + std::to_string(i) + " \xc3\xa9"});
  return docs;
}

std::array<std::string, 4> files_in(const std::string& dir) {
  return {read_file(dir + "/train.jsonl"), read_file(dir + "/val.jsonl"), read_file(dir + "/test.jsonl"),
          read_file(dir + "/split.json")};
}

std::vector<std::string> ids_of(const std::vector<Document>& docs) {
  std::vector<std::string> ids;
  for (const auto& d : docs) ids.push_back(d.id);
  return ids;
}

bool dir_has_files(const std::string& dir) {
  if (!is_directory(dir)) return false;
  return !std::filesystem::is_empty(dir);
}

}  // namespace

// The assignment, tiny-corpus rule included, equals the in-memory rule's, for the streamed split
// and for split_corpus (both go through SplitAssigner now).
TEST(SplitStream, AssignmentEqualsTheInMemoryRule) {
  for (const SplitFractions f : {SplitFractions{}, SplitFractions{0.2, 0.0}, SplitFractions{0.0, 0.3}, SplitFractions{0.1, 0.05}})
    for (int n : {1, 2, 3, 4, 5, 7, 12, 40, 300})
      for (unsigned long long seed = 0; seed < (n <= 12 ? 20u : 3u); ++seed) {
        const auto docs = numbered(n);
        const auto expect = reference_assignment(ids_of(docs), f, seed);
        const SplitCorpus s = split_corpus({"num", "test", docs}, f, seed);
        std::vector<std::string> want[3];
        for (int i = 0; i < n; ++i) want[expect[std::size_t(i)]].push_back(docs[std::size_t(i)].id);
        EXPECT_EQ(ids_of(s.train), want[0]) << n << " " << seed;
        EXPECT_EQ(ids_of(s.val), want[1]) << n << " " << seed;
        EXPECT_EQ(ids_of(s.test), want[2]) << n << " " << seed;
      }
  // Streamed, on files (fewer cases: each writes a split).
  TempDir tmp;
  int k = 0;
  for (int n : {3, 4, 5, 6, 9, 200})
    for (unsigned long long seed : {0ull, 1ull, 5ull, 1234ull}) {
      const auto docs = numbered(n);
      write_file_atomic(tmp / "c.jsonl", jsonl_of(docs));
      PrepareOptions o;
      o.seed = seed;
      const std::string dir = tmp / ("s" + std::to_string(k++));
      const SplitSummary sum = ensure_split(tmp / "c.jsonl", dir, o);
      const auto expect = reference_assignment(ids_of(docs), o.fractions, seed);
      const SplitCorpus back = load_split(dir);
      std::vector<std::string> want[3];
      for (int i = 0; i < n; ++i) want[expect[std::size_t(i)]].push_back(docs[std::size_t(i)].id);
      EXPECT_EQ(ids_of(back.train), want[0]) << n << " " << seed;
      EXPECT_EQ(ids_of(back.val), want[1]) << n << " " << seed;
      EXPECT_EQ(ids_of(back.test), want[2]) << n << " " << seed;
      EXPECT_EQ(sum.docs[0] + sum.docs[1] + sum.docs[2], std::size_t(n));
      EXPECT_EQ(sum.docs[1], want[1].size());
    }
}

// The files are the bytes the in-memory write gave: a corpus prepared before keeps its files.
TEST(SplitStream, FilesAreByteIdenticalToTheInMemoryWrite) {
  TempDir tmp;
  std::vector<Document> docs = numbered(150);
  docs.push_back({"quote\"and\\slash", "line one\nline two\t\"quoted\" \xe2\x80\x94 and a control \x01 byte"});
  docs.push_back({"empty", ""});
  write_file_atomic(tmp / "corpus.jsonl", jsonl_of(docs));
  const SplitSummary sum = ensure_split(tmp / "corpus.jsonl", tmp / "out");
  const std::string spec = std::filesystem::weakly_canonical(tmp / "corpus.jsonl").string();
  // What the stream read: the JSONL round trip turned the invalid byte into U+FFFD already.
  const Corpus read = load_corpus(tmp / "corpus.jsonl");
  const auto expect = reference_files(
      read.docs, reference_assignment(ids_of(read.docs), {}, 1234), "corpus",
      {{"spec", spec}, {"source", tmp / "corpus.jsonl"}, {"seed", 1234}, {"fractions", {{"val", 0.05}, {"test", 0.05}}}});
  const auto got = files_in(tmp / "out");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[std::size_t(i)], expect[std::size_t(i)]) << i;
  EXPECT_EQ(sum.name, "corpus");
  EXPECT_FALSE(sum.dedup);
  // A split with an empty part: "val": [] as json writes it.
  write_file_atomic(tmp / "two.jsonl", jsonl_of(numbered(2)));
  ensure_split(tmp / "two.jsonl", tmp / "two");
  const Corpus two = load_corpus(tmp / "two.jsonl");
  const auto expect_two = reference_files(
      two.docs, reference_assignment(ids_of(two.docs), {}, 1234), "two",
      {{"spec", std::filesystem::weakly_canonical(tmp / "two.jsonl").string()}, {"source", tmp / "two.jsonl"},
       {"seed", 1234}, {"fractions", {{"val", 0.05}, {"test", 0.05}}}});
  EXPECT_EQ(files_in(tmp / "two")[3], expect_two[3]);
  // write_split (the mix's sources use it) writes the same bytes too.
  const SplitCorpus s = split_corpus(read, {}, 1234);
  write_split(tmp / "ws", s,
              {{"spec", spec}, {"source", tmp / "corpus.jsonl"}, {"seed", 1234}, {"fractions", {{"val", 0.05}, {"test", 0.05}}}});
  const auto ws = files_in(tmp / "ws");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ws[std::size_t(i)], expect[std::size_t(i)]) << i;
  // Invalid UTF-8 (only a packaged reader can hand it over) is replaced by U+FFFD, as before.
  std::vector<Document> odd = numbered(5);
  odd.push_back({"caf\xe9", "na\xefve"});
  const auto where = reference_assignment(ids_of(odd), {}, 1234);
  SplitCorpus os;
  os.name = "odd";
  for (std::size_t i = 0; i < odd.size(); ++i) (where[i] == 0 ? os.train : where[i] == 1 ? os.val : os.test).push_back(odd[i]);
  write_split(tmp / "odd", os, {{"spec", "odd"}});
  const auto expect_odd = reference_files(odd, where, "odd", {{"spec", "odd"}});
  const auto got_odd = files_in(tmp / "odd");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got_odd[std::size_t(i)], expect_odd[std::size_t(i)]) << i;
}

TEST(SplitStream, TextFilesAndDirectoriesStreamTheSameDocuments) {
  TempDir tmp;
  std::string text;
  SplitMix64 rng(3);
  for (int i = 0; i < 400; ++i) {
    text += "Paragraph " + std::to_string(i) + std::string(rng.below(300), 'x') + (i % 7 ? "\n" : "\r\n");
    if (i % 3) text += "second line\n";
    text += std::string(rng.below(3), ' ') + "\n" + (i % 5 ? "" : "\n \t\n");
  }
  write_file_atomic(tmp / "book.txt", text);
  CorpusPaths p;
  p.doc_chars = 900;
  std::vector<Document> expect;
  detail::pack_pieces(detail::split_paragraphs(text), "book", "\n\n", 0, 900, expect);
  const Corpus got = load_corpus(tmp / "book.txt", p);
  ASSERT_EQ(got.docs.size(), expect.size());
  for (std::size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(got.docs[i].id, expect[i].id);
    EXPECT_EQ(got.docs[i].text, expect[i].text);
  }
  std::uint64_t last = 0, total = 0;
  std::size_t n = 0;
  stream_corpus(tmp / "book.txt", p, [&](Document&&) { ++n; }, [&](std::uint64_t done, std::uint64_t all) {
    EXPECT_GE(done, last);
    last = done;
    total = all;
  });
  EXPECT_EQ(n, expect.size());
  EXPECT_EQ(last, text.size());  // progress ends at the file's size
  EXPECT_EQ(total, text.size());
  EXPECT_EQ(corpus_input_bytes(tmp / "book.txt"), text.size());
  // A directory: one document per file, sorted, progress in bytes of all its files.
  write_file_atomic(tmp / "dir/b.txt", "bee\n");
  write_file_atomic(tmp / "dir/sub/a.md", "ay");
  write_file_atomic(tmp / "dir/a.txt", "first");
  std::vector<std::string> ids;
  last = 0;
  stream_corpus(tmp / "dir", {}, [&](Document&& d) { ids.push_back(d.id); }, [&](std::uint64_t done, std::uint64_t all) {
    last = done;
    total = all;
  });
  EXPECT_EQ(ids, (std::vector<std::string>{"a.txt", "b.txt", "sub/a.md"}));
  EXPECT_EQ(last, 11u);
  EXPECT_EQ(total, 11u);
  EXPECT_EQ(corpus_input_bytes(tmp / "dir"), 11u);
  EXPECT_EQ(corpus_input_bytes("brown"), 0u);  // packaged: no progress
}

TEST(SplitStream, DedupRemovesPlantedExactAndNearDuplicates) {
  TempDir tmp;
  std::vector<Document> docs;
  std::set<std::string> planted_exact, planted_near, originals;
  for (int i = 0; i < 300; ++i) {
    docs.push_back({"orig" + std::to_string(i), random_doc(std::uint64_t(i) + 100)});
    originals.insert(docs.back().id);
  }
  for (int i = 0; i < 40; ++i) {  // exact copies, differing in case and whitespace only
    std::string t = docs[std::size_t(i)].text;
    for (auto& c : t) c = char(std::toupper(static_cast<unsigned char>(c)));
    docs.push_back({"exact" + std::to_string(i), "  " + t + "\n\n"});
    planted_exact.insert(docs.back().id);
  }
  for (int i = 40; i < 100; ++i) {  // near copies: one word in 50 edited (Jaccard 0.82 to 0.9)
    docs.push_back({"near" + std::to_string(i), edited(docs[std::size_t(i)].text, 50)});
    planted_near.insert(docs.back().id);
  }
  // Interleave the copies with more originals: a duplicate is found wherever it comes.
  for (int i = 300; i < 340; ++i) docs.push_back({"orig" + std::to_string(i), random_doc(std::uint64_t(i) + 100)}), originals.insert(docs.back().id);
  write_file_atomic(tmp / "dups.jsonl", jsonl_of(docs));

  PrepareOptions o;
  o.dedup = true;
  const SplitSummary s = ensure_split(tmp / "dups.jsonl", tmp / "dedup", o);
  EXPECT_TRUE(s.dedup);
  EXPECT_EQ(s.documents_read, docs.size());
  EXPECT_EQ(s.exact_removed, planted_exact.size());
  EXPECT_GE(s.near_removed, planted_near.size() * 85 / 100);
  EXPECT_LE(s.near_removed, planted_near.size());
  const SplitCorpus back = load_split(tmp / "dedup");
  std::set<std::string> kept;
  for (const auto* part : {&back.train, &back.val, &back.test})
    for (const auto& d : *part) kept.insert(d.id);
  for (const auto& id : originals) EXPECT_TRUE(kept.count(id)) << id << ": the first copy stays";
  for (const auto& id : planted_exact) EXPECT_FALSE(kept.count(id)) << id;
  EXPECT_EQ(kept.size(), docs.size() - s.exact_removed - s.near_removed);
  const json meta = load_json(tmp / "dedup/split.json");
  EXPECT_EQ(meta["dedup"]["exact_removed"].get<std::size_t>(), planted_exact.size());
  // Without dedup, every document is kept, and split.json has no "dedup" (as before).
  const SplitSummary all = ensure_split(tmp / "dups.jsonl", tmp / "all");
  EXPECT_EQ(all.docs[0] + all.docs[1] + all.docs[2], docs.size());
  EXPECT_FALSE(load_json(tmp / "all/split.json").contains("dedup"));
  // The kept documents sit where their ids put them, dedup or not.
  const SplitCorpus full = load_split(tmp / "all");
  std::set<std::string> val_all;
  for (const auto& d : full.val) val_all.insert(d.id);
  for (const auto& d : back.val) EXPECT_TRUE(val_all.count(d.id)) << d.id;
  // Reuse: asking for dedup where a split kept its duplicates is an error; the other way is fine.
  EXPECT_NE(error_of([&] { ensure_split(tmp / "dups.jsonl", tmp / "all", o); }).find("without removing duplicates"),
            std::string::npos);
  EXPECT_EQ(ensure_split(tmp / "dups.jsonl", tmp / "dedup").exact_removed, planted_exact.size());
}

TEST(SplitStream, SameInputGivesByteIdenticalFiles) {
  TempDir tmp;
  std::vector<Document> docs;
  for (int i = 0; i < 500; ++i) docs.push_back({"d" + std::to_string(i), random_doc(std::uint64_t(i) % 450)});  // 50 exact copies
  write_file_atomic(tmp / "c.jsonl", jsonl_of(docs));
  for (bool dedup : {false, true}) {
    PrepareOptions o;
    o.dedup = dedup;
    const std::string a = tmp / (dedup ? "a-dedup" : "a"), b = tmp / (dedup ? "b-dedup" : "b");
    ensure_split(tmp / "c.jsonl", a, o);
    ensure_split(tmp / "c.jsonl", b, o);
    EXPECT_EQ(files_in(a), files_in(b)) << dedup;
  }
  EXPECT_NE(read_file(tmp / "a/train.jsonl"), read_file(tmp / "a-dedup/train.jsonl"));
  // Nothing but the four files stays in the directory: no temporary files.
  std::set<std::string> names;
  for (const auto& f : list_files(tmp / "a-dedup")) names.insert(std::filesystem::path(f).filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"split.json", "test.jsonl", "train.jsonl", "val.jsonl"}));
}

// A malformed or truncated input is an error naming the file and the line, found after documents
// were already written: none of them, and no split.json, is left behind.
TEST(SplitStream, MalformedOrTruncatedInputLeavesNothingBehind) {
  TempDir tmp;
  const std::string good = jsonl_of(numbered(300));
  struct Case {
    std::string name, content, expect;
  };
  const std::string cut = good + "{\"id\": \"last\", \"text\": \"cut off in the mid";  // no newline: truncated
  const Case cases[] = {
      {"truncated.jsonl", cut, "line 301: invalid JSON at byte"},
      {"malformed.jsonl", good + "{\"id\": \"x\", \"text\": 5}\n" + good, "line 301: missing string field 'text'"},
      {"badjson.jsonl", good + "not json\n", "line 301: invalid JSON"},
      {"dupid.jsonl", good + jsonl_of(numbered(1)), "duplicate document id 'doc0'"},
      {"late.txt", std::string(200000, 'a') + "\n\nlate latin-1 caf\xe9\n", "not UTF-8 text (byte 0xe9 at offset 200018"},
  };
  for (const auto& c : cases) {
    write_file_atomic(tmp / c.name, c.content);
    for (bool dedup : {false, true}) {
      const std::string dir = tmp / ("out-" + c.name + (dedup ? "-dedup" : ""));
      PrepareOptions o;
      o.dedup = dedup;
      CorpusPaths p;
      p.doc_chars = 1000;
      const std::string msg = error_of([&] { ensure_split(tmp / c.name, dir, o, p); });
      EXPECT_EQ(msg.rfind(tmp / c.name + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
      EXPECT_FALSE(dir_has_files(dir)) << c.name;
      EXPECT_FALSE(is_directory(dir)) << c.name << ": the directory it made is gone too";
    }
  }
  EXPECT_NE(error_of([&] { ensure_split(tmp / "truncated.jsonl", tmp / "t"); }).find("truncated?"), std::string::npos);
  // A directory that existed keeps what it held, and gets nothing new.
  make_dirs(tmp / "kept");
  write_file_atomic(tmp / "kept/notes.txt", "mine");
  error_of([&] { ensure_split(tmp / "truncated.jsonl", tmp / "kept"); });
  EXPECT_EQ(list_files(tmp / "kept"), std::vector<std::string>{tmp / "kept/notes.txt"});
  // A run that was killed left its temporary files: the next run removes them (that process is
  // gone: no pid is that large), and leaves a running process's alone.
  make_dirs(tmp / "killed");
  write_file_atomic(tmp / "killed/train.jsonl.tmp.99999999", "half");
  write_file_atomic(tmp / "killed/.ids-val.tmp.99999999", "half");
  write_file_atomic(tmp / "killed/test.jsonl.tmp.1", "pid 1 runs");
  error_of([&] { ensure_split(tmp / "truncated.jsonl", tmp / "killed"); });
  EXPECT_EQ(list_files(tmp / "killed"), std::vector<std::string>{tmp / "killed/test.jsonl.tmp.1"});
  // A binary file named .txt: the NUL byte is named, even after a byte that does not decode.
  write_file_atomic(tmp / "bin.txt", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  EXPECT_NE(error_of([&] { ensure_split(tmp / "bin.txt", tmp / "bin"); }).find("bin.txt: not a text file (a NUL byte at offset 8)"),
            std::string::npos);
  EXPECT_FALSE(is_directory(tmp / "bin"));
}

TEST(SplitStream, SummaryComesFromSplitJsonWithoutTheIds) {
  TempDir tmp;
  write_file_atomic(tmp / "c.jsonl", jsonl_of(numbered(400)));
  const SplitSummary made = ensure_split(tmp / "c.jsonl", tmp / "s");
  const SplitSummary read = read_split_summary(tmp / "s");
  const SplitCorpus all = load_split(tmp / "s");
  EXPECT_EQ(read.name, "c");
  EXPECT_EQ(read.docs[0], all.train.size());
  EXPECT_EQ(read.docs[1], all.val.size());
  EXPECT_EQ(read.docs[2], all.test.size());
  std::size_t bytes = 0;
  for (const auto& d : all.test) bytes += d.text.size();
  EXPECT_EQ(read.bytes[2], bytes);
  EXPECT_EQ(made.docs[0], read.docs[0]);
  EXPECT_EQ(read.documents_read, 400u);
  // prepare_split (stream, then read back) gives the same split.
  const SplitCorpus again = prepare_split(tmp / "c.jsonl", tmp / "s");
  EXPECT_EQ(ids_of(again.val), ids_of(all.val));
  write_file_atomic(tmp / "broken/split.json", "{\"name\": ");
  EXPECT_NE(error_of([&] { read_split_summary(tmp / "broken"); }).find("broken/split.json: invalid JSON"), std::string::npos);
}
