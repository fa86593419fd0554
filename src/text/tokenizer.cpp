// Tokenizer's plumbing: construction, the derived tables, and the accessors.
#include <atomic>

#include "core/error.h"
#include "text/byte_alphabet.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

void Tokenizer::Impl::finish() {
  static std::atomic<std::uint64_t> next_instance{1};
  instance = next_instance++;

  bytes.assign(strings.size(), std::string());
  for (std::size_t id = 0; id < strings.size(); ++id) {
    if (id < special.size() && special[id]) {
      bytes[id] = strings[id];  // a special token decodes to its own text
      continue;
    }
    if (!detail::token_string_to_bytes(strings[id], bytes[id]))
      throw Error("tokenizer: token " + std::to_string(id) + " is outside the byte alphabet");
  }
  whole_ids.clear();
  if (ignore_merges)
    for (std::size_t id = 0; id < strings.size(); ++id)
      if (id >= special.size() || !special[id]) whole_ids.emplace(bytes[id], TokenId(id));
  const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    auto it = ids.find(alphabet.utf8[b]);
    if (it == ids.end())
      throw Error("tokenizer: no token for byte " + std::to_string(b));
    byte_ids[b] = it->second;
  }
  merge_table.reserve(merge_ids.size());
  for (std::size_t rank = 0; rank < merge_ids.size(); ++rank) {
    const auto& m = merge_ids[rank];
    merge_table.insert(m[0], m[1], {std::uint32_t(rank), m[2]});
  }
}

namespace {
void check_id(TokenId id, std::size_t n, const char* what) {
  if (id >= n)
    fail(what, "token id " + std::to_string(id) + " is out of range (vocabulary of " +
                   std::to_string(n) + ")");
}
}  // namespace

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
  std::size_t total = 0;
  for (TokenId id : ids) {
    check_id(id, impl_->bytes.size(), "decode");
    total += impl_->bytes[id].size();
  }
  std::string out;
  out.reserve(total);
  for (TokenId id : ids) out += impl_->bytes[id];
  return out;
}

std::string Tokenizer::token_bytes(TokenId id) const {
  check_id(id, impl_->bytes.size(), "token_bytes");
  return impl_->bytes[id];
}

std::string Tokenizer::token_string(TokenId id) const {
  check_id(id, impl_->strings.size(), "token_string");
  return impl_->strings[id];
}

std::size_t Tokenizer::vocab_size() const { return impl_->strings.size(); }
TokenId Tokenizer::eot() const { return impl_->eot; }
const std::vector<std::pair<std::string, std::string>>& Tokenizer::merges() const {
  return impl_->merges;
}

}  // namespace structlm::text
