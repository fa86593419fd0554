// Small synthetic run directories with hand-picked numbers, so every mean and spread the report
// prints can be checked by hand. These are test fixtures, not results.
#pragma once
#include <string>
#include <vector>

namespace structlm::test_report {

// config.json (model.n_layer, train.seed) and metrics.jsonl: train loss at steps 10 and 20,
// validation loss at step 20.
void write_train_run(const std::string& dir, int n_layer, int seed, double loss10, double loss20, double val20);

// eval.json with one corpus.
void write_eval(const std::string& dir, double loss, double bits_per_byte);

// DIR/cstde/{experiment.json, loss_by_distance.jsonl, sentence_lengths.jsonl}.
void write_cstde_logs(const std::string& dir);

// DIR/hcma/{experiment.json, rare_recall.jsonl, attack.jsonl (with clean and attacked losses),
// movement.jsonl, loss_by_position.jsonl, embedding_sample.jsonl}.
void write_hcma_logs(const std::string& dir);

void write_text(const std::string& path, const std::string& text);
bool contains(const std::string& haystack, const std::string& needle);

}  // namespace structlm::test_report
