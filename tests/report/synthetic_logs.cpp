#include "synthetic_logs.h"

#include <cmath>
#include <sstream>

#include "core/io.h"
#include "core/json.h"

namespace structlm::test_report {

void write_text(const std::string& path, const std::string& text) {
  auto slash = path.rfind('/');
  make_dirs(path.substr(0, slash));
  write_file_atomic(path, text);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void write_train_run(const std::string& dir, int n_layer, int seed, double loss10, double loss20, double val20) {
  json cfg = {{"model", {{"n_layer", n_layer}, {"n_embd", 64}}},
              {"train", {{"seed", seed}, {"max_steps", 20}}},
              {"data", {{"tokenizer", dir + "/tokenizer"}, {"train_shards", {"data/x/tokens-ab/train.bin"}}}}};
  write_text(dir + "/config.json", cfg.dump(2));
  std::ostringstream m;
  m << json{{"step", 10}, {"loss", loss10}, {"lr", 1e-3}, {"tokens_per_s", 1000.0}, {"elapsed_s", 1.0}}.dump() << "\n"
    << json{{"step", 20}, {"loss", loss20}, {"lr", 1e-3}, {"tokens_per_s", 1200.0}, {"val_loss", val20}, {"elapsed_s", 2.5}}
           .dump()
    << "\n";
  write_text(dir + "/metrics.jsonl", m.str());
}

void write_eval(const std::string& dir, double loss, double bits_per_byte) {
  json ev = {{"corpora",
              {{{"corpus", "brown"}, {"split", "test"}, {"tokens", 1000}, {"bytes", 4000}, {"loss", loss},
                {"perplexity", std::exp(loss)}, {"bits_per_byte", bits_per_byte}, {"xz_bits_per_byte", 2.5}}}}};
  write_text(dir + "/eval.json", ev.dump());
}

void write_cstde_logs(const std::string& dir) {
  json e = {{"experiment", "cstde"},
            {"description", "synthetic test data"},
            {"baseline", "baseline"},
            {"metrics",
             {{{"key", "brown_bpb"}, {"label", "Brown bits/byte"}, {"lower_is_better", true}},
              {{"key", "steps_per_s"}, {"label", "steps/s"}, {"lower_is_better", false}, {"digits", 2}}}},
            {"rows",
             {{{"variant", "baseline"}, {"seed", 1}, {"values", {{"brown_bpb", 1.10}, {"steps_per_s", 10}}}},
              {{"variant", "baseline"}, {"seed", 2}, {"values", {{"brown_bpb", 1.20}, {"steps_per_s", 11}}}},
              {{"variant", "baseline"}, {"seed", 3}, {"values", {{"brown_bpb", 1.30}, {"steps_per_s", 12}}}},
              {{"variant", "both"}, {"seed", 1}, {"values", {{"brown_bpb", 0.90}, {"steps_per_s", 10.5}}}},
              {{"variant", "both"}, {"seed", 2}, {"values", {{"brown_bpb", 0.95}, {"steps_per_s", 11}}}},
              {{"variant", "both"}, {"seed", 3}, {"values", {{"brown_bpb", 1.00}, {"steps_per_s", 11.5}}}},
              {{"variant", "init_only"}, {"seed", 1}, {"values", {{"brown_bpb", 1.00}}}}}}};
  write_text(dir + "/cstde/experiment.json", e.dump(2));
  std::ostringstream d;
  const double loss[2][2][4] = {{{2.0, 2.5, 2.8, 3.0}, {2.2, 2.7, 3.0, 3.2}}, {{1.9, 2.3, 2.6, 2.7}, {2.0, 2.4, 2.7, 2.8}}};
  const char* variants[2] = {"baseline", "both"};
  const int distance[4] = {1, 2, 4, 8};
  for (int v = 0; v < 2; ++v)
    for (int s = 0; s < 2; ++s)
      for (int k = 0; k < 4; ++k)
        d << json{{"variant", variants[v]}, {"seed", s + 1}, {"distance", distance[k]}, {"loss", loss[v][s][k]}, {"tokens", 100}}
                 .dump()
          << "\n";
  write_text(dir + "/cstde/loss_by_distance.jsonl", d.str());
  std::ostringstream l;
  l << json{{"kind", "reference"}, {"corpus", "brown"}, {"lengths", {1, 2, 3, 12, 20, 25}}}.dump() << "\n"
    << json{{"kind", "generated"}, {"variant", "baseline"}, {"seed", 1}, {"lengths", {2, 3, 4, 13, 21, 26}}}.dump() << "\n"
    << json{{"kind", "generated"}, {"variant", "baseline"}, {"seed", 2}, {"lengths", {1, 2, 3, 12, 20, 25}}}.dump() << "\n"
    << json{{"kind", "generated"}, {"variant", "both"}, {"seed", 1}, {"lengths", {5, 6, 7, 8, 9, 10}}}.dump() << "\n";
  write_text(dir + "/cstde/sentence_lengths.jsonl", l.str());
}

void write_hcma_logs(const std::string& dir) {
  json e = {{"experiment", "hcma"},
            {"baseline", "before"},
            {"metrics", {{{"key", "frequent_ppl"}, {"label", "frequent-token perplexity"}}}},
            {"rows",
             {{{"variant", "before"}, {"seed", 1}, {"values", {{"frequent_ppl", 40.0}}}},
              {{"variant", "before"}, {"seed", 2}, {"values", {{"frequent_ppl", 42.0}}}},
              {{"variant", "after"}, {"seed", 1}, {"values", {{"frequent_ppl", 40.5}}}},
              {{"variant", "after"}, {"seed", 2}, {"values", {{"frequent_ppl", 42.3}}}}}}};
  write_text(dir + "/hcma/experiment.json", e.dump(2));
  std::ostringstream r, a, p, m, mv;
  const char* variants[2] = {"before", "after"};
  const char* buckets[3] = {"<10", "10-99", ">=100"};
  const int mins[3] = {0, 10, 100};
  const char* moved[3] = {"0", "1-9", ">=1000"};
  const int moved_min[3] = {0, 1, 1000};
  for (int v = 0; v < 2; ++v)
    for (int s = 1; s <= 2; ++s) {
      for (int b = 0; b < 3; ++b)
        for (int k : {1, 10})
          r << json{{"variant", variants[v]}, {"seed", s},       {"bucket", buckets[b]},
                    {"min_count", mins[b]},   {"k", k},          {"recall", 0.05 * (b + 1) * (k == 1 ? 1 : 3) + 0.01 * s},
                    {"targets", 50 * (b + 1)}}
                   .dump()
            << "\n";
      for (const char* attack : {"random", "gradient_sign"})
        for (double eps : {0.01, 0.05, 0.1}) {
          // Clean loss 3 + 0.1·variant + 0.01·seed on every strength; attacked = clean + increase.
          const double clean = 3.0 + 0.1 * v + 0.01 * s, up = eps * (attack[0] == 'r' ? 2 : 8) * (v ? 0.9 : 1.0) + 0.001 * s;
          a << json{{"variant", variants[v]}, {"seed", s},           {"attack", attack},         {"strength", eps},
                    {"loss_increase", up},     {"flip_rate", eps * 3}, {"clean_loss", clean}, {"attacked_loss", clean + up}}
                   .dump()
            << "\n";
        }
      // Only the aligned variant moved: 0.4 − 0.1·bucket + 0.01·seed, the most frequent bucket first.
      for (int b = 2; b >= 0 && v == 1; --b)
        mv << json{{"variant", variants[v]}, {"seed", s}, {"bucket", moved[b]}, {"min_count", moved_min[b]},
                   {"relative_move", 0.4 - 0.1 * b + 0.01 * s}, {"tokens", 10 * (b + 1)}}
                  .dump()
           << "\n";
      for (int pos : {0, 128, 256, 512})
        p << json{{"variant", variants[v]}, {"seed", s}, {"position", pos}, {"loss", 4.0 - 0.001 * pos + 0.02 * s + 0.05 * v},
                  {"tokens", 1000}}
                 .dump()
          << "\n";
    }
  // 3 clusters of 20 tokens in 6 dimensions, spread along different axes before and after.
  for (int i = 0; i < 60; ++i) {
    int c = i / 20;
    std::vector<double> before(6), after(6);
    for (int j = 0; j < 6; ++j) {
      double jitter = std::sin(double(i * 7 + j * 3)) * 0.3;
      before[j] = (j == c ? 2.0 : 0.0) + jitter;
      after[j] = (j == c ? 3.0 : 0.0) + 0.5 * jitter;
    }
    m << json{{"token", "t" + std::to_string(i)}, {"id", i}, {"cluster", c}, {"before", before}, {"after", after}}.dump()
      << "\n";
  }
  write_text(dir + "/hcma/loss_by_position.jsonl", p.str());
  write_text(dir + "/hcma/rare_recall.jsonl", r.str());
  write_text(dir + "/hcma/attack.jsonl", a.str());
  write_text(dir + "/hcma/movement.jsonl", mv.str());
  write_text(dir + "/hcma/embedding_sample.jsonl", m.str());
}

}  // namespace structlm::test_report
