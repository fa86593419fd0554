#include "core/json_override.h"

#include "core/error.h"

namespace structlm {

void apply_override(json& j, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("--set " + assignment + ": expected KEY=VALUE, e.g. train.max_steps=100");
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  json* node = &j;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw Error("--set " + assignment + ": empty key component");
    if (!node->is_object()) {
      if (!node->is_null()) throw Error("--set " + assignment + ": '" + key.substr(0, start ? start - 1 : 0) + "' is not an object");
      *node = json::object();
    }
    if (dot == std::string::npos) {
      json v = json::parse(value, nullptr, /*allow_exceptions=*/false);
      (*node)[part] = v.is_discarded() ? json(value) : v;
      return;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
}

}  // namespace structlm
