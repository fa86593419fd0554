// The guarantee of `structlm align` (docs/METHODS.md §2): the aligned checkpoint differs from its
// source only in the input embedding table. Checked on the files, byte for byte.
#pragma once
#include <string>
#include <vector>

#include "model/checkpoint.h"

namespace structlm::hcma {

// Every way `aligned` breaks the guarantee, one line each (empty: it holds): a model tensor of
// the source missing or with other bytes, lm_head.weight not the source's output matrix (its
// wte.weight when tied), or a tensor the source has no counterpart for. wte.weight may differ
// in values, not in shape.
std::vector<std::string> frozen_weight_violations(const model::Checkpoint& source, const model::Checkpoint& aligned);

}  // namespace structlm::hcma
