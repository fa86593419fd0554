// Raw logs as JSON Lines, read with errors that name the file and the line ("PATH:LINE: ...").
#pragma once
#include <string>
#include <vector>

#include "core/json.h"

namespace structlm::report {

struct JsonLine {
  json value;
  std::string where;  // "PATH:LINE", for error messages about this record
};

// Every non-blank line must be a JSON object.
std::vector<JsonLine> read_jsonl(const std::string& path);

// Required fields of one record (or of a JSON object read from a file): a missing field or a
// wrong type fails with `where` and the field's name.
double number_field(const json& j, const char* key, const std::string& where);
std::string string_field(const json& j, const char* key, const std::string& where);
// Optional numeric field: `fallback` when absent or null, an error when present with another type.
double optional_number(const json& j, const char* key, double fallback, const std::string& where);
long long integer_field(const json& j, const char* key, const std::string& where);
// A seed is an integer; absent means "one unnamed seed" (0).
long long seed_field(const json& j, const std::string& where);

}  // namespace structlm::report
