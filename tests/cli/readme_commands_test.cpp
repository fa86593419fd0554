// Every command of the README's command-line section, read from README.md (not copied: when the
// README changes, this test follows it) and run as written, in order, in a fresh directory: the
// sequence a new user types. A command fails the test when it exits non-zero or prints a
// torch-internal error instead of one of structlm's own messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "core/io.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

// The first ```sh block after the "## The command line" heading, as commands: continuation lines
// joined, blank lines dropped (comments stay: the shell drops them).
std::vector<std::string> readme_commands(const std::string& readme) {
  const std::string text = structlm::read_file(readme);
  const auto section = text.find("\n## The command line");
  if (section == std::string::npos) return {};
  const auto open = text.find("```sh\n", section);
  const auto close = text.find("\n```", open + 6);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> commands;
  std::string current;
  std::size_t pos = open + 6;
  while (pos <= close) {
    std::size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // A trailing backslash (before any comment) continues the command on the next line.
    const auto hash = line.find("  #");
    const std::string code = line.substr(0, hash);
    const auto last = code.find_last_not_of(' ');
    if (last != std::string::npos && code[last] == '\\') {
      current += code.substr(0, last) + " ";
      continue;
    }
    current += line;
    if (current.find_first_not_of(' ') != std::string::npos) commands.push_back(current);
    current.clear();
  }
  return commands;
}

// Messages that come from inside torch rather than from structlm's own checks.
const char* torch_internal(const std::string& out) {
  for (const char* marker : {"index out of range in self", "Exception raised from", "INTERNAL ASSERT FAILED", "c10::",
                             "at::", "terminate called"})
    if (out.find(marker) != std::string::npos) return marker;
  return nullptr;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

TEST(ReadmeCommands, TheBlockIsFound) {
  const auto commands = readme_commands(std::string(STRUCTLM_SOURCE_DIR) + "/README.md");
  ASSERT_GE(commands.size(), 10u);
  for (const auto& c : commands) EXPECT_EQ(c.rfind("structlm ", 0), 0u) << "not a structlm command: " << c;
}

TEST(ReadmeCommands, EveryCommandRunsAsWrittenInOrder) {
  structlm::test_util::TempDir t;
  // The user's own corpus the first command names, and `structlm` on PATH as after an install.
  std::string corpus;
  for (int i = 0; i < 40; ++i)
    corpus += "{\"text\": \"Note " + std::to_string(i) + ": the committee met on Tuesday and the vote was " +
              std::to_string(i % 7) + " to 2.\"}\n";
  structlm::write_file_atomic(t / "my_corpus.jsonl", corpus);
  fs::create_directories(t / "bin");
  fs::create_symlink(STRUCTLM_CLI, t / "bin/structlm");
  fs::create_directory_symlink(std::string(STRUCTLM_SOURCE_DIR) + "/configs", t / "configs");
  const std::string env = "cd " + quoted(t.path()) + "\nexport PATH=" + quoted(t / "bin") + ":\"$PATH\"\nexport STRUCTLM_ROOT=" +
                          quoted(STRUCTLM_SOURCE_DIR) + "\nexport STRUCTLM_DATA=" + quoted(t / "data") + "\n";
  const auto commands = readme_commands(std::string(STRUCTLM_SOURCE_DIR) + "/README.md");
  ASSERT_FALSE(commands.empty());
  for (const auto& c : commands) {
    // One script per command: the README's quoting is the shell's business, not this test's.
    structlm::write_file_atomic(t / "command.sh", env + c + "\n");
    FILE* p = ::popen(("bash " + quoted(t / "command.sh") + " 2>&1 </dev/null").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ASSERT_EQ(code, 0) << "README command failed: " << c << "\n" << out;
    const char* marker = torch_internal(out);
    ASSERT_EQ(marker, nullptr) << "README command printed a torch-internal error (" << marker << "): " << c << "\n" << out;
  }
}

}  // namespace
