// run_info.json: where a run was made (source commit, machine), written by `structlm train` and
// `structlm demo` when a run starts, read by the report's metadata section.
#pragma once
#include <string>

#include "core/json.h"

namespace structlm::report {

// {"commit", "dirty", "hostname", "cpu", "cores", "torch", "started_at"}. commit/dirty come from
// `git -C source_dir` (omitted when that is not a git checkout or git is missing); torch is what
// the caller passes (this library does not link torch).
json collect_run_info(const std::string& source_dir, const std::string& torch_version);

// Writes RUN_DIR/run_info.json. If the file exists and `resumed` is true, the original record is
// kept and this session is appended to its "resumes" list, so the first machine stays on record.
void write_run_info(const std::string& run_dir, const std::string& source_dir, const std::string& torch_version,
                    bool resumed);

}  // namespace structlm::report
