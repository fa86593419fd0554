// Data-parallel training through the CLI (issue 17): `structlm launch --nproc 2 -- train` as two
// real processes meeting over loopback. Two ranks of grad_accum 1 train what one process of
// grad_accum 2 does (same windows, same dropout masks; only the order of summation differs), a
// run resumes on another number of ranks, a failing rank ends the job with its name, and a rank
// killed mid-run ends the job without losing the last checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_support.h"
#include "core/io.h"
#include "core/json.h"
#include "formats/safetensors.h"

namespace fs = std::filesystem;
using structlm::json;

namespace {

using cli_test::run;
using cli_test::run_shell;

class Distributed : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("structlm_dist_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  // A small corpus, its tokenizer and a config with dropout (so the masks must match too).
  std::string prepare() {
    std::string text;
    const char* words[] = {"the", "cat", "sees", "a", "dog", "river", "runs", "king", "finds", "bird"};
    for (int d = 0; d < 30; ++d) {
      std::string doc;
      for (int i = 0; i < 200; ++i) doc += std::string(words[(d * 7 + i * 3 + i / 5) % 10]) + (i % 9 == 8 ? ". " : " ");
      text += json({{"id", "d" + std::to_string(d)}, {"text", doc}}).dump() + "\n";
    }
    structlm::write_file_atomic(path("toy.jsonl"), text);
    const std::string data = " --data-dir " + path("data");
    EXPECT_EQ(run("tokenizer train " + path("toy.jsonl") + data + " --vocab-size 280 --out " + path("tok")).code, 0);
    structlm::write_file_atomic(path("cfg.json"), R"({
      "model": {"block_size": 32, "n_layer": 1, "n_head": 2, "n_embd": 32, "dropout": 0.1},
      "train": {"batch_size": 4, "max_steps": 16, "warmup_steps": 2, "lr": 0.005, "eval_every": 8,
                "eval_batches": 3, "ckpt_every": 8, "log_every": 1, "threads": 1},
      "data": {}})");
    return "train --config " + path("cfg.json") + " --corpus " + path("toy.jsonl") + " --tokenizer " + path("tok") + data;
  }

  std::vector<json> metrics(const std::string& run_dir) {
    std::vector<json> out;
    for (const auto& line : structlm::read_lines(run_dir + "/metrics.jsonl"))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  // Largest |a - b| over every model tensor of two checkpoints (F32).
  double max_weight_diff(const std::string& a, const std::string& b) {
    structlm::formats::SafetensorsReader ra(a), rb(b);
    double worst = 0;
    int compared = 0;
    for (const auto& t : ra.tensors()) {
      if (t.name.rfind("optim.", 0) == 0) continue;
      const auto& u = rb.get(t.name);
      EXPECT_EQ(t.numel(), u.numel()) << t.name;
      const float* x = reinterpret_cast<const float*>(ra.data(t));
      const float* y = reinterpret_cast<const float*>(rb.data(u));
      for (std::uint64_t i = 0; i < t.numel(); ++i) worst = std::max(worst, double(std::fabs(x[i] - y[i])));
      ++compared;
    }
    EXPECT_GT(compared, 5);
    return worst;
  }

  fs::path dir;
};

}  // namespace

TEST_F(Distributed, TwoRanksTrainWhatOneProcessWithTwiceTheAccumulationDoes) {
  const std::string train = prepare();
  auto one = run(train + " --run-dir " + path("one") + " --set train.grad_accum=2");
  ASSERT_EQ(one.code, 0) << one.out;
  // Buckets of 16 KiB: the gradients travel in several all-reduces started during the backward
  // pass (dist::GradReducer), and the result must not change.
  auto two = run("launch --nproc 2 -- " + train + " --run-dir " + path("two") +
                 " --set train.grad_accum=1 --set train.bucket_mb=0.015625");
  ASSERT_EQ(two.code, 0) << two.out;
  EXPECT_NE(two.out.find("data-parallel: 2 ranks x 1 micro-batches of 4 = 8 windows per step"), std::string::npos)
      << two.out;
  const auto buckets = two.out.find("data-parallel: gradients in ");
  ASSERT_NE(buckets, std::string::npos) << two.out;
  EXPECT_GT(std::stoi(two.out.substr(buckets + std::strlen("data-parallel: gradients in "))), 2) << two.out;
  EXPECT_NE(two.out.find("launch: 2 ranks finished"), std::string::npos) << two.out;

  // Rank 0 alone wrote the log: one line per step, as the single process did, and the same
  // numbers up to the order of summation (a different window or dropout mask would move the
  // loss by far more than 1e-4).
  const auto a = metrics(path("one")), b = metrics(path("two"));
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), 16u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-4) << "step " << a[i]["step"];
    EXPECT_FALSE(a[i].contains("allreduce_s"));
    EXPECT_GE(b[i].value("allreduce_s", -1.0), 0.0) << "step " << a[i]["step"];  // the wait, logged
    if (a[i].contains("val_loss")) {
      ASSERT_TRUE(b[i].contains("val_loss")) << "step " << a[i]["step"];
      EXPECT_NEAR(a[i]["val_loss"].get<double>(), b[i]["val_loss"].get<double>(), 1e-4);
    }
  }
  EXPECT_LT(max_weight_diff(path("one/checkpoints/latest.safetensors"), path("two/checkpoints/latest.safetensors")),
            1e-4);
  // The checkpoint records the world size it was trained on.
  structlm::formats::SafetensorsReader ck(path("two/checkpoints/latest.safetensors"));
  EXPECT_EQ(json::parse(ck.metadata().at("train_state"))["world_size"], 2);
}

TEST_F(Distributed, ARunResumesOnAnotherNumberOfRanksButNotWithAnotherBatch) {
  const std::string train = prepare();
  auto one = run(train + " --run-dir " + path("one") + " --set train.grad_accum=2");
  ASSERT_EQ(one.code, 0) << one.out;
  // Two ranks to step 8, then one process with grad_accum 2 to the end.
  auto r = run("launch --nproc 2 -- " + train + " --run-dir " + path("mixed") +
               " --set train.grad_accum=1 --set train.stop_at_step=8");
  ASSERT_EQ(r.code, 0) << r.out;
  r = run("train --resume --run-dir " + path("mixed") + " --set train.stop_at_step=0 --set train.grad_accum=3");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("train.grad_accum x ranks was 1 x 2, now 3 x 1"), std::string::npos) << r.out;
  r = run("train --resume --run-dir " + path("mixed") + " --set train.stop_at_step=0 --set train.grad_accum=2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_LT(max_weight_diff(path("one/checkpoints/latest.safetensors"), path("mixed/checkpoints/latest.safetensors")),
            1e-4);
}

TEST_F(Distributed, AFailingRankEndsTheJobNamingIt) {
  // Every rank fails at once here (no such config); the launcher reports the first and exits 1.
  auto r = run("launch --nproc 2 --grace 5 -- train --config " + path("missing.json") + " --run-dir " + path("r"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("missing.json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("launch: rank "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" of 2 exited with code 1"), std::string::npos) << r.out;
  // Nothing to launch, or no ranks: refused by name.
  EXPECT_NE(run("launch --nproc 0 -- train").code, 0);
}

TEST_F(Distributed, ARankKilledMidRunEndsTheJobAndTheRunResumesFromItsLastCheckpoint) {
  const std::string train = prepare();
  // Two ranks on a run far longer than the test; once rank 0 has written a checkpoint and a few
  // steps more, rank 1 is killed (SIGKILL: no chance to clean up), found as the launcher's child
  // whose environment says RANK=1 (through /proc, not pgrep: a bare Debian has no procps).
  const std::string r = path("r");
  const std::string log = path("launch.out");
  auto k = run_shell(cli_test::cli() + " launch --nproc 2 --grace 3 -- " +
                     train + " --run-dir " + r +
                     " --set train.grad_accum=1 --set train.max_steps=100000 --set train.eval_every=0 > " + log + " 2>&1 & "
                     "L=$!; for i in $(seq 1200); do "
                     "[ -f " + r + "/checkpoints/latest.safetensors ] && [ $(wc -l < " + r + "/metrics.jsonl) -ge 12 ] && break; "
                     "sleep 0.05; done; "
                     "for s in /proc/[0-9]*/status; do "
                     "  grep -q \"^PPid:[[:space:]]*$L$\" $s 2>/dev/null || continue; p=${s#/proc/}; p=${p%/status}; "
                     "  tr '\\0' '\\n' < /proc/$p/environ | grep -qx RANK=1 && kill -9 $p && echo killed-rank-1; "
                     "done; "
                     // A launcher still running 60 s after the kill has hung: say so and end it.
                     "for i in $(seq 1200); do kill -0 $L 2>/dev/null || break; sleep 0.05; done; "
                     "kill -0 $L 2>/dev/null && { echo launch-hung; kill -9 -- -$L $L; }; "
                     "wait $L; echo launch-exit=$?; cat " + log);
  ASSERT_NE(k.out.find("killed-rank-1"), std::string::npos) << k.out;
  EXPECT_EQ(k.out.find("launch-hung"), std::string::npos) << k.out;
  // The job ended (no rank left waiting on a dead peer), non-zero, naming a rank: rank 1 (killed:
  // 128 + 9) or rank 0 (its collective failed), whichever the launcher reaped first.
  EXPECT_NE(k.out.find("launch-exit=1"), std::string::npos) << k.out;
  EXPECT_NE(k.out.find(" of 2 exited with code "), std::string::npos) << k.out;
  // The last checkpoint is whole (written atomically) and at a checkpoint step.
  structlm::formats::SafetensorsReader ck(r + "/checkpoints/latest.safetensors");
  const auto state = json::parse(ck.metadata().at("train_state"));
  const int step = state["step"].get<int>();
  EXPECT_GE(step, 8);
  EXPECT_EQ(step % 8, 0) << step;
  // One process with twice the accumulation takes the run on from there.
  auto res = run("train --resume --run-dir " + r + " --set train.grad_accum=2 --set train.stop_at_step=" +
                 std::to_string(step + 8));
  ASSERT_EQ(res.code, 0) << res.out;
  structlm::formats::SafetensorsReader after(r + "/checkpoints/latest.safetensors");
  EXPECT_EQ(json::parse(after.metadata().at("train_state"))["step"].get<int>(), step + 8);
}
