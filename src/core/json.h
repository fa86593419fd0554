// JSON configs and logs (nlohmann-json). Loading names the file and the bad field on error.
#pragma once
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace structlm {

using json = nlohmann::json;

json load_json(const std::string& path);  // parse error -> "PATH: invalid JSON at byte N: ..."
void save_json(const std::string& path, const json& j);  // atomic, pretty-printed

// Reads j[key] as T if present (else keeps `value`); a wrong type is an error naming PATH and key.
// Integer fields take only integers that fit: nlohmann's get<T>() would turn 2.5 into 2, wrap
// 2^40 into an int, and convert 1e30 with undefined behaviour (found by fuzzing the run config).
template <typename T>
void read_field(const json& j, const char* key, T& value, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (it->is_number()) {
      const std::string field = std::string("field '") + key + "' ";
      if (!it->is_number_integer()) fail(path, field + "must be an integer, got " + it->dump());
      const bool negative = !it->is_number_unsigned() && it->template get<std::int64_t>() < 0;
      const bool fits = negative ? std::is_signed_v<T> && it->template get<std::int64_t>() >=
                                                              static_cast<std::int64_t>(std::numeric_limits<T>::min())
                                 : it->template get<std::uint64_t>() <=
                                       static_cast<std::uint64_t>(std::numeric_limits<T>::max());
      if (!fits) fail(path, field + "is out of range, got " + it->dump());
    }
  }
  try {
    value = it->get<T>();
  } catch (const json::exception& e) {
    fail(path, std::string("field '") + key + "' has the wrong type (" + it->type_name() + ")");
  }
}

// Rejects keys not in `known`, so a typo in a config is an error instead of a silent default.
void check_known_keys(const json& j, std::initializer_list<const char*> known, const std::string& path);
void check_known_keys(const json& j, const std::vector<std::string>& known, const std::string& path);

}  // namespace structlm
