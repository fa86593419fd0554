// llm.c token shards: header magic, version and count against the file size, through the real
// path-based reader (memory-mapped from a memfd). On success every token is read, one at a time
// and in bulk, through a TokenStream of the shard twice (a shard boundary in the middle), and
// the two reads must agree.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "data/shard.h"
#include "fuzz/harness.h"

using namespace structlm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemoryFile file("shard.bin");
  const std::string& path = file.hold(data, size);
  fuzz::expect_clean_error(
      [&] {
        data::Shard shard(path);
        const std::size_t n = shard.size();
        if (std::size_t(1024) + n * std::size_t(shard.bytes_per_token()) != size)
          fuzz::finding("shard token count disagrees with the file size");
        std::vector<std::int64_t> bulk(n);
        shard.read(0, n, bulk.data());
        for (std::size_t i = 0; i < n; ++i)
          if (static_cast<std::int64_t>(shard[i]) != bulk[i]) fuzz::finding("token read two ways differs");

        data::TokenStream stream({path, path});
        if (stream.size() != 2 * n) fuzz::finding("stream size is not the sum of its shards");
        std::vector<std::int64_t> both(2 * n);
        stream.read(0, 2 * n, both.data());
        for (std::size_t i = 0; i < 2 * n; ++i)
          if (both[i] != bulk[i % (n ? n : 1)]) fuzz::finding("stream read across shards differs");
        if (n >= 2) {
          std::vector<std::int64_t> batch(2 * n);
          stream.random_batch(size, 0, 2, static_cast<int>(std::min<std::size_t>(n - 1, 64)), batch.data());
        }
      },
      {&path});
  return 0;
}
