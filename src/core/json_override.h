// `--set KEY=VALUE` on a JSON config: "a.b=value" sets j["a"]["b"], creating objects on the way.
// The value is parsed as JSON when it parses ("3", "true", "[1,2]"), else taken as a string.
#pragma once
#include <string>

#include "core/json.h"

namespace structlm {

void apply_override(json& j, const std::string& assignment);  // bad syntax -> Error naming it

}  // namespace structlm
