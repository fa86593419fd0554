#include "core/json.h"

#include "core/io.h"

namespace structlm {

json load_json(const std::string& path) {
  std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail(path, "invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // a number beyond double ("1e400") is out_of_range
    fail(path, std::string("invalid JSON: ") + e.what());
  }
}

void save_json(const std::string& path, const json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

void check_known_keys(const json& j, std::initializer_list<const char*> known, const std::string& path) {
  check_known_keys(j, std::vector<std::string>(known.begin(), known.end()), path);
}

void check_known_keys(const json& j, const std::vector<std::string>& known, const std::string& path) {
  if (!j.is_object()) fail(path, std::string("expected a JSON object, got ") + j.type_name());
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const auto& k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (const auto& k : known) list += std::string(list.empty() ? "" : ", ") + k;
      fail(path, "unknown field '" + it.key() + "' (known: " + list + ")");
    }
  }
}

}  // namespace structlm
