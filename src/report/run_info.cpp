#include "report/run_info.h"

#include <unistd.h>

#include <ctime>
#include <fstream>

#include "core/io.h"
#include "core/platform.h"
#include "core/subprocess.h"

namespace structlm::report {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? "" : s.substr(i);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) return trim(line.substr(line.find(':') + 1));
  return "";
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

}  // namespace

json collect_run_info(const std::string& source_dir, const std::string& torch_version) {
  json j = json::object();
  if (!source_dir.empty() && program_available("git")) {
    try {
      ProcessResult head = run_process({"git", "-C", source_dir, "rev-parse", "HEAD"});
      if (head.exit_code == 0) {
        j["commit"] = trim(head.out);
        ProcessResult st = run_process({"git", "-C", source_dir, "status", "--porcelain", "--untracked-files=no"});
        if (st.exit_code == 0) j["dirty"] = !trim(st.out).empty();
      }
    } catch (const std::exception&) {
      // No commit on record is better than no run: the report shows the field empty.
    }
  }
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) == 0) j["hostname"] = host;
  j["cpu"] = cpu_model();
  j["cores"] = available_cores();
  if (!torch_version.empty()) j["torch"] = torch_version;
  j["started_at"] = utc_now();
  return j;
}

void write_run_info(const std::string& run_dir, const std::string& source_dir, const std::string& torch_version,
                    bool resumed) {
  const std::string path = run_dir + "/run_info.json";
  json now = collect_run_info(source_dir, torch_version);
  if (resumed && file_exists(path)) {
    json j = load_json(path);
    if (j.is_object()) {
      if (!j.contains("resumes") || !j["resumes"].is_array()) j["resumes"] = json::array();
      j["resumes"].push_back(now);
      save_json(path, j);
      return;
    }
  }
  save_json(path, now);
}

}  // namespace structlm::report
