// Reading safetensors files as untrusted input: every size, offset and type is checked before a
// byte of tensor data is touched, and every error names the file and the tensor or field.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_checks.h"

namespace structlm::formats {
namespace {

using ojson = nlohmann::ordered_json;  // keeps the file's tensor order

// Thrown from inside the JSON parser's callback; turned into an Error naming the file.
struct HeaderProblem {
  std::string what;
};

ojson parse_header(const std::string& path, const char* begin, const char* end) {
  std::unordered_set<std::string> names;
  // The callback rejects what the format never contains: deep nesting (a 100 MB header of '['
  // must not cost a deep recursion anywhere) and a name given twice (JSON parsers keep one of
  // the two silently, which would hide a tensor).
  auto cb = [&](int depth, ojson::parse_event_t event, ojson& parsed) {
    if (depth > 4) throw HeaderProblem{"header JSON is nested deeper than the format allows"};
    if (event == ojson::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second)
      throw HeaderProblem{"tensor '" + parsed.get<std::string>() + "' appears twice in the header"};
    return true;
  };
  try {
    return ojson::parse(begin, end, cb);
  } catch (const HeaderProblem& p) {
    fail(path, p.what);
  } catch (const ojson::parse_error& e) {
    fail(path, "header is not valid JSON (at byte " + std::to_string(e.byte) + " of the header)");
  } catch (const ojson::exception& e) {
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
}

std::uint64_t read_u64_field(const std::string& path, const std::string& where, const ojson& v) {
  if (!v.is_number_unsigned()) fail(path, where + " must be a non-negative integer, got " + v.dump());
  return v.get<std::uint64_t>();
}

TensorInfo parse_entry(const std::string& path, const std::string& name, const ojson& e, std::uint64_t data_size) {
  const std::string where = "tensor '" + name + "'";
  if (!e.is_object()) fail(path, where + ": expected an object with dtype, shape and data_offsets");
  TensorInfo t;
  t.name = name;

  auto dt = e.find("dtype");
  if (dt == e.end() || !dt->is_string()) fail(path, where + ": field 'dtype' missing or not a string");
  if (!parse_dtype(dt->get<std::string>(), t.dtype))
    fail(path, where + ": unsupported dtype '" + dt->get<std::string>() + "'");

  auto sh = e.find("shape");
  if (sh == e.end() || !sh->is_array()) fail(path, where + ": field 'shape' missing or not an array");
  for (const auto& d : *sh) {
    std::uint64_t v = read_u64_field(path, where + ": field 'shape' entry", d);
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(path, where + ": field 'shape' entry " + std::to_string(v) + " is too large");
    t.shape.push_back(static_cast<std::int64_t>(v));
  }

  auto off = e.find("data_offsets");
  if (off == e.end() || !off->is_array() || off->size() != 2)
    fail(path, where + ": field 'data_offsets' must be [begin, end]");
  t.begin = read_u64_field(path, where + ": field 'data_offsets'", (*off)[0]);
  t.end = read_u64_field(path, where + ": field 'data_offsets'", (*off)[1]);
  const std::string range = "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
  if (t.begin > t.end) fail(path, where + ": field 'data_offsets' " + range + " ends before it begins");
  if (t.end > data_size)
    fail(path, where + ": field 'data_offsets' " + range + " is outside the data section (" +
                   std::to_string(data_size) + " bytes)");

  std::uint64_t need = 0;
  if (!detail::tensor_bytes(t.dtype, t.shape, need))
    fail(path, where + ": field 'shape' " + detail::shape_string(t.shape) + " overflows a 64-bit byte count");
  if (need != t.end - t.begin)
    fail(path, where + ": shape " + detail::shape_string(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                   std::to_string(need) + " bytes but field 'data_offsets' " + range + " spans " +
                   std::to_string(t.end - t.begin));
  return t;
}

}  // namespace

SafetensorsLayout parse_safetensors(const std::uint8_t* bytes, std::size_t size_in, const std::string& path) {
  SafetensorsLayout layout;
  const std::uint64_t size = size_in;
  if (size < 8) fail(path, "truncated: " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];  // little-endian on any host
  if (n > detail::kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(n) + " exceeds the " + std::to_string(detail::kMaxHeaderBytes) +
                   "-byte limit (corrupt, or not a safetensors file)");
  if (n > size - 8)
    fail(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                   " bytes)");
  layout.data_start = 8 + n;
  const std::uint64_t data_size = size - layout.data_start;

  const char* h = reinterpret_cast<const char*>(bytes) + 8;
  ojson header = parse_header(path, h, h + n);
  if (!header.is_object()) fail(path, std::string("header must be a JSON object, got ") + header.type_name());

  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(path, "field '__metadata__' must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(path, "field '__metadata__' entry '" + m.key() + "' is not a string");
        layout.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    layout.tensors.push_back(parse_entry(path, it.key(), *it, data_size));
  }

  // No two tensors may share bytes: a writer never produces that, and an attacker could use it
  // to make one tensor's writes show up in another.
  std::vector<const TensorInfo*> by_begin;
  for (const auto& t : layout.tensors)
    if (t.end > t.begin) by_begin.push_back(&t);
  std::sort(by_begin.begin(), by_begin.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_begin.size(); ++i)
    if (by_begin[i]->begin < by_begin[i - 1]->end)
      fail(path, "tensor '" + by_begin[i]->name + "' overlaps tensor '" + by_begin[i - 1]->name + "' in the data section");
  return layout;
}

SafetensorsReader::SafetensorsReader(const std::string& path)
    : file_(path), layout_(parse_safetensors(file_.data(), file_.size(), path)) {}

const TensorInfo* SafetensorsReader::find(const std::string& name) const {
  for (const auto& t : layout_.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorInfo& SafetensorsReader::get(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) fail(path(), "no tensor named '" + name + "'");
  return *t;
}

const std::uint8_t* SafetensorsReader::data(const TensorInfo& t) const { return file_.data() + layout_.data_start + t.begin; }

}  // namespace structlm::formats
