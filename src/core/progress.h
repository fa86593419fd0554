// A progress line for long runs: done/total, rate, elapsed and ETA, plus caller-supplied fields
// (loss, tokens/s ...). Redrawn in place on a terminal, printed every `every_s` seconds otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace structlm {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, double every_s = 1.0);
  // Report that `done` units are finished; `fields` is appended as is ("loss 3.21 | 1200 tok/s").
  void update(std::int64_t done, const std::string& fields = "");
  void finish(const std::string& fields = "");
  double elapsed_s() const;

  static std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

 private:
  void draw(std::int64_t done, const std::string& fields, bool final);
  std::string label_;
  std::int64_t total_;
  std::int64_t first_done_ = -1;
  double first_s_ = 0;
  double every_s_;
  double last_draw_s_ = -1e9;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace structlm
