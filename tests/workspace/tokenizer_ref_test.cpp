// TokenizerRef: the built-in name and "none" pass through every resolution unchanged; directories
// become absolute, relative ones against a run's directory when not found as given.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/io.h"
#include "support/temp_dir.h"
#include "workspace/tokenizer_ref.h"

using namespace structlm;
using structlm::test_util::TempDir;
using workspace::TokenizerRef;

TEST(TokenizerRef, BuiltinNameAndNoneStayAsTheyAre) {
  const TokenizerRef gpt2(TokenizerRef::kGpt2), none;
  EXPECT_TRUE(gpt2.is_gpt2());
  EXPECT_FALSE(gpt2.is_directory());
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.is_directory());
  for (const auto& r : {gpt2, none}) {
    EXPECT_EQ(r.absolute().spec(), r.spec());
    EXPECT_EQ(r.anchored("/some/run").spec(), r.spec());
  }
  // A directory that happens to be called gpt2 is named by a path: "./gpt2" is a directory.
  EXPECT_TRUE(TokenizerRef("./gpt2").is_directory());
}

TEST(TokenizerRef, DirectoriesBecomeAbsolute) {
  TempDir t;
  make_dirs(t / "run/tok");
  const auto cwd = std::filesystem::current_path();
  ASSERT_EQ(chdir(t.path().c_str()), 0);
  EXPECT_EQ(TokenizerRef("run/tok").absolute().spec(), t / "run/tok");
  // Found as given from the working directory: taken as it is (made absolute).
  EXPECT_EQ(TokenizerRef("run/tok").anchored("/elsewhere").spec(), t / "run/tok");
  // Not found as given: relative to the run's directory.
  EXPECT_EQ(TokenizerRef("tok").anchored(t / "run").spec(), t / "run/tok");
  EXPECT_EQ(TokenizerRef("/abs/tok").anchored(t / "run").spec(), "/abs/tok");
  std::filesystem::current_path(cwd);
}
