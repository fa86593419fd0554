// structlm info: what a checkpoint holds, without loading it into a model.
#include <cstdio>

#include "cli/commands.h"
#include "formats/safetensors.h"

namespace structlm::cli {

void add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a checkpoint's config, metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto tensors = std::make_shared<bool>(false);
  cmd->add_option("checkpoint", *path, "A .safetensors file")->required();
  cmd->add_flag("--tensors", *tensors, "List every tensor");
  cmd->callback([=] {
    formats::SafetensorsReader r(*path);
    std::uint64_t params = 0, bytes = 0, n = 0;
    for (const auto& t : r.tensors()) {
      bytes += t.nbytes();
      ++n;
      if (t.name.rfind("optim.", 0) != 0) params += t.numel();
      if (*tensors) {
        std::printf("%-48s %-5s [", t.name.c_str(), formats::dtype_name(t.dtype));
        for (std::size_t i = 0; i < t.shape.size(); ++i) std::printf(i ? ", %lld" : "%lld", (long long)t.shape[i]);
        std::printf("]\n");
      }
    }
    for (const auto& kv : r.metadata()) std::printf("%s: %s\n", kv.first.c_str(), kv.second.c_str());
    std::printf("%llu tensors, %llu model values (optimizer state excluded), %.1f MB\n", (unsigned long long)n,
                (unsigned long long)params, bytes / 1e6);
  });
}

}  // namespace structlm::cli
