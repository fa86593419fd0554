// Writing safetensors: a compact JSON header (metadata first, then tensors in the order added)
// padded with spaces so the data section starts 8-byte aligned, then the tensors back to back.
// Back to back because Hugging Face's reader rejects gaps between tensors; so only the first
// tensor is guaranteed 8-byte aligned, and readers should not assume more.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "formats/safetensors.h"
#include "formats/safetensors_checks.h"

namespace structlm::formats {

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<std::int64_t> shape, const void* data,
                            std::size_t nbytes) {
  const std::string where = "safetensors tensor '" + name + "'";
  if (name == "__metadata__") fail(where, "the name is reserved by the format");
  for (const auto& e : entries_)
    if (e.name == name) fail(where, "added twice");
  std::uint64_t need = 0;
  if (!detail::tensor_bytes(dtype, shape, need))
    fail(where, "shape " + detail::shape_string(shape) + " has a negative dimension or overflows");
  if (need != nbytes)
    fail(where, "shape " + detail::shape_string(shape) + " of " + dtype_name(dtype) + " needs " + std::to_string(need) +
                    " bytes, got " + std::to_string(nbytes));
  const auto* p = static_cast<const std::uint8_t*>(data);
  entries_.push_back({name, dtype, std::move(shape), std::vector<std::uint8_t>(p, p + nbytes)});
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

void SafetensorsWriter::write(const std::string& path) const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", dtype_name(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::exception& e) {
    fail(path, std::string("tensor names and metadata must be valid UTF-8 (") + e.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > detail::kMaxHeaderBytes) fail(path, "header would exceed the 100 MB limit readers accept");
  write_file_atomic(path, [&](std::ostream& out) {
    std::uint64_t n = text.size();
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out.write(len, 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& e : entries_)
      out.write(reinterpret_cast<const char*>(e.bytes.data()), static_cast<std::streamsize>(e.bytes.size()));
  });
}

}  // namespace structlm::formats
