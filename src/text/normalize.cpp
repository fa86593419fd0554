#include "text/normalize.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include "core/error.h"

namespace structlm::text::detail {

std::size_t utf8_char_length(std::string_view s) {
  if (s.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  std::size_t n;
  char32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

namespace {

const icu::Normalizer2& nfc_instance() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFCInstance(status);
    if (U_FAILURE(status) || !p) throw Error(std::string("ICU: no NFC normaliser (") + u_errorName(status) + ")");
    return p;
  }();
  return *n;
}

// Appends NFC(run) for a valid UTF-8 run.
void nfc_run(std::string_view run, std::string& out) {
  UErrorCode status = U_ZERO_ERROR;
  icu::StringByteSink<std::string> sink(&out);
  nfc_instance().normalizeUTF8(0, icu::StringPiece(run.data(), std::int32_t(run.size())), sink, nullptr, status);
  if (U_FAILURE(status)) throw Error(std::string("ICU: NFC failed (") + u_errorName(status) + ")");
}

bool run_is_nfc(std::string_view run) {
  UErrorCode status = U_ZERO_ERROR;
  const bool yes = nfc_instance().isNormalizedUTF8(icu::StringPiece(run.data(), std::int32_t(run.size())), status);
  if (U_FAILURE(status)) throw Error(std::string("ICU: NFC check failed (") + u_errorName(status) + ")");
  return yes;
}

// Calls f(run, valid) over the maximal valid UTF-8 runs and the single invalid bytes of `text`.
// Runs are capped well below ICU's int32 lengths.
template <typename F>
void for_each_run(std::string_view text, F&& f) {
  constexpr std::size_t kMaxRun = std::size_t(1) << 30;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && j - i < kMaxRun) {
      const std::size_t n = utf8_char_length(text.substr(j));
      if (!n) break;
      j += n;
    }
    if (j > i) {
      f(text.substr(i, j - i), true);
      i = j;
    } else {
      f(text.substr(i, 1), false);
      ++i;
    }
  }
}

}  // namespace

bool nfc(std::string_view text, std::string& out) {
  bool normalized = true;
  for_each_run(text, [&](std::string_view run, bool valid) {
    if (normalized && valid && !run_is_nfc(run)) normalized = false;
  });
  if (normalized) return false;
  std::string result;
  result.reserve(text.size() + 16);
  for_each_run(text, [&](std::string_view run, bool valid) {
    if (valid) nfc_run(run, result);
    else result += run;
  });
  out = std::move(result);
  return true;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  for (std::size_t at; (at = text.find(from, i)) != std::string_view::npos; i = at + from.size()) {
    out.append(text, i, at - i);
    out += to;
  }
  out.append(text, i, std::string_view::npos);
  return out;
}

bool normalize(std::string_view text, const std::vector<NormalizerStep>& steps, std::string& out) {
  std::string cur;
  bool changed = false;
  auto now = [&]() -> std::string_view { return changed ? std::string_view(cur) : text; };
  for (const NormalizerStep& s : steps) {
    switch (s.kind) {
      case NormalizerStep::kNfc: {
        std::string next;
        if (nfc(now(), next)) cur = std::move(next), changed = true;
        break;
      }
      case NormalizerStep::kPrepend:
        if (!now().empty() && !s.a.empty()) {
          std::string next = s.a;
          next += now();
          cur = std::move(next);
          changed = true;
        }
        break;
      case NormalizerStep::kReplace:
        if (now().find(s.a) != std::string_view::npos) {
          cur = replace_all(now(), s.a, s.b);
          changed = true;
        }
        break;
    }
  }
  if (changed) out = std::move(cur);
  return changed;
}

}  // namespace structlm::text::detail
