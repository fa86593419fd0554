// A step's request -> the arguments of its child process: every field that is set travels under
// its flag (experiment/step_flags.h, the names cmd_train / cmd_align define), unset ones do not.
// The tests of tests/cli/experiment_*_test.cpp run these arguments through the real commands.
#include <gtest/gtest.h>

#include "experiment/step_flags.h"
#include "experiment/steps.h"

using namespace structlm::experiment;
using Args = std::vector<std::string>;

TEST(StepArgs, TrainCarriesEverySetFieldUnderItsFlag) {
  TrainRequest r;
  r.run_dir = "/r";
  EXPECT_EQ(train_args(r), (Args{"--run-dir", "/r"}));
  r.config = "/r/requested_config.json";
  r.tokenizer = "gpt2";
  r.corpora = {"brown", "kjv"};
  r.overrides = {"train.max_steps=5"};
  r.resume = true;
  EXPECT_EQ(train_args(r), (Args{"--run-dir", "/r", "--config", "/r/requested_config.json", "--tokenizer", "gpt2", "--corpus",
                                 "brown", "--corpus", "kjv", "--set", "train.max_steps=5", "--resume"}));
  r.resume = false;
  r.auto_resume = true;
  EXPECT_EQ(train_args(r).back(), "--auto-resume");
}

TEST(StepArgs, AlignCarriesTheOptionsFileAndEverySetField) {
  AlignRequest r;
  r.model = "/m.safetensors";
  r.calib = "brown";
  r.out = "/o.safetensors";
  r.threads = 2;
  EXPECT_EQ(align_args(r, "/opts.json"), (Args{"--model", "/m.safetensors", "--calib", "brown", "--out", "/o.safetensors",
                                               "--config", "/opts.json", "--threads", "2", "--device", "auto"}));
  r.tokenizer = "/tok";
  r.report = "/rep";
  const Args a = align_args(r, "/opts.json");
  EXPECT_EQ(Args(a.end() - 4, a.end()), (Args{"--tokenizer", "/tok", "--report", "/rep"}));
}
