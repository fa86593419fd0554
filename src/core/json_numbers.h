// Numbers that may be undefined: NaN in memory, null in JSON (NaN is not JSON).
#pragma once
#include <cmath>
#include <limits>
#include <string>

#include "core/json.h"

namespace structlm {

inline json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// j[key] as a number; absent or null reads NaN, a wrong type is an error naming `path`.
inline double number_or_nan(const json& j, const char* key, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  read_field(j, key, v, path);
  return v;
}

// Every non-finite number of a flat object replaced by null ("not measured").
inline void null_non_finite(json& flat) {
  for (auto it = flat.begin(); it != flat.end(); ++it)
    if (it.value().is_number_float() && !std::isfinite(it.value().get<double>())) it.value() = nullptr;
}

}  // namespace structlm
