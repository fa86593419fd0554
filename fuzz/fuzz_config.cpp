// Run configs (config.json: model, train and data sections), through the real loader: JSON
// parsing (core/json), unknown keys, types and ranges (train/config.cpp, model/config.cpp, both
// compiled into this target: they hold no torch but live in torch libraries). A config that
// loads must survive its own round trip: from_json(to_json(c)) gives the same JSON, and the
// learning-rate schedule it defines is finite and never above lr.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/harness.h"
#include "train/config.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemoryFile file("config.json");
  const std::string& path = file.hold(data, size);
  fuzz::expect_clean_error(
      [&] {
        const train::RunConfig c = train::RunConfig::load(path);
        const json once = c.to_json();
        try {
          if (train::RunConfig::from_json(once, "round trip").to_json() != once)
            fuzz::finding("config changes on a to_json/from_json round trip: " + once.dump());
        } catch (const Error& e) {
          fuzz::finding(std::string("a loaded config does not load again: ") + e.what());
        }
        const train::TrainConfig& t = c.train;
        // Training calls lr_at for steps in [0, max_steps).
        for (std::int64_t s : {std::int64_t(0), t.warmup_steps, t.max_steps / 2, t.max_steps - 1}) {
          const std::int64_t step = std::min(s, t.max_steps - 1);
          const double lr = train::lr_at(t, step);
          if (!std::isfinite(lr) || lr > t.lr * (1 + 1e-12) || lr < 0)
            fuzz::finding("lr_at(" + std::to_string(step) + ") = " + std::to_string(lr) + " for " + once.dump());
        }
      },
      {&path});
  return 0;
}
