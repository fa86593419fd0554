// FieldTable: one table gives to_json, from_json with the known-keys check, per-field checks with
// their messages, and the help listing; nested members are reached through the getter, or through
// an included table of the nested struct.
#include "core/fields.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;

namespace {

struct Inner {
  int depth = 3;
};
struct Opts {
  std::string name = "a";
  double rate = 0.5;
  std::int64_t count = 2;
  Inner inner;

  static const FieldTable<Opts>& fields() {
    static const auto t = FieldTable<Opts>("opts field")
                              .add("name", +[](Opts& o) -> std::string& { return o.name; }, "a name")
                              .add("rate", +[](Opts& o) -> double& { return o.rate; }, "a rate", "in [0, 1]",
                                   [](double v) { return v >= 0 && v <= 1; })
                              .add("count", +[](Opts& o) -> std::int64_t& { return o.count; }, "a count", "> 0", positive)
                              .add("depth", +[](Opts& o) -> int& { return o.inner.depth; }, "nested", "at least 2", at_least(2));
    return t;
  }
};

TEST(FieldTable, WritesAndReadsEveryFieldNestedOnesToo) {
  Opts o;
  o.name = "b";
  o.inner.depth = 7;
  const json j = Opts::fields().to_json(o);
  EXPECT_EQ(j, json({{"name", "b"}, {"rate", 0.5}, {"count", 2}, {"depth", 7}}));
  Opts back;
  Opts::fields().read(j, back, "x.json");
  EXPECT_EQ(back.name, "b");
  EXPECT_EQ(back.inner.depth, 7);
  Opts partial;
  Opts::fields().read({{"count", 9}}, partial, "x.json");  // absent fields keep their value
  EXPECT_EQ(partial.count, 9);
  EXPECT_EQ(partial.name, "a");
}

TEST(FieldTable, UnknownKeysWrongTypesAndFailedChecksNameFileAndField) {
  Opts o;
  auto msg = error_of([&] { Opts::fields().read({{"rat", 1}}, o, "x.json"); });
  EXPECT_NE(msg.find("x.json: unknown field 'rat' (known: name, rate, count, depth)"), std::string::npos) << msg;
  Opts::fields().read({{"extra", 1}}, o, "x.json", {"extra"});  // allowed extra keys pass
  msg = error_of([&] { Opts::fields().read({{"count", "two"}}, o, "x.json"); });
  EXPECT_NE(msg.find("field 'count' has the wrong type"), std::string::npos) << msg;
  // Each read into a fresh struct: a failed read leaves the values it read.
  msg = error_of([&] { Opts o2; Opts::fields().read({{"rate", 1.5}}, o2, "x.json"); });
  EXPECT_NE(msg.find("opts field 'rate' must be in [0, 1]"), std::string::npos) << msg;
  msg = error_of([&] { Opts o2; Opts::fields().read({{"count", 0}}, o2, "x.json"); });
  EXPECT_NE(msg.find("opts field 'count' must be > 0"), std::string::npos) << msg;
  msg = error_of([&] { Opts o2; Opts::fields().read({{"depth", 1}}, o2, "x.json"); });
  EXPECT_NE(msg.find("opts field 'depth' must be at least 2"), std::string::npos) << msg;
}

TEST(FieldTable, HelpListsEveryFieldWithItsPrefix) {
  EXPECT_EQ(Opts::fields().names(), (std::vector<std::string>{"name", "rate", "count", "depth"}));
  EXPECT_EQ(Opts::fields().help("o."), "  o.name  a name\n  o.rate  a rate\n  o.count  a count\n  o.depth  nested\n");
}

// A struct made of another options struct: the inner struct's table included, plus a field of
// its own moved between the included ones.
struct Sub {
  int depth = 3;
  double weight = 1;
  static const FieldTable<Sub>& fields() {
    static const auto t = FieldTable<Sub>()
                              .add("depth", +[](Sub& s) -> int& { return s.depth; }, "the depth", "at least 2", at_least(2))
                              .add("weight", +[](Sub& s) -> double& { return s.weight; }, "the weight");
    return t;
  }
};
struct Outer {
  std::string name = "a";
  int seed = 1;
  Sub sub;
  static const FieldTable<Outer>& fields() {
    static const auto t = FieldTable<Outer>("outer field")
                              .add("name", +[](Outer& o) -> std::string& { return o.name; }, "a name")
                              .include(Sub::fields(), +[](Outer& o) -> Sub& { return o.sub; })
                              .add("seed", +[](Outer& o) -> int& { return o.seed; }, "a seed", "positive", positive)
                              .move_after("seed", "depth");
    return t;
  }
};

TEST(FieldTable, IncludedTablesReadWriteAndCheckThroughTheMember) {
  EXPECT_EQ(Outer::fields().names(), (std::vector<std::string>{"name", "depth", "seed", "weight"}));
  EXPECT_EQ(Outer::fields().help(), "  name  a name\n  depth  the depth\n  seed  a seed\n  weight  the weight\n");
  Outer o;
  o.sub.depth = 5;
  o.sub.weight = 0.25;
  o.seed = 9;
  const json j = Outer::fields().to_json(o);
  EXPECT_EQ(j, json({{"name", "a"}, {"depth", 5}, {"seed", 9}, {"weight", 0.25}}));
  Outer back;
  Outer::fields().read(j, back, "x.json");
  EXPECT_EQ(back.sub.depth, 5);
  EXPECT_EQ(back.sub.weight, 0.25);
  EXPECT_EQ(back.seed, 9);
  EXPECT_EQ(Outer::fields().to_json(back), j);
  // The included check fails with the including table's kind; unknown keys are refused.
  auto msg = error_of([&] { Outer o2; Outer::fields().read({{"depth", 1}}, o2, "x.json"); });
  EXPECT_NE(msg.find("x.json: outer field 'depth' must be at least 2"), std::string::npos) << msg;
  msg = error_of([&] { Outer o2; Outer::fields().read({{"sub", 1}}, o2, "x.json"); });
  EXPECT_NE(msg.find("x.json: unknown field 'sub' (known: name, depth, seed, weight)"), std::string::npos) << msg;
  msg = error_of([&] { Outer o2; Outer::fields().read({{"weight", "heavy"}}, o2, "x.json"); });
  EXPECT_NE(msg.find("field 'weight' has the wrong type"), std::string::npos) << msg;
  // The sub-table itself is unchanged by being included.
  EXPECT_EQ(Sub::fields().names(), (std::vector<std::string>{"depth", "weight"}));
  msg = error_of([&] { FieldTable<Outer>().move_after("nothing", "name"); });
  EXPECT_NE(msg.find("no field 'nothing'"), std::string::npos) << msg;
}

}  // namespace
