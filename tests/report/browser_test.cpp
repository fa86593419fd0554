// Opens a full report (training curves, CSTDE, HCMA, from synthetic logs) in headless Chromium:
// the page must load with every plot in the DOM, draw a non-trivial screenshot, and log no console
// errors. Skipped, saying so, only where Debian's chromium is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "support/temp_dir.h"
#include "core/io.h"
#include "report/report.h"
#include "core/subprocess.h"
#include "synthetic_logs.h"

using namespace structlm;
using structlm::test_report::contains;
using structlm::test_util::TempDir;

namespace {

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser"})
    if (program_available(name)) return name;
  return "";
}

ProcessResult run_chromium(const std::string& binary, const std::string& profile,
                                   std::vector<std::string> extra, const std::string& url) {
  std::vector<std::string> argv = {"timeout", "120", binary, "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-quic", "--no-first-run", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  return run_process(argv);
}

// Console messages Chromium logs from the page: "...:INFO:CONSOLE(12)] "message", source: ..."
// (the level in the prefix is the page's level: ERROR/WARNING for console.error and failures).
std::vector<std::string> console_problems(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) {
    if (!contains(l, "CONSOLE")) continue;
    if (contains(l, ":ERROR:") || contains(l, ":WARNING:") || contains(l, "Uncaught") || contains(l, "Failed to load"))
      out.push_back(l);
  }
  return out;
}

}  // namespace

TEST(ReportBrowser, PageLoadsWithItsPlotsInHeadlessChromium) {
  const std::string chromium = chromium_binary();
  if (chromium.empty())
    GTEST_SKIP() << "chromium is not installed (Debian package 'chromium', installed by scripts/setup.sh): "
                    "the report page was not checked in a browser";
  TempDir t;
  test_report::write_train_run(t / "a1", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "a2", 2, 2, 4.1, 3.2, 3.3);
  test_report::write_train_run(t / "b1", 4, 1, 3.9, 2.9, 3.0);
  test_report::write_cstde_logs(t / "a1");
  test_report::write_hcma_logs(t / "a1");
  auto files = report::write_report({t / "a1", t / "a2", t / "b1"}, t / "out");
  const std::string html = read_file(files.html);
  std::size_t figures = 0;
  for (std::size_t p = 0; (p = html.find("<figure>", p)) != std::string::npos; ++p) ++figures;
  ASSERT_EQ(figures, 10u);  // train + val loss, 2 CSTDE, 6 HCMA

  const std::string url = "file://" + files.html;
  auto dom = run_chromium(chromium, t / "profile-dom", {"--dump-dom"}, url);
  ASSERT_EQ(dom.exit_code, 0) << dom.err.substr(0, 4000);
  std::size_t svgs = 0, with_paths = 0;
  // std::regex recurses per character and overflows the stack on pages this size: scan by hand.
  for (std::size_t open = 0; (open = dom.out.find("<svg", open)) != std::string::npos; ++open) {
    std::size_t close = dom.out.find("</svg>", open);
    ASSERT_NE(close, std::string::npos) << "unterminated <svg> in the DOM";
    ++svgs;
    with_paths += dom.out.substr(open, close - open).find("<path") != std::string::npos;
    open = close;
  }
  EXPECT_EQ(svgs, figures) << "every figure's SVG must be in the loaded page's DOM";
  EXPECT_EQ(with_paths, figures) << "every SVG must draw something";
  EXPECT_FALSE(contains(dom.out, "<img")) << "plots are inline: no image can go missing";
  EXPECT_TRUE(contains(dom.out, "CSTDE experiment")) << dom.out.substr(0, 2000);
  EXPECT_TRUE(contains(dom.out, "HCMA experiment"));
  auto problems = console_problems(dom.err);
  EXPECT_TRUE(problems.empty()) << problems.front();

  const std::string png = t / "report.png";
  auto shot = run_chromium(chromium, t / "profile-shot", {"--screenshot=" + png, "--window-size=1200,9000",
                                                          "--hide-scrollbars"}, url);
  ASSERT_EQ(shot.exit_code, 0) << shot.err.substr(0, 4000);
  ASSERT_TRUE(file_exists(png)) << shot.err.substr(0, 4000);
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_GT(bytes.size(), 100000u) << "a page of tables and ten plots does not compress to a near-blank image";
  problems = console_problems(shot.err);
  EXPECT_TRUE(problems.empty()) << problems.front();
  // Keep the screenshot for a person to look at when asked to (it is removed with the scratch dir).
  if (const char* keep = std::getenv("STRUCTLM_KEEP_SCREENSHOT")) write_file_atomic(keep, bytes);
}
