#include "report/jsonl.h"

#include <cmath>

#include "core/error.h"
#include "core/io.h"

namespace structlm::report {

std::vector<JsonLine> read_jsonl(const std::string& path) {
  std::vector<JsonLine> out;
  auto lines = read_lines(path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(i + 1);
    json j;
    try {
      j = json::parse(lines[i]);
    } catch (const json::parse_error& e) {
      throw Error(where + ": invalid JSON at byte " + std::to_string(e.byte) + " of the line");
    } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
      throw Error(where + ": invalid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw Error(where + ": expected a JSON object, got " + j.type_name());
    out.push_back({std::move(j), where});
  }
  return out;
}

double number_field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) throw Error(where + ": missing field '" + key + "'");
  if (!it->is_number()) throw Error(where + ": field '" + key + "' must be a number, not " + it->type_name());
  double v = it->get<double>();
  if (!std::isfinite(v)) throw Error(where + ": field '" + key + "' is not finite");
  return v;
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) throw Error(where + ": missing field '" + key + "'");
  if (!it->is_string()) throw Error(where + ": field '" + key + "' must be a string, not " + it->type_name());
  return it->get<std::string>();
}

double optional_number(const json& j, const char* key, double fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return number_field(j, key, where);
}

long long integer_field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) throw Error(where + ": field '" + key + "' missing or not an integer");
  return it->get<long long>();
}

long long seed_field(const json& j, const std::string& where) {
  auto it = j.find("seed");
  if (it == j.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) throw Error(where + ": field 'seed' must be an integer, not " + it->type_name());
  return it->get<long long>();
}

}  // namespace structlm::report
