// --set KEY=VALUE on a JSON config: nested keys, JSON-typed values, strings otherwise, and bad
// assignments refused with a message that names them.
#include "core/json_override.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

using structlm::apply_override;
using structlm::json;
using structlm::test_util::error_of;

TEST(JsonOverride, SetsNestedFieldsWithJsonTypedValues) {
  json j = {{"train", {{"max_steps", 10}}}};
  apply_override(j, "train.max_steps=500");
  apply_override(j, "train.lr=3e-4");
  apply_override(j, "model.tied=false");
  apply_override(j, "model.cstde.rank=8");
  apply_override(j, "data.tokenizer=runs/demo/tokenizer");  // not JSON: a string
  apply_override(j, "data.val_shards=[\"a.bin\",\"b.bin\"]");
  apply_override(j, "note=a=b");                            // the first '=' splits
  EXPECT_EQ(j["train"]["max_steps"], 500);
  EXPECT_DOUBLE_EQ(j["train"]["lr"].get<double>(), 3e-4);
  EXPECT_EQ(j["model"]["tied"], false);
  EXPECT_EQ(j["model"]["cstde"]["rank"], 8);
  EXPECT_EQ(j["data"]["tokenizer"], "runs/demo/tokenizer");
  EXPECT_EQ(j["data"]["val_shards"], json::array({"a.bin", "b.bin"}));
  EXPECT_EQ(j["note"], "a=b");
}

TEST(JsonOverride, BadAssignmentsAreErrorsNamingThem) {
  json j = {{"train", 3}};
  EXPECT_NE(error_of([&] { apply_override(j, "train.max_steps"); }).find("expected KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(j, "=5"); }).find("expected KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(j, "train..x=1"); }).find("empty key component"), std::string::npos);
  // Used to escape as a JSON library type error; now names the field that is not an object.
  EXPECT_NE(error_of([&] { apply_override(j, "train.max_steps=5"); }).find("'train' is not an object"), std::string::npos);
}
