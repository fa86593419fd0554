// safetensors: the 8-byte header length, the JSON header and every tensor entry, through the
// in-memory entry point SafetensorsReader uses. On success, every promise the layout makes is
// checked against the bytes: each tensor lies inside the buffer (ASan sees a read past the
// fuzzer's exactly-sized allocation), spans shape x dtype bytes, and overlaps no other tensor.
#include <algorithm>
#include <cstdint>
#include <string>

#include "formats/safetensors.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "input.safetensors";
  fuzz::expect_clean_error(
      [&] {
        formats::SafetensorsLayout layout = formats::parse_safetensors(data, size, name);
        if (layout.data_start > size) fuzz::finding("data section starts past the end");
        std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
        for (const formats::TensorInfo& t : layout.tensors) {
          if (t.begin > t.end || t.end > size - layout.data_start) fuzz::finding("tensor '" + t.name + "' outside the data");
          if (t.numel() * formats::dtype_size(t.dtype) != t.nbytes())
            fuzz::finding("tensor '" + t.name + "' size disagrees with its shape");
          volatile std::uint8_t sum = 0;  // touch every byte the caller would read
          for (std::uint64_t i = t.begin; i < t.end; ++i) sum = sum + data[layout.data_start + i];
          if (t.end > t.begin) spans.emplace_back(t.begin, t.end);
        }
        std::sort(spans.begin(), spans.end());
        for (std::size_t i = 1; i < spans.size(); ++i)
          if (spans[i].first < spans[i - 1].second) fuzz::finding("tensors overlap");
      },
      {&name});
  return 0;
}
