// Reading Hugging Face config.json files as hostile input (formats/hf_config.h,
// formats/hf_llama_config.h): bounded parsing, sizes in range, fields that must hold the one value
// structlm computes. Errors name the file and the field. Private to src/formats.
#pragma once
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/json.h"

namespace structlm::formats::detail {

struct Problem {
  std::string what;
};

inline json parse_bounded(const std::uint8_t* data, std::size_t size, const std::string& name) {
  // A config is a flat object with a few small arrays/objects: deep nesting is refused inside
  // the parser, before it can cost anything.
  auto cb = [](int depth, json::parse_event_t, json&) {
    if (depth > 8) throw Problem{"JSON is nested deeper than a config can be"};
    return true;
  };
  try {
    return json::parse(data, data + size, cb);
  } catch (const Problem& p) {
    fail(name, p.what);
  } catch (const json::parse_error& e) {
    fail(name, "not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception& e) {
    fail(name, std::string("not valid JSON (") + e.what() + ")");
  }
}

inline std::int64_t size_field(const json& j, const char* key, const std::string& name, const char* fallback = nullptr) {
  auto it = j.find(key);
  if ((it == j.end() || it->is_null()) && fallback) it = j.find(fallback);
  if (it == j.end() || it->is_null()) fail(name, std::string("field '") + key + "' is missing");
  if (!it->is_number_integer()) fail(name, std::string("field '") + key + "' must be an integer, not " + it->dump());
  const auto v = it->get<std::int64_t>();
  if (v < 1 || v > 0x7fffffff)
    fail(name, std::string("field '") + key + "' = " + std::to_string(v) + " is outside 1..2^31-1");
  return v;
}

// A field that, when present, must have the one value structlm's GPT computes.
inline void require_value(const json& j, const char* key, const json& want, const std::string& name, const char* why) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || *it == want) return;
  fail(name, std::string("field '") + key + "' = " + it->dump() + " cannot be represented: " + why);
}

}  // namespace structlm::formats::detail
