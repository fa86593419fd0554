// safetensors (https://huggingface.co/docs/safetensors): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then raw
// little-endian tensor bytes. Plain data, no torch: model code converts to and from tensors.
// The reader treats the file as untrusted: sizes, offsets, overlaps, dtypes and shape products
// are checked before anything is read, and errors name the file and the field.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io.h"

namespace structlm::formats {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
const char* dtype_name(DType d);          // "F32", ...
std::size_t dtype_size(DType d);          // bytes per element
bool parse_dtype(const std::string& s, DType& out);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
  std::uint64_t numel() const;
  std::uint64_t nbytes() const { return end - begin; }
};

// What a safetensors file holds, parsed and checked from bytes in memory (`name` is what errors
// call them: the file's path, or "<archive>:member"). Tensor data starts at data_start.
struct SafetensorsLayout {
  std::uint64_t data_start = 0;
  std::vector<TensorInfo> tensors;  // file order
  std::map<std::string, std::string> metadata;
};
SafetensorsLayout parse_safetensors(const std::uint8_t* bytes, std::size_t size, const std::string& name);

class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);  // memory-maps the file
  const std::vector<TensorInfo>& tensors() const { return layout_.tensors; }  // file order
  const TensorInfo* find(const std::string& name) const;  // nullptr if absent
  const TensorInfo& get(const std::string& name) const;   // error naming file + tensor if absent
  const std::uint8_t* data(const TensorInfo& t) const;
  const std::map<std::string, std::string>& metadata() const { return layout_.metadata; }
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  SafetensorsLayout layout_;
};

class SafetensorsWriter {
 public:
  // Copies the bytes; tensors are written in the order added, 8-byte aligned (header padded).
  void add(const std::string& name, DType dtype, std::vector<std::int64_t> shape, const void* data,
           std::size_t nbytes);
  void set_metadata(const std::string& key, const std::string& value);
  void write(const std::string& path) const;  // atomic (temp + rename)

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace structlm::formats
