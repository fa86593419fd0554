// The guarantee of `structlm align` (docs/METHODS.md §2): the aligned checkpoint differs from its
// source only in the input embedding table. Checked on the files, byte for byte.
#pragma once
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace structlm::hcma {

// The input table's tensor name in a checkpoint of `arch` (model/checkpoint.h): wte.weight (gpt),
// model.embed_tokens.weight (llama).
std::string input_table_name(const std::string& arch);

// Every way `aligned` breaks the guarantee, one line each (empty: it holds): another
// architecture, a model tensor of the source missing or with other bytes, lm_head.weight not the
// source's output matrix (its input table when tied), or a tensor the source has no counterpart
// for. The input table (input_table_name) may differ in values, not in shape. Checkpoints of
// either architecture (model::read_any_checkpoint).
std::vector<std::string> frozen_weight_violations(const model::Checkpoint& source, const model::Checkpoint& aligned);

}  // namespace structlm::hcma
