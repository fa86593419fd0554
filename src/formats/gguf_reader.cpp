// GGUF parsing with every size checked before it is trusted (see gguf.h for the layout).
#include <algorithm>
#include <map>
#include <set>

#include "formats/byte_cursor.h"
#include "formats/gguf.h"

namespace structlm::formats {

using detail::ByteCursor;

namespace {

constexpr std::uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
constexpr std::uint64_t kMaxKeyBytes = 65535;     // the GGUF spec's limit on key length
constexpr std::uint64_t kMaxTensorName = 63;      // GGML_MAX_NAME - 1 (llama.cpp rejects longer)
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;  // empty key, type, smallest value
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one ne, type, offset

bool valid_type(std::uint32_t t) { return t <= static_cast<std::uint32_t>(GgufValueType::F64); }

// Smallest number of bytes one element of this type takes (strings: their length field).
std::uint64_t min_bytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: case GgufValueType::STRING: return 8;
    case GgufValueType::ARRAY: return 4 + 8;
  }
  return 1;
}

std::string read_string(ByteCursor& c, const std::string& field, std::uint64_t max_len = ~0ULL) {
  const auto n = c.read<std::uint64_t>(field + " (string length)");
  if (n > max_len) fail(c.name(), field + ": string length " + std::to_string(n) + " exceeds the limit of " +
                                       std::to_string(max_len));
  if (n > c.remaining())
    fail(c.name(), field + ": string length " + std::to_string(n) + " runs past the end of the file (" +
                       std::to_string(c.remaining()) + " bytes left)");
  return c.read_bytes(n, field);
}

// A scalar of type t (not ARRAY, not STRING) into v's fields.
void read_scalar(ByteCursor& c, GgufValueType t, const std::string& field, GgufValue& v) {
  switch (t) {
    case GgufValueType::U8: v.i = c.read<std::uint8_t>(field); break;
    case GgufValueType::I8: v.i = c.read<std::int8_t>(field); break;
    case GgufValueType::U16: v.i = c.read<std::uint16_t>(field); break;
    case GgufValueType::I16: v.i = c.read<std::int16_t>(field); break;
    case GgufValueType::U32: v.i = c.read<std::uint32_t>(field); break;
    case GgufValueType::I32: v.i = c.read<std::int32_t>(field); break;
    case GgufValueType::I64: v.i = c.read<std::int64_t>(field); break;
    case GgufValueType::U64: v.u = c.read<std::uint64_t>(field); v.i = static_cast<std::int64_t>(v.u); break;
    case GgufValueType::F32: v.f = c.read<float>(field); break;
    case GgufValueType::F64: v.f = c.read<double>(field); break;
    case GgufValueType::BOOL: {
      const auto b = c.read<std::uint8_t>(field);
      if (b > 1) fail(c.name(), field + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.b = b == 1;
      v.i = b;
      break;
    }
    case GgufValueType::STRING: case GgufValueType::ARRAY: break;  // handled by the caller
  }
  if (t != GgufValueType::U64 && t != GgufValueType::F32 && t != GgufValueType::F64) v.u = static_cast<std::uint64_t>(v.i);
}

GgufValue read_value(ByteCursor& c, const std::string& field) {
  GgufValue v;
  const auto type = c.read<std::uint32_t>(field + " (value type)");
  if (!valid_type(type)) fail(c.name(), field + ": unknown value type " + std::to_string(type));
  v.type = static_cast<GgufValueType>(type);
  if (v.type == GgufValueType::STRING) {
    v.s = read_string(c, field);
  } else if (v.type == GgufValueType::ARRAY) {
    const auto elem = c.read<std::uint32_t>(field + " (array element type)");
    if (!valid_type(elem)) fail(c.name(), field + ": unknown array element type " + std::to_string(elem));
    v.elem = static_cast<GgufValueType>(elem);
    if (v.elem == GgufValueType::ARRAY) fail(c.name(), field + ": nested arrays are not supported");
    const auto n = c.read<std::uint64_t>(field + " (array length)");
    // Each element takes at least min_bytes: a count the remaining bytes cannot hold is a lie,
    // caught before anything is allocated for it.
    if (n > c.remaining() / min_bytes(v.elem))
      fail(c.name(), field + ": array length " + std::to_string(n) + " runs past the end of the file");
    const std::string elem_field = field + " (array element)";
    if (v.elem == GgufValueType::STRING) {
      v.strings.reserve(n);
      for (std::uint64_t k = 0; k < n; ++k) v.strings.push_back(read_string(c, elem_field));
    } else {
      const bool floats = v.elem == GgufValueType::F32 || v.elem == GgufValueType::F64;
      if (floats) v.floats.reserve(n); else v.ints.reserve(n);
      GgufValue e;
      for (std::uint64_t k = 0; k < n; ++k) {
        read_scalar(c, v.elem, elem_field, e);
        if (floats) v.floats.push_back(e.f); else v.ints.push_back(e.i);
      }
    }
  } else {
    read_scalar(c, v.type, field, v);
  }
  return v;
}

bool known_ggml_type(std::uint32_t t) {
  return t == static_cast<std::uint32_t>(GgmlType::F32) || t == static_cast<std::uint32_t>(GgmlType::F16) ||
         t == static_cast<std::uint32_t>(GgmlType::BF16);
}

GgufTensorInfo read_tensor_info(ByteCursor& c, std::size_t index) {
  GgufTensorInfo t;
  t.name = read_string(c, "tensor " + std::to_string(index) + " name", kMaxTensorName);
  const std::string field = "tensor '" + t.name + "'";
  const auto n_dims = c.read<std::uint32_t>(field + " n_dims");
  if (n_dims < 1 || n_dims > kMaxDims)
    fail(c.name(), field + ": n_dims " + std::to_string(n_dims) + " is outside 1.." + std::to_string(kMaxDims));
  t.numel = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    const auto ne = c.read<std::uint64_t>(field + " ne[" + std::to_string(d) + "]");
    if (ne == 0 || ne > static_cast<std::uint64_t>(INT64_MAX))
      fail(c.name(), field + ": dimension ne[" + std::to_string(d) + "] = " + std::to_string(ne) + " is invalid");
    if (!detail::mul_ok(t.numel, ne, t.numel)) fail(c.name(), field + ": element count overflows");
    t.ne.push_back(ne);
  }
  const auto type = c.read<std::uint32_t>(field + " type");
  if (!known_ggml_type(type))
    fail(c.name(), field + ": ggml type " + std::to_string(type) +
                       " is not supported (only F32 = 0, F16 = 1 and BF16 = 30; quantized files cannot be imported)");
  t.type = static_cast<GgmlType>(type);
  if (!detail::mul_ok(t.numel, ggml_type_size(t.type), t.nbytes)) fail(c.name(), field + ": byte size overflows");
  t.offset = c.read<std::uint64_t>(field + " offset");
  return t;
}

}  // namespace

const char* gguf_type_name(GgufValueType t) {
  static const char* names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                "bool", "string", "array", "uint64", "int64", "float64"};
  const auto i = static_cast<std::uint32_t>(t);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

const char* ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::BF16: return "BF16";
  }
  return "?";
}

std::size_t ggml_type_size(GgmlType t) { return t == GgmlType::F32 ? 4 : 2; }

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::U16: case GgufValueType::I16:
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::U64: case GgufValueType::I64: return true;
    default: return false;
  }
}

GgufFile parse_gguf(const std::uint8_t* data, std::size_t size, const std::string& name) {
  ByteCursor c(data, size, name);
  GgufFile f;
  f.name = name;
  if (c.read_bytes(4, "magic") != "GGUF") fail(name, "magic: not a GGUF file (does not start with \"GGUF\")");
  f.version = c.read<std::uint32_t>("version");
  if (f.version != 2 && f.version != 3) {
    if (f.version > 0xffff && (__builtin_bswap32(f.version) == 2 || __builtin_bswap32(f.version) == 3))
      fail(name, "version: this is a big-endian GGUF file, which is not supported");
    fail(name, "version: " + std::to_string(f.version) + " is not supported (2 or 3)");
  }
  const auto n_tensors = c.read<std::uint64_t>("tensor count");
  const auto n_kv = c.read<std::uint64_t>("metadata count");
  if (n_kv > c.remaining() / kMinKvBytes)
    fail(name, "metadata count: " + std::to_string(n_kv) + " entries cannot fit in the " +
                   std::to_string(c.remaining()) + " bytes left");
  if (n_tensors > c.remaining() / kMinTensorInfoBytes)
    fail(name, "tensor count: " + std::to_string(n_tensors) + " tensors cannot fit in the " +
                   std::to_string(c.remaining()) + " bytes left");

  std::set<std::string> keys;
  f.metadata.reserve(n_kv);
  for (std::uint64_t k = 0; k < n_kv; ++k) {
    std::string key = read_string(c, "metadata entry " + std::to_string(k) + " key", kMaxKeyBytes);
    if (!keys.insert(key).second) fail(name, "metadata key '" + key + "' appears twice");
    GgufValue v = read_value(c, "metadata key '" + key + "'");
    f.metadata.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = f.find("general.alignment")) {
    if (a->type != GgufValueType::U32) fail(name, "metadata key 'general.alignment': must be uint32");
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      fail(name, "metadata key 'general.alignment': " + std::to_string(a->u) + " is not a power of two");
    f.alignment = a->u;
  }

  std::set<std::string> names;
  f.tensors.reserve(n_tensors);
  for (std::uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t = read_tensor_info(c, k);
    if (!names.insert(t.name).second) fail(name, "tensor '" + t.name + "' appears twice");
    if (t.offset % f.alignment != 0)
      fail(name, "tensor '" + t.name + "': offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                     std::to_string(f.alignment));
    f.tensors.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment (within the file, unless there
  // are no tensors at all).
  std::uint64_t start = c.pos();
  if (start % f.alignment) start += f.alignment - start % f.alignment;
  if (!f.tensors.empty() && start > size) fail(name, "data section: starts past the end of the file");
  f.data_offset = start;
  const std::uint64_t data_bytes = size > start ? size - start : 0;

  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : f.tensors) {
    std::uint64_t end;
    if (!detail::add_ok(t.offset, t.nbytes, end) || end > data_bytes)
      fail(name, "tensor '" + t.name + "': data [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                     ") runs past the end of the file (data section holds " + std::to_string(data_bytes) + " bytes)");
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (std::size_t k = 1; k < by_offset.size(); ++k)
    if (by_offset[k]->offset < by_offset[k - 1]->offset + by_offset[k - 1]->nbytes)
      fail(name, "tensor '" + by_offset[k]->name + "': data overlaps tensor '" + by_offset[k - 1]->name + "'");
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& kv : metadata)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& tensor) const {
  for (const auto& t : tensors)
    if (t.name == tensor) return &t;
  return nullptr;
}

namespace {
const GgufValue& need_key(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (!v) fail(f.name, "metadata key '" + key + "' is missing");
  return *v;
}
[[noreturn]] void wrong_type(const GgufFile& f, const std::string& key, const GgufValue& v, const char* want) {
  std::string got = gguf_type_name(v.type);
  if (v.type == GgufValueType::ARRAY) got += std::string(" of ") + gguf_type_name(v.elem);
  fail(f.name, "metadata key '" + key + "': expected " + want + ", found " + got);
}
}  // namespace

std::uint64_t GgufFile::get_uint(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (!v.is_integer()) wrong_type(*this, key, v, "an integer");
  if (v.type != GgufValueType::U64 && v.i < 0)
    fail(name, "metadata key '" + key + "': " + std::to_string(v.i) + " is negative");
  return v.u;
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (v.type != GgufValueType::F32 && v.type != GgufValueType::F64) wrong_type(*this, key, v, "a float");
  return v.f;
}

const std::string& GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (v.type != GgufValueType::STRING) wrong_type(*this, key, v, "a string");
  return v.s;
}

const std::vector<std::string>& GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (v.type != GgufValueType::ARRAY || v.elem != GgufValueType::STRING) wrong_type(*this, key, v, "an array of strings");
  return v.strings;
}

const std::vector<std::int64_t>& GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  GgufValue probe;
  probe.type = v.elem;
  if (v.type != GgufValueType::ARRAY || !probe.is_integer()) wrong_type(*this, key, v, "an array of integers");
  return v.ints;
}

const std::vector<double>& GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (v.type != GgufValueType::ARRAY || (v.elem != GgufValueType::F32 && v.elem != GgufValueType::F64))
    wrong_type(*this, key, v, "an array of floats");
  return v.floats;
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = need_key(*this, key);
  if (v.type != GgufValueType::BOOL) wrong_type(*this, key, v, "a bool");
  return v.b;
}

}  // namespace structlm::formats
