#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace structlm {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty()) throw Error("run_process: empty command");
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail(argv[0], std::string("cannot run (") + std::strerror(rc) + ")");
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  // A child that exits without reading all of stdin would raise SIGPIPE on our write and kill us:
  // block it in this thread for the exchange and discard a pending one afterwards.
  sigset_t sigpipe, old_mask;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &old_mask);
  bool got_epipe = false;

  // Feed stdin and drain both outputs together: a child that fills one pipe while we block on
  // another would otherwise deadlock.
  ProcessResult r;
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) fds[idx_in = n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) fds[idx_out = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[idx_err = n++] = {err.fd[0], POLLIN, 0};
    if (::poll(fds, nfds_t(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = ::write(in.fd[1], input.data() + written, input.size() - written);
      if (w > 0) written += std::size_t(w);
      if (w < 0 && errno == EPIPE) got_epipe = true;
      if ((w < 0 && errno != EINTR && errno != EAGAIN) || written == input.size()) in.close_end(1);
    }
    char buf[65536];
    auto drain = [&](int idx, Pipe& p, std::string& sink) {
      if (idx < 0 || !fds[idx].revents) return;
      ssize_t k = ::read(p.fd[0], buf, sizeof buf);
      if (k > 0)
        sink.append(buf, std::size_t(k));
      else if (k == 0 || errno != EINTR)
        p.close_end(0);
    };
    drain(idx_out, out, r.out);
    drain(idx_err, err, r.err);
  }
  in.close_end(1);
  if (got_epipe && !sigismember(&old_mask, SIGPIPE)) {
    timespec zero{0, 0};
    sigtimedwait(&sigpipe, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

ChildUsage run_attached(const std::vector<std::string>& argv) {
  if (argv.empty()) throw Error("run_attached: empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) fail(argv[0], std::string("cannot run (") + std::strerror(rc) + ")");
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  ChildUsage r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.peak_rss_mib = double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
  return r;
}

bool program_available(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace structlm

namespace structlm {

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find the running binary (/proc/self/exe)");
  return std::string(buf, std::size_t(n));
}

std::string shell_quote(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || std::string("_-+=/.,:@%").find(c) != std::string::npos);
  if (plain) return word;
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);  // close, escaped quote, reopen
  return q + "'";
}

}  // namespace structlm
