#include "dist/launch.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace structlm::dist {

namespace {

volatile sig_atomic_t g_forward = 0;  // the signal to pass on to the ranks, 0: none pending

extern "C" void on_signal(int sig) { g_forward = sig; }

// The ranks' environment: ours, without any launcher's rank variables, plus torchrun's set.
std::vector<std::string> rank_environment(const LaunchOptions& o, int port, int rank) {
  static const char* drop[] = {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=",
                               "SLURM_PROCID=", "SLURM_NTASKS=", "SLURM_LOCALID=", "OMPI_COMM_WORLD_RANK=",
                               "OMPI_COMM_WORLD_SIZE=", "OMPI_COMM_WORLD_LOCAL_RANK="};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    bool keep = true;
    for (const char* d : drop) keep = keep && std::strncmp(*e, d, std::strlen(d)) != 0;
    if (keep) env.emplace_back(*e);
  }
  const std::string n = std::to_string(o.nproc), r = std::to_string(rank);
  for (std::string v : {"RANK=" + r, "LOCAL_RANK=" + r, "WORLD_SIZE=" + n, "LOCAL_WORLD_SIZE=" + n,
                        "MASTER_ADDR=" + o.master_addr, "MASTER_PORT=" + std::to_string(port)})
    env.push_back(v);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (auto& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) throw Error(std::string("launch: no socket for a free port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0;
  ::close(s);
  if (!ok) throw Error(std::string("launch: could not find a free port: ") + std::strerror(errno));
  return ntohs(a.sin_port);
}

LaunchResult launch_local(const LaunchOptions& o) {
  if (o.nproc < 1) throw Error("launch: --nproc must be at least 1, got " + std::to_string(o.nproc));
  if (o.argv.empty()) throw Error("launch: no command to run (structlm launch --nproc N -- train ...)");
  LaunchResult result;
  result.master_port = o.master_port > 0 ? o.master_port : free_port();

  // Forward SIGINT / SIGTERM instead of dying with them: the ranks decide how to stop.
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  g_forward = 0;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  std::vector<pid_t> pids(std::size_t(o.nproc), -1);
  std::vector<bool> done(pids.size(), false);
  auto signal_all = [&](int sig) {
    for (std::size_t r = 0; r < pids.size(); ++r)
      if (pids[r] > 0 && !done[r]) ::kill(pids[r], sig);
  };
  std::vector<std::string> args = o.argv;
  auto argp = pointers(args);
  for (int r = 0; r < o.nproc; ++r) {
    auto env = rank_environment(o, result.master_port, r);
    auto envp = pointers(env);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: a terminal's Ctrl-C reaches it through us only
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0].c_str(), nullptr, &attr, argp.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      signal_all(SIGTERM);
      for (pid_t p : pids)
        if (p > 0) ::waitpid(p, nullptr, 0);
      ::sigaction(SIGINT, &old_int, nullptr);
      ::sigaction(SIGTERM, &old_term, nullptr);
      throw Error("launch: cannot start rank " + std::to_string(r) + " (" + args[0] + "): " + std::strerror(rc));
    }
    pids[std::size_t(r)] = pid;
  }

  using Clock = std::chrono::steady_clock;
  Clock::time_point failed_at{};
  bool terminated = false, killed = false;
  int remaining = o.nproc;
  while (remaining > 0) {
    if (const int sig = g_forward) {
      g_forward = 0;
      signal_all(sig == SIGTERM ? SIGTERM : SIGINT);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (std::size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != pid) continue;
        done[r] = true;
        --remaining;
        const int code = exit_code_of(status);
        if (code != 0 && result.failed_rank < 0) {
          result.failed_rank = int(r);
          result.exit_code = code;
          failed_at = Clock::now();
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;  // no children left to wait for
    // A rank failed and the others have not followed within the grace period: end them.
    if (result.failed_rank >= 0 && !terminated && Clock::now() - failed_at > o.grace) {
      signal_all(SIGTERM);
      terminated = true;
    }
    if (terminated && !killed && Clock::now() - failed_at > 2 * o.grace) {  // and one that ignores SIGTERM
      signal_all(SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace structlm::dist
