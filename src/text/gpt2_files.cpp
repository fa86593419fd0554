// GPT-2's two files: encoder.json (token string -> id) and vocab.bpe ("#version: 0.2", then one
// merge "left right" per line in rank order). Our own tokenizers use the same format, so any
// GPT-2 tool can read them. Loading checks everything the encoder relies on and names the file
// and the entry or line when something is wrong.
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "text/byte_alphabet.h"
#include "text/tokenizer_impl.h"

namespace structlm::text {

namespace {

constexpr char kVersionLine[] = "#version: 0.2";
constexpr char kEndOfText[] = "<|endoftext|>";

// A token string quoted for an error message (JSON escapes keep control bytes readable).
std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 60;
  std::string q = json(s.size() > kMax ? s.substr(0, kMax) + "..." : s)
                      .dump(-1, ' ', false, json::error_handler_t::replace);
  return q;
}

}  // namespace

void Tokenizer::Impl::read_encoder_json(const std::string& path) {
  json j = load_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object mapping token strings to ids");
  const std::size_t n = j.size();
  if (n == 0) fail(path, "has no tokens");
  strings.assign(n, std::string());
  ids.reserve(n);
  std::vector<bool> used(n, false);
  std::string scratch;
  for (auto& [token, value] : j.items()) {
    const std::string entry = "entry " + shown(token) + ": ";
    if (!value.is_number_unsigned())
      fail(path, entry + "the id must be a non-negative integer, not " + value.dump());
    const std::uint64_t id = value.get<std::uint64_t>();
    if (id >= n)
      fail(path, entry + "id " + std::to_string(id) + " is out of range: " + std::to_string(n) +
                     " tokens must have the ids 0.." + std::to_string(n - 1));
    if (used[id])
      fail(path, entry + "id " + std::to_string(id) + " is also the id of " +
                     shown(strings[id]));
    if (token.empty() || !detail::token_string_to_bytes(token, scratch))
      fail(path, entry + "not a token string over GPT-2's byte alphabet");
    used[id] = true;
    strings[id] = token;
    ids.emplace(token, TokenId(id));
  }
  const detail::ByteAlphabet& alphabet = detail::byte_alphabet();
  for (int b = 0; b < 256; ++b)
    if (!ids.count(alphabet.utf8[b]))
      fail(path, "no token for byte " + std::to_string(b) + " (" + shown(alphabet.utf8[b]) +
                     "), so some texts could not be encoded");
  auto end_of_text = ids.find(kEndOfText);
  if (end_of_text == ids.end()) fail(path, std::string("no ") + kEndOfText + " token");
  eot = end_of_text->second;
}

// Needs the encoder read first: every merge must name known tokens and make a known one.
void Tokenizer::Impl::read_vocab_bpe(const std::string& path, const std::string& encoder_path) {
  const std::string text = read_file(path);
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();  // a last line without newline still counts
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string at = "line " + std::to_string(line_no) + ": ";
    if (line_no == 1) {
      if (line != kVersionLine)
        fail(path, at + "expected " + shown(kVersionLine) + ", found " + shown(line));
      continue;
    }
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      fail(path, at + "expected two token strings separated by one space, found " + shown(line));
    std::string left = line.substr(0, space), right = line.substr(space + 1);
    auto l = ids.find(left), r = ids.find(right), m = ids.find(left + right);
    for (auto [it, name] : {std::pair{l, &left}, std::pair{r, &right}})
      if (it == ids.end())
        fail(path, at + "unknown token " + shown(*name) + " (not in " + encoder_path + ")");
    if (m == ids.end())
      fail(path, at + "the merge makes " + shown(left + right) + ", which is not in " +
                     encoder_path);
    merge_ids.push_back({l->second, r->second, m->second});
    merges.emplace_back(std::move(left), std::move(right));
  }
  if (line_no == 0) fail(path, std::string("empty file; expected ") + shown(kVersionLine) + " first");
}

Tokenizer Tokenizer::load_gpt2(const std::string& encoder_json, const std::string& vocab_bpe) {
  Tokenizer t;
  t.impl_->read_encoder_json(encoder_json);
  t.impl_->read_vocab_bpe(vocab_bpe, encoder_json);
  t.impl_->finish();
  return t;
}

Tokenizer Tokenizer::load(const std::string& dir) {
  if (!file_exists(dir + "/encoder.json") && file_exists(dir + "/tokenizer.json"))
    return load_hf(dir + "/tokenizer.json");
  return load_gpt2(dir + "/encoder.json", dir + "/vocab.bpe");
}

void Tokenizer::save(const std::string& dir) const {
  // GPT-2's two files hold neither a regex nor special tokens: such a tokenizer stays in its
  // tokenizer.json, which load() reads.
  if (!impl_->special.empty())
    fail(dir, "this tokenizer was read from a tokenizer.json, which GPT-2's files cannot hold: use that file");
  make_dirs(dir);
  // Written by hand rather than through json::dump so the entries stay in id order, as in
  // GPT-2's own file (a json object would sort them by key).
  write_file_atomic(dir + "/encoder.json", [&](std::ostream& os) {
    os << '{';
    for (std::size_t id = 0; id < impl_->strings.size(); ++id)
      os << (id ? ", " : "") << json(impl_->strings[id]).dump() << ": " << id;
    os << '}';
  });
  write_file_atomic(dir + "/vocab.bpe", [&](std::ostream& os) {
    os << kVersionLine << '\n';
    for (const auto& [left, right] : impl_->merges) os << left << ' ' << right << '\n';
  });
}

}  // namespace structlm::text
