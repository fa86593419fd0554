#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace structlm {

Progress::Progress(std::string label, std::int64_t total, double every_s)
    : label_(std::move(label)), total_(total), every_s_(every_s), tty_(::isatty(2)),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::format_duration(double s) {
  char buf[32];
  if (s < 0 || s != s) return "?";
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

void Progress::update(std::int64_t done, const std::string& fields) {
  double now = elapsed_s();
  if (first_done_ < 0) {
    // The ETA is measured from the first update, so start-up cost (first step, warm-up) does not
    // distort it; a resumed run starts counting from where it resumed.
    first_done_ = done;
    first_s_ = now;
  }
  if (now - last_draw_s_ < every_s_ && done < total_) return;
  last_draw_s_ = now;
  draw(done, fields, false);
}

void Progress::finish(const std::string& fields) { draw(total_, fields, true); }

void Progress::draw(std::int64_t done, const std::string& fields, bool final) {
  double now = elapsed_s();
  std::string eta = "?";
  if (done > first_done_ && now > first_s_) {
    double rate = (done - first_done_) / (now - first_s_);
    eta = format_duration((total_ - done) / rate);
  }
  double pct = total_ > 0 ? 100.0 * done / total_ : 100.0;
  std::fprintf(stderr, "%s%s %lld/%lld (%.0f%%) | %s elapsed | ETA %s%s%s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), (long long)done, (long long)total_, pct, format_duration(now).c_str(),
               final ? "0s" : eta.c_str(), fields.empty() ? "" : " | ", fields.c_str(),
               (tty_ && !final) ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace structlm
