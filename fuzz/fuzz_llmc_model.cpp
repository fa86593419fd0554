// llm.c model checkpoints: the 256 x int32 header (magic, version, sizes) against the file size,
// through parse_llmc_model. A header it accepts must be consistent with the bytes (header plus
// every parameter, nothing more) and survive llmc_model_header_bytes: the rewritten header with
// the same parameters parses to the same sizes.
#include <cstdint>
#include <cstring>
#include <string>

#include "formats/llmc.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "input_model.bin";
  fuzz::expect_clean_error(
      [&] {
        const formats::LlmcModelHeader h = formats::parse_llmc_model(data, size, name);
        std::uint64_t params = 0;
        for (std::uint64_t n : formats::llmc_param_counts(h)) params += n;
        if (formats::kLlmcHeaderBytes + params * h.bytes_per_param() != size)
          fuzz::finding("accepted a model whose size is not header + parameters");
        const auto shapes = formats::llmc_param_shapes(h);
        const auto counts = formats::llmc_param_counts(h);
        for (int i = 0; i < formats::kLlmcParamTensors; ++i) {
          std::uint64_t n = 1;
          for (std::int64_t d : shapes[i]) n *= static_cast<std::uint64_t>(d);
          if (n != counts[i]) fuzz::finding(std::string("shape and count differ for ") + formats::llmc_param_name(i));
        }
        std::string again = formats::llmc_model_header_bytes(h);
        if (again.size() != formats::kLlmcHeaderBytes) fuzz::finding("header bytes are not 1024 bytes");
        again.append(reinterpret_cast<const char*>(data) + formats::kLlmcHeaderBytes, size - formats::kLlmcHeaderBytes);
        const formats::LlmcModelHeader h2 =
            formats::parse_llmc_model(reinterpret_cast<const std::uint8_t*>(again.data()), again.size(), name);
        if (std::memcmp(&h, &h2, sizeof h) != 0) fuzz::finding("header changes when written and read again");
      },
      {&name});
  return 0;
}
