// core: atomic writes never leave a half-written file, errors name the file, configs reject typos.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/platform.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/utf8.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace structlm;

namespace {

using test_util::TempDir;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(AtomicWrite, ReplacesContentAndLeavesNoTempFile) {
  TempDir d;
  write_file_atomic(d / "a.txt", "first");
  write_file_atomic(d / "a.txt", "second");
  EXPECT_EQ(read_file(d / "a.txt"), "second");
  EXPECT_EQ(list_files(d.path()).size(), 1u);
}

TEST(AtomicWrite, AFailingWriterKeepsTheOldFile) {
  TempDir d;
  write_file_atomic(d / "a.txt", "precious");
  EXPECT_THROW(write_file_atomic(d / "a.txt",
                                 [](std::ostream& out) {
                                   out << "half";
                                   throw std::runtime_error("crash mid-write");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_file(d / "a.txt"), "precious");
  EXPECT_EQ(list_files(d.path()).size(), 1u);  // temp file removed
}

TEST(AtomicWrite, CreatesParentDirectories) {
  TempDir d;
  write_file_atomic(d / "x/y/z.txt", "deep");
  EXPECT_EQ(read_file(d / "x/y/z.txt"), "deep");
}

TEST(ReadFile, ErrorsNameThePath) {
  TempDir d;
  EXPECT_NE(error_of([&] { read_file(d / "missing.txt"); }).find("missing.txt"), std::string::npos);
  EXPECT_NE(error_of([&] { read_file(d.path()); }).find("directory"), std::string::npos);
}

TEST(ReadLines, SplitsOnNewlinesAndStripsCarriageReturns) {
  TempDir d;
  write_file_atomic(d / "l.txt", "a\r\nb\n\nc");
  EXPECT_EQ(read_lines(d / "l.txt"), (std::vector<std::string>{"a", "b", "", "c"}));
}

TEST(MappedFile, MapsContentAndEmptyFiles) {
  TempDir d;
  write_file_atomic(d / "m.bin", std::string("\x01\x02\x03", 3));
  MappedFile m(d / "m.bin");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.data()[2], 3);
  write_file_atomic(d / "e.bin", "");
  MappedFile e(d / "e.bin");
  EXPECT_EQ(e.size(), 0u);
  EXPECT_NE(error_of([&] { MappedFile x(d / "nope.bin"); }).find("nope.bin"), std::string::npos);
}

TEST(Json, ParseErrorNamesFileAndByte) {
  TempDir d;
  write_file_atomic(d / "c.json", "{\"a\": 1,, }");
  std::string e = error_of([&] { load_json(d / "c.json"); });
  EXPECT_NE(e.find("c.json"), std::string::npos) << e;
  EXPECT_NE(e.find("byte 9"), std::string::npos) << e;
}

// nlohmann reports a number beyond double's range as out_of_range, not parse_error: it must still
// be an Error naming the file, not an uncaught exception (found by fuzzing the tokenizer files).
TEST(Json, NumberOutOfRangeIsAnErrorNamingTheFile) {
  TempDir d;
  write_file_atomic(d / "big.json", "{\"vocab_size\": 41e308}");
  std::string e = error_of([&] { load_json(d / "big.json"); });
  EXPECT_EQ(e.rfind(d / "big.json: invalid JSON", 0), 0u) << e;
}

TEST(Json, ReadFieldAndUnknownKeys) {
  json j = {{"n", 3}, {"name", "x"}};
  int n = 0;
  read_field(j, "n", n, "cfg.json");
  EXPECT_EQ(n, 3);
  int missing = 7;
  read_field(j, "absent", missing, "cfg.json");
  EXPECT_EQ(missing, 7);
  int wrong = 0;
  std::string e = error_of([&] { read_field(j, "name", wrong, "cfg.json"); });
  EXPECT_NE(e.find("cfg.json"), std::string::npos);
  EXPECT_NE(e.find("'name'"), std::string::npos);
  e = error_of([&] { check_known_keys(j, {"n"}, "cfg.json"); });
  EXPECT_NE(e.find("unknown field 'name'"), std::string::npos) << e;
  EXPECT_EQ(error_of([&] { check_known_keys(j, {"n", "name"}, "cfg.json"); }), "");
}

// Integer fields: only integers that fit the field's type. nlohmann alone would truncate 2.5,
// wrap 2^40 into an int and convert 5e21 to int64 with undefined behaviour (UBSan, found by
// fuzzing the run config).
TEST(Json, ReadFieldRejectsIntegersThatDoNotFit) {
  const json j = json::parse(R"({"f": 2.5, "huge": 5129223372036854775807, "big": 1099511627776,
                                 "neg": -1, "max": 9223372036854775807, "min": -9223372036854775808})");
  std::int64_t i64 = 0;
  int i32 = 0;
  std::uint64_t u64 = 0;
  EXPECT_NE(error_of([&] { read_field(j, "f", i64, "c.json"); }).find("c.json: field 'f' must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_field(j, "huge", i64, "c.json"); }).find("'huge' must be an integer"), std::string::npos);
  EXPECT_NE(error_of([&] { read_field(j, "big", i32, "c.json"); }).find("'big' is out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { read_field(j, "neg", u64, "c.json"); }).find("'neg' is out of range"), std::string::npos);
  read_field(j, "max", i64, "c.json");
  EXPECT_EQ(i64, std::numeric_limits<std::int64_t>::max());
  read_field(j, "min", i64, "c.json");
  EXPECT_EQ(i64, std::numeric_limits<std::int64_t>::min());
  read_field(j, "big", u64, "c.json");
  EXPECT_EQ(u64, 1099511627776u);
  double d = 0;  // floating fields still take integers
  read_field(j, "big", d, "c.json");
  EXPECT_EQ(d, 1099511627776.0);
  read_field(json{{"n", std::int64_t(5)}}, "n", i32, "c.json");  // a signed positive value, as to_json writes
  EXPECT_EQ(i32, 5);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(12.34), "12.3s");
  EXPECT_EQ(Progress::format_duration(185), "3m05s");
  EXPECT_EQ(Progress::format_duration(3720), "1h02m");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(Rng, DeterministicAndKeyed) {
  SplitMix64 a(42), b(42), c(43);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(SplitMix64(42).next(), c.next());
  EXPECT_NE(mix_seed(1, 2), mix_seed(1, 3));
  EXPECT_NE(mix_seed(1, 2, 0), mix_seed(1, 2, 1));
  EXPECT_EQ(mix_seed(5, 6, 7), mix_seed(5, 6, 7));
  std::vector<int> v{1, 2, 3, 4, 5, 6, 7, 8}, w = v;
  SplitMix64 r1(9), r2(9);
  shuffle(v, r1);
  shuffle(w, r2);
  EXPECT_EQ(v, w);
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Platform, CoresAndCoreType) {
  EXPECT_GE(available_cores(), 1);
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) EXPECT_STRNE(best_openblas_coretype(), "");
#endif
}

// Strict UTF-8 (core/utf8.h) against an independent reader of it, nlohmann-json's dump: every
// string of up to 3 bytes from a set of edge bytes is valid for one exactly when dump accepts
// it, and the lenient check (lead and continuation bytes only) accepts a superset.
TEST(Utf8, StrictAgreesWithJsonDumpOnEdgeBytes) {
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  int valid = 0, checked = 0;
  std::vector<std::string> strings = {""};
  for (int len = 1; len <= 3; ++len) {
    std::vector<std::string> next;
    for (const auto& s : strings)
      if (s.size() == std::size_t(len - 1))
        for (unsigned char b : edges) next.push_back(s + char(b));
    strings.insert(strings.end(), next.begin(), next.end());
  }
  // Four-byte forms at their edges: U+10000, U+10FFFF, past it, a surrogate, an overlong.
  for (const char* s : {"\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xED\xA0\x80", "\xF0\x8F\xBF\xBF"})
    strings.push_back(s);
  for (const auto& s : strings) {
    bool dump_ok = true;
    try {
      (void)structlm::json(s).dump();
    } catch (const structlm::json::exception&) {
      dump_ok = false;
    }
    const bool strict = structlm::invalid_strict_utf8_offset(s) == std::string::npos;
    EXPECT_EQ(strict, dump_ok) << structlm::json(s).dump(-1, ' ', false, structlm::json::error_handler_t::replace);
    if (strict) EXPECT_EQ(structlm::invalid_utf8_offset(s), std::string::npos);
    valid += strict;
    ++checked;
  }
  EXPECT_GT(valid, 100);
  EXPECT_GT(checked - valid, 1000);
}
