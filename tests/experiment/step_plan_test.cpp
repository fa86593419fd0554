// The pieces of `experiment --plan` / `--collect` (experiment/step_plan.h): commands quoted so
// that `sh` hands every argument back unchanged, the plan file's stage lines, the recorder
// recording exactly the command the subprocess runner runs, and when a train step counts as
// finished. The whole flow through the CLI: tests/cli/experiment_plan_test.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "experiment/step_plan.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::experiment;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;
using Args = std::vector<std::string>;
namespace fs = std::filesystem;

TEST(StepPlan, ShellCommandsGiveEveryArgumentBackUnchanged) {
  EXPECT_EQ(shell_quote("/runs/cstde/runs/both-seed1"), "/runs/cstde/runs/both-seed1");
  EXPECT_EQ(shell_quote("model.vocab_size=320"), "model.vocab_size=320");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  // Through a real shell: printf prints each argument it received on its own line.
  const Args args = {"printf", "%s\\n", "with space", "it's", "$HOME", "`id`", "a;b", "*", "\"q\"", "new\nline"};
  const auto r = run_process({"sh", "-c", shell_command(args)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (std::size_t i = 2; i < args.size(); ++i) expected += args[i] + "\n";
  EXPECT_EQ(r.out, expected);
}

TEST(StepPlan, PlanTextHasStageLinesOnlyBetweenStages) {
  TempDir t;
  const workspace::Workspace ws(STRUCTLM_SOURCE_DIR, t / "data");
  StepRecorder one(ws, "/bin/structlm");
  one.next_stage();  // nothing recorded yet: still stage 1
  TrainRequest a;
  a.run_dir = "/x/runs/a";
  a.config = "/x/runs/a/requested_config.json";
  one.train(a);
  TrainRequest b = a;
  b.run_dir = "/x/runs/b b";
  one.train(b);
  ASSERT_EQ(one.steps().size(), 2u);
  EXPECT_EQ(one.steps()[0].argv, train_command(ws, "/bin/structlm", a));  // what subprocess_runner runs
  EXPECT_EQ(one.steps()[0].argv[0], "/bin/structlm");
  EXPECT_EQ(one.steps()[1].what, "/x/runs/b b");
  EXPECT_EQ(plan_text(one.steps()), shell_command(one.steps()[0].argv) + "\n" + shell_command(one.steps()[1].argv) + "\n");

  one.next_stage();
  AlignRequest al;
  al.model = "/x/runs/a/checkpoints/latest.safetensors";
  al.out = "/x/aligned/abtt.safetensors";
  one.align(al, "/x/aligned/abtt.align/options.json");
  EXPECT_EQ(one.steps()[2].stage, 2);
  EXPECT_EQ(one.steps()[2].argv, align_command(ws, "/bin/structlm", al, "/x/aligned/abtt.align/options.json"));
  const std::string text = plan_text(one.steps());
  EXPECT_NE(text.find("\n# stage 2: after every command above has finished\n" + shell_command(one.steps()[2].argv) + "\n"),
            std::string::npos)
      << text;

  // Written atomically to OUT/plan.txt, and the --collect error lists every step and its command.
  EXPECT_EQ(write_plan(t.path(), one.steps()), text);
  EXPECT_EQ(read_file(t / "plan.txt"), text);
  const auto msg = error_of([&] { fail_unfinished(t.path(), one.steps()); });
  EXPECT_EQ(msg.rfind(t.path() + ": 3 steps are not finished", 0), 0u) << msg;
  for (const auto& s : one.steps()) {
    EXPECT_NE(msg.find(s.what + ":"), std::string::npos) << msg;
    EXPECT_NE(msg.find(shell_command(s.argv)), std::string::npos) << msg;
  }
}

TEST(StepPlan, TrainingIsFinishedOnlyAtItsLastStep) {
  TempDir t;
  const workspace::Workspace ws(STRUCTLM_SOURCE_DIR, t / "data");
  std::string lines;
  for (int i = 0; i < 80; ++i)  // the corpus of drivers_test.cpp's TinySetup
    lines += "{\"id\": \"d" + std::to_string(i) + "\", \"text\": \"the cat sat on the mat " + std::to_string(i * 7) +
             " times. the dog ran to the barn and back.\"}\n";
  write_file_atomic(t / "tiny.jsonl", lines);
  ws.ensure_trained_tokenizer({t / "tiny.jsonl"}, 300, t / "tok");
  save_json(t / "run.json", {{"model", {{"block_size", 16}, {"n_layer", 1}, {"n_head", 2}, {"n_embd", 16}}},
                             {"train", {{"batch_size", 2}, {"max_steps", 4}, {"stop_at_step", 2}, {"warmup_steps", 1},
                                        {"eval_every", 2}, {"eval_batches", 1}, {"ckpt_every", 2}, {"threads", 1}}}});
  TrainRequest r;
  r.config = t / "run.json";
  r.run_dir = t / "run";
  r.tokenizer = t / "tok";
  r.corpora = {t / "tiny.jsonl"};
  train::TrainConfig tc;
  tc.max_steps = 4;
  EXPECT_FALSE(training_finished(r.run_dir, tc));  // no checkpoint
  EXPECT_NE(error_of([&] { recorded_train_usage(r.run_dir); }).find("step_usage.json: missing"), std::string::npos);

  run_training(ws, r);  // stops at step 2 of 4, as an interrupted run would
  EXPECT_FALSE(training_finished(r.run_dir, tc));
  tc.stop_at_step = 2;
  EXPECT_TRUE(training_finished(r.run_dir, tc));  // the step it was asked to stop at
  EXPECT_TRUE(trained_model_present(r.run_dir, tc));
  tc.stop_at_step = 0;
  const double first_wall_s = recorded_train_usage(r.run_dir).wall_s;
  EXPECT_EQ(load_json(train_usage_path(r.run_dir))["step"].get<std::int64_t>(), 2);

  // The same command again (a requeued job): refused without --auto-resume, continued with it.
  r.overrides = {"train.stop_at_step=0"};
  EXPECT_NE(error_of([&] { run_training(ws, r); }).find("already holds a training run"), std::string::npos);
  r.auto_resume = true;
  run_training(ws, r);
  EXPECT_TRUE(training_finished(r.run_dir, tc));
  EXPECT_TRUE(trained_model_present(r.run_dir, tc));
  const ChildUsage u = recorded_train_usage(r.run_dir);
  EXPECT_GT(u.wall_s, first_wall_s);  // both attempts' time
  EXPECT_GT(u.peak_rss_mib, 10.0);
  const json usage = load_json(train_usage_path(r.run_dir));
  EXPECT_EQ(usage["step"].get<std::int64_t>(), 4);

  // The final checkpoint written, the cost not yet (a process between the two, as another
  // worker's --plan may see it): not finished.
  fs::remove(train_usage_path(r.run_dir));
  EXPECT_FALSE(training_finished(r.run_dir, tc));
  EXPECT_FALSE(trained_model_present(r.run_dir, tc));
  // A file from before the "step" key: the checkpoint says where the step ended.
  json old_usage = usage;
  old_usage.erase("step");
  save_json(train_usage_path(r.run_dir), old_usage);
  EXPECT_TRUE(training_finished(r.run_dir, tc));
  // Restored from its kept files (no checkpoint): trained, but no model to measure.
  save_json(train_usage_path(r.run_dir), usage);
  fs::remove_all(r.run_dir + "/checkpoints");
  EXPECT_TRUE(training_finished(r.run_dir, tc));
  EXPECT_FALSE(trained_model_present(r.run_dir, tc));
}
