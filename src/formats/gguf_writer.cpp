// GGUF v3 writing (layout in gguf.h). The writer is only fed by our own exporters, but it still
// refuses what a reader would reject (bad sizes, long names), so it never writes a broken file.
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "formats/byte_cursor.h"
#include "formats/gguf.h"

namespace structlm::formats {

using detail::put;

namespace {

void put_string(std::string& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  out += s;
}

void put_key(std::string& out, const std::string& key, GgufValueType t) {
  put_string(out, key);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(t));
}

std::uint64_t align_up(std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter(std::uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw Error("GGUF writer: alignment " + std::to_string(alignment) + " is not a power of two");
  add_u32("general.alignment", alignment);  // 32 is the default; written anyway, so readers need not know
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  put_key(kv_, key, GgufValueType::STRING);
  put_string(kv_, value);
  ++kv_count_;
}

void GgufWriter::add_u32(const std::string& key, std::uint32_t value) {
  put_key(kv_, key, GgufValueType::U32);
  put(kv_, value);
  ++kv_count_;
}

void GgufWriter::add_f32(const std::string& key, float value) {
  put_key(kv_, key, GgufValueType::F32);
  put(kv_, value);
  ++kv_count_;
}

void GgufWriter::add_bool(const std::string& key, bool value) {
  put_key(kv_, key, GgufValueType::BOOL);
  put<std::uint8_t>(kv_, value ? 1 : 0);
  ++kv_count_;
}

void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& values) {
  put_key(kv_, key, GgufValueType::ARRAY);
  put<std::uint32_t>(kv_, static_cast<std::uint32_t>(GgufValueType::STRING));
  put<std::uint64_t>(kv_, values.size());
  for (const auto& s : values) put_string(kv_, s);
  ++kv_count_;
}

void GgufWriter::add_i32_array(const std::string& key, const std::vector<std::int32_t>& values) {
  put_key(kv_, key, GgufValueType::ARRAY);
  put<std::uint32_t>(kv_, static_cast<std::uint32_t>(GgufValueType::I32));
  put<std::uint64_t>(kv_, values.size());
  for (auto v : values) put(kv_, v);
  ++kv_count_;
}

void GgufWriter::add_f32_array(const std::string& key, const std::vector<float>& values) {
  put_key(kv_, key, GgufValueType::ARRAY);
  put<std::uint32_t>(kv_, static_cast<std::uint32_t>(GgufValueType::F32));
  put<std::uint64_t>(kv_, values.size());
  for (auto v : values) put(kv_, v);
  ++kv_count_;
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<std::uint64_t>& ne,
                            const void* data, std::size_t nbytes) {
  const std::string where = "GGUF tensor '" + name + "'";
  if (name.empty() || name.size() > 63) throw Error(where + ": names must have 1..63 bytes (llama.cpp's limit)");
  if (ne.empty() || ne.size() > 4) throw Error(where + ": 1..4 dimensions");
  std::uint64_t n = ggml_type_size(type);
  for (auto d : ne)
    if (d == 0 || !detail::mul_ok(n, d, n)) throw Error(where + ": bad dimension");
  if (n != nbytes) throw Error(where + ": " + std::to_string(nbytes) + " bytes for " + std::to_string(n) + " expected");
  tensors_.push_back({name, type, ne, std::string(static_cast<const char*>(data), nbytes)});
}

std::string GgufWriter::bytes() const {
  std::string out = "GGUF";
  put<std::uint32_t>(out, 3);
  put<std::uint64_t>(out, tensors_.size());
  put<std::uint64_t>(out, kv_count_);
  out += kv_;
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.ne.size()));
    for (auto d : t.ne) put<std::uint64_t>(out, d);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.type));
    put<std::uint64_t>(out, offset);
    offset = align_up(offset + t.bytes.size(), alignment_);
  }
  out.resize(align_up(out.size(), alignment_), '\0');
  for (const auto& t : tensors_) {
    out += t.bytes;
    out.resize(align_up(out.size(), alignment_), '\0');  // padding between tensors, as llama.cpp writes
  }
  return out;
}

void GgufWriter::write(const std::string& path) const { write_file_atomic(path, bytes()); }

}  // namespace structlm::formats
