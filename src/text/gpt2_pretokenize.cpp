#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/gpt2_pretokenize.h"

#include <pcre2.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.h"

namespace structlm::text::detail {

namespace {

// GPT-2's pattern, verbatim (encoder.py). With PCRE2_UCP, \s, \p{L} and \p{N} are Unicode-aware
// as in Python's `regex` module; PCRE2_MATCH_INVALID_UTF lets arbitrary bytes through without
// an up-front UTF check (invalid sequences simply never match).
constexpr char kPattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

Pattern::Pattern(const std::string& regex) {
  int err = 0;
  PCRE2_SIZE at = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &at, nullptr);
  if (!code_)
    throw Error("pre-tokenizer regex: PCRE2 cannot compile it at offset " + std::to_string(at) + ": " +
                pcre2_message(err));
  // Without JIT (a PCRE2 built without it) matching still works, only slower.
  jit_ = pcre2_jit_compile(static_cast<pcre2_code*>(code_), PCRE2_JIT_COMPLETE) == 0;
}

Pattern::~Pattern() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

const Pattern* Pattern::get(const std::string& regex) {
  // Compiled once per distinct pattern and kept for the process: tokenizers are few, and a
  // pattern outliving every tokenizer that used it costs a few KB.
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Pattern>> compiled;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = compiled[regex];
  if (!slot) slot = std::make_unique<Pattern>(regex);
  return slot.get();
}

const Pattern* Pattern::gpt2() {
  static const Pattern* p = get(kPattern);
  return p;
}

namespace {

// Match data and JIT stack are per thread: compiled patterns are shared read-only, so encode()
// can run on many threads at once without locks. The match data has room for a few groups;
// only the whole match (pair 0) is read, and a pattern with more groups still fills it.
struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchState() {
    data = pcre2_match_data_create(8, nullptr);
    context = pcre2_match_context_create(nullptr);
    // The default 32 KiB JIT stack is plenty for these patterns; the larger ceiling is insurance
    // for pathological inputs rather than an expected cost (it grows only on demand).
    stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (!data || !context || !stack) throw Error("pre-tokenizer regex: out of memory for PCRE2 match state");
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

ThreadMatchState& thread_match_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

bool PreTokenizer::next(std::string_view& piece) {
  if (pending_) {
    pending_ = false;
    piece = text_.substr(pending_begin_, pending_end_ - pending_begin_);
    pos_ = pending_end_;
    return true;
  }
  if (pos_ >= text_.size()) return false;

  const Pattern& p = pattern_ ? *pattern_ : *Pattern::gpt2();
  auto* code = static_cast<const pcre2_code*>(p.code());
  ThreadMatchState& st = thread_match_state();
  auto subject = reinterpret_cast<PCRE2_SPTR>(text_.data());
  int rc = p.jit() ? pcre2_jit_match(code, subject, text_.size(), pos_, 0, st.data, st.context)
                   : pcre2_match(code, subject, text_.size(), pos_, 0, st.data, st.context);
  if (rc == PCRE2_ERROR_NOMATCH) {  // only invalid UTF-8 is left
    piece = text_.substr(pos_);
    pos_ = text_.size();
    return true;
  }
  if (rc < 0) throw Error("pre-tokenizer regex: PCRE2 match failed: " + pcre2_message(rc));

  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
  std::size_t begin = ov[0], end = ov[1];
  if (end <= begin) end = begin + 1;  // an empty match (a pattern that allows one): never loop
  if (begin > pos_) {                 // invalid bytes before the match: a piece of their own
    piece = text_.substr(pos_, begin - pos_);
    pending_ = true;
    pending_begin_ = begin;
    pending_end_ = end;
    pos_ = begin;
    return true;
  }
  piece = text_.substr(begin, end - begin);
  pos_ = end;
  return true;
}

}  // namespace structlm::text::detail
