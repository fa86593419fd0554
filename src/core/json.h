// JSON configs and logs (nlohmann-json). Loading names the file and the bad field on error.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace structlm {

using json = nlohmann::json;

json load_json(const std::string& path);  // parse error -> "PATH: invalid JSON at byte N: ..."
void save_json(const std::string& path, const json& j);  // atomic, pretty-printed

// Reads j[key] as T if present (else keeps `value`); a wrong type is an error naming PATH and key.
template <typename T>
void read_field(const json& j, const char* key, T& value, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    value = it->get<T>();
  } catch (const json::exception& e) {
    fail(path, std::string("field '") + key + "' has the wrong type (" + it->type_name() + ")");
  }
}

// Rejects keys not in `known`, so a typo in a config is an error instead of a silent default.
void check_known_keys(const json& j, std::initializer_list<const char*> known, const std::string& path);

}  // namespace structlm
