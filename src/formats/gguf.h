// GGUF (llama.cpp's model file, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), the
// byte level only: no torch, no model knowledge. Layout (little-endian):
//   "GGUF", uint32 version (2 or 3), uint64 tensor count, uint64 metadata count,
//   metadata: (string key, uint32 value type, value)*, strings are uint64 length + bytes,
//             arrays are uint32 element type + uint64 count + elements (no nested arrays here),
//   tensor infos: (string name, uint32 n_dims, uint64 ne[n_dims], uint32 ggml type,
//                  uint64 offset relative to the data section)*,
//   padding to `general.alignment` (32 unless the metadata says otherwise), tensor data.
// ne[0] is the innermost (contiguous) dimension, so a row-major [rows, cols] matrix has
// ne = (cols, rows).
//
// parse_gguf treats the bytes as hostile: every count, length, dimension, offset and type is
// checked against the bytes that remain before anything is allocated or read, and every error
// names the file and the field (key, tensor) that is wrong. It is the entry point for fuzzing.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace structlm::formats {

enum class GgufValueType : std::uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufValueType t);

// Tensor element types this project reads and writes (ggml.h numbering). Quantized types are
// rejected by the parser with the type's number, never misread.
enum class GgmlType : std::uint32_t { F32 = 0, F16 = 1, BF16 = 30 };
const char* ggml_type_name(GgmlType t);
std::size_t ggml_type_size(GgmlType t);  // bytes per element

// One metadata value. Scalars: integers in `i` (unsigned 64-bit values above INT64_MAX are kept
// in `u` only), floats in `f`, bools in `b`, strings in `s`. Arrays: `elem` is the element type
// and the elements are in `strings` (STRING), `floats` (F32, F64) or `ints` (integers, BOOL).
struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  GgufValueType elem = GgufValueType::U8;  // ARRAY only
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double f = 0;
  bool b = false;
  std::string s;
  std::vector<std::string> strings;
  std::vector<double> floats;
  std::vector<std::int64_t> ints;
  bool is_integer() const;  // U8..I64, scalar
};

struct GgufTensorInfo {
  std::string name;
  std::vector<std::uint64_t> ne;  // ne[0] innermost; 1..4 dimensions
  GgmlType type = GgmlType::F32;
  std::uint64_t offset = 0;       // from the start of the data section
  std::uint64_t numel = 0;
  std::uint64_t nbytes = 0;
};

struct GgufFile {
  std::string name;  // the file, for error messages
  std::uint32_t version = 3;
  std::uint64_t alignment = 32;
  std::uint64_t data_offset = 0;  // absolute offset of the data section in the bytes
  std::vector<std::pair<std::string, GgufValue>> metadata;  // file order, keys unique
  std::vector<GgufTensorInfo> tensors;                      // file order, names unique

  const GgufValue* find(const std::string& key) const;          // nullptr if absent
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // Typed access; errors name the file and the key (absent, wrong type, out of range).
  std::uint64_t get_uint(const std::string& key) const;  // any integer type, value >= 0
  double get_float(const std::string& key) const;        // F32 or F64
  const std::string& get_string(const std::string& key) const;
  const std::vector<std::string>& get_string_array(const std::string& key) const;
  const std::vector<std::int64_t>& get_int_array(const std::string& key) const;
  const std::vector<double>& get_float_array(const std::string& key) const;  // F32 or F64 elements
  bool get_bool(const std::string& key) const;
};

// Parses and validates the whole file held in `data` (`size` bytes). Tensor bytes are then at
// data + file.data_offset + tensor.offset, inside the buffer (checked), aligned to
// file.alignment relative to the data section.
GgufFile parse_gguf(const std::uint8_t* data, std::size_t size, const std::string& name);

// Builds a GGUF v3 file: metadata in the order added, then tensors in the order added, each at
// an offset aligned to `alignment` (written first, as general.alignment).
class GgufWriter {
 public:
  explicit GgufWriter(std::uint32_t alignment = 32);
  void add_string(const std::string& key, const std::string& value);
  void add_u32(const std::string& key, std::uint32_t value);
  void add_f32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_string_array(const std::string& key, const std::vector<std::string>& values);
  void add_i32_array(const std::string& key, const std::vector<std::int32_t>& values);
  void add_f32_array(const std::string& key, const std::vector<float>& values);
  // `ne` innermost first; `nbytes` must equal the element count times the type's size.
  void add_tensor(const std::string& name, GgmlType type, const std::vector<std::uint64_t>& ne,
                  const void* data, std::size_t nbytes);
  std::string bytes() const;                  // the whole file
  void write(const std::string& path) const;  // atomic

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<std::uint64_t> ne;
    std::string bytes;
  };
  std::uint32_t alignment_;
  std::uint64_t kv_count_ = 0;
  std::string kv_;  // serialized metadata entries
  std::vector<Tensor> tensors_;
};

}  // namespace structlm::formats
