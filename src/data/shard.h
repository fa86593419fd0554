// Token shards in llm.c's format: a 256 x int32 header (magic, version, token count; the rest 0),
// then the tokens, little-endian. As llm.c's dev/data/data_common.py writes them: uint16 tokens
// are magic 20240520 version 1 (its "gpt-2" format), uint32 tokens are magic 20240801 version 7
// (its "llama-3" format), used when the vocabulary exceeds 65536. The count is an int32, so a
// shard holds fewer than 2^31 tokens. Read through a memory map, so a training run never loads a
// corpus into memory.
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/io.h"

namespace structlm::data {

constexpr std::int32_t kShardMagic = 20240520;     // uint16 tokens
constexpr std::int32_t kShardVersion = 1;
constexpr std::int32_t kShardMagicU32 = 20240801;  // uint32 tokens
constexpr std::int32_t kShardVersionU32 = 7;
constexpr std::size_t kShardHeaderInts = 256;

// A shard written a piece at a time, for corpora larger than memory: tokens go to PATH.tmp.<pid>
// as they come, and finish() writes the header's count, fsyncs and renames the file into place.
// A writer destroyed unfinished (an error, an interrupt) removes its temp file: PATH is either
// the old shard or the whole new one.
class ShardWriter {
 public:
  ShardWriter(std::string path, std::size_t vocab_size);  // uint16 tokens when vocab_size <= 65536
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;
  void append(const std::uint32_t* tokens, std::size_t n);  // ids checked against vocab_size
  std::size_t size() const { return count_; }
  void finish();

 private:
  std::string path_, tmp_;
  std::size_t vocab_size_, count_ = 0;
  std::ofstream out_;
  std::vector<std::uint16_t> buf_;
  bool finished_ = false;
};

// Atomic write; picks uint16 when every id fits (vocab_size <= 65536), else uint32.
void write_shard(const std::string& path, const std::vector<std::uint32_t>& tokens, std::size_t vocab_size);

class Shard {
 public:
  explicit Shard(const std::string& path);  // validates magic, version, count vs file size
  std::size_t size() const { return count_; }
  std::uint32_t operator[](std::size_t i) const;
  // Copies tokens [start, start + n) into out as int64 (what torch embeddings take).
  void read(std::size_t start, std::size_t n, std::int64_t* out) const;
  int bytes_per_token() const { return width_; }
  std::uint32_t max_id() const;  // the largest token id (0 for an empty shard); scans the file
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  std::size_t count_ = 0;
  int width_ = 2;
};

// Training batches: B windows of T+1 tokens at offsets drawn from a stream that depends only on
// (seed, step), so a resumed run sees exactly the batches an uninterrupted one would.
// Sequential windows for evaluation.
class TokenStream {
 public:
  explicit TokenStream(const std::vector<std::string>& shard_paths);
  std::size_t size() const;  // total tokens
  // out: B * (T + 1) tokens, row-major. Throws if the data has fewer than T + 1 tokens. limit > 0:
  // windows only inside the first `limit` tokens (the same draws as an unlimited call on a stream
  // of that many tokens); 0, or a limit past the end: the whole stream.
  void random_batch(std::uint64_t seed, std::int64_t step, int B, int T, std::int64_t* out,
                    std::size_t limit = 0) const;
  // Tokens [start, start + n) across shard boundaries.
  void read(std::size_t start, std::size_t n, std::int64_t* out) const;
  // Every id below `vocab_size`, else an Error naming the shard, the id and `what` (e.g. "the
  // model's vocabulary"): a model meeting shards of another tokenizer fails here, clearly, rather
  // than inside an embedding lookup.
  void check_ids_below(std::size_t vocab_size, const std::string& what) const;

 private:
  std::vector<Shard> shards_;
  std::vector<std::size_t> offsets_;  // prefix sums of shard sizes
};

// The windows every evaluation pass uses, batched: window w starts at token w*T of the first n
// tokens and covers len + extra tokens, len = min(T, n - w*T). With extra = 1 a window's last
// token is the next window's first, so the targets of consecutive windows tile tokens 1 .. n
// exactly once; with extra = 0 the windows tile tokens 0 .. n - 1. `fn` gets up to batch_size
// windows of one length at a time (the full ones, then the ragged last one alone), row-major
// [rows, len + extra]. The stream must hold n + extra tokens.
using WindowBatchFn = std::function<void(std::int64_t rows, std::int64_t len, const std::vector<std::int64_t>& tokens)>;
void for_each_window_batch(const TokenStream& stream, std::size_t n, std::int64_t T, int batch_size, int extra,
                           const WindowBatchFn& fn);

}  // namespace structlm::data
