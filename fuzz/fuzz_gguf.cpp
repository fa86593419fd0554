// GGUF: header, metadata (every value type, arrays, strings), tensor infos, alignment and the
// data section, through parse_gguf. On success every tensor's bytes lie inside the buffer (and
// are touched, so ASan sees any read past the fuzzer's exactly-sized allocation), are aligned,
// and span numel x type size; every typed accessor either answers or names the file.
#include <cstdint>
#include <string>

#include "formats/gguf.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "input.gguf";
  fuzz::expect_clean_error(
      [&] {
        const formats::GgufFile f = formats::parse_gguf(data, size, name);
        // Without tensors the data section may start at the padded end, past the last byte.
        if (!f.tensors.empty() && f.data_offset > size) fuzz::finding("data section starts past the end");
        for (const formats::GgufTensorInfo& t : f.tensors) {
          if (t.offset > size - f.data_offset || t.nbytes > size - f.data_offset - t.offset)
            fuzz::finding("tensor '" + t.name + "' outside the data");
          if (f.alignment == 0 || t.offset % f.alignment != 0) fuzz::finding("tensor '" + t.name + "' misaligned");
          if (t.numel * formats::ggml_type_size(t.type) != t.nbytes)
            fuzz::finding("tensor '" + t.name + "' size disagrees with its shape");
          std::uint64_t numel = 1;
          for (std::uint64_t d : t.ne) numel *= d;
          if (numel != t.numel) fuzz::finding("tensor '" + t.name + "' numel is not the product of ne");
          if (f.find_tensor(t.name) == nullptr) fuzz::finding("find_tensor misses '" + t.name + "'");
          volatile std::uint8_t sum = 0;
          const std::uint8_t* p = data + f.data_offset + t.offset;
          for (std::uint64_t i = 0; i < t.nbytes; ++i) sum = sum + p[i];
        }
        // Each accessor on each key: a value of the right type, or an Error naming the file.
        for (const auto& entry : f.metadata) {
          const std::string& key = entry.first;
          const formats::GgufValue& value = entry.second;
          if (f.find(key) != &value && f.find(key)->type != value.type) fuzz::finding("find('" + key + "') differs");
          fuzz::expect_clean_error([&] { f.get_uint(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_float(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_string(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_string_array(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_int_array(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_float_array(key); }, {&name});
          fuzz::expect_clean_error([&] { f.get_bool(key); }, {&name});
        }
      },
      {&name});
  return 0;
}
