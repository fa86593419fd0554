// Making the machine fast without the user knowing anything about it.
#pragma once
#include <string>
#include <vector>

namespace structlm {

// libtorch's float matmul goes to the system OpenBLAS, which on some virtual CPUs fails to detect
// the processor and falls back to its slowest ("Prescott") kernels: 6x slower on the 2-core build machine (measured: README, Speed on CPUs).
// OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, before main() runs, so the only
// fix from inside the program is: pick the core type from cpuid, set it, and re-exec ourselves.
// The same re-exec sets OMP_WAIT_POLICY=PASSIVE, so torch's OpenMP threads stop spinning on the
// cores OpenBLAS's threads need. Variables the user set are kept; nothing happens if
// STRUCTLM_NO_BLAS_FIX is set. It also calls reuse_freed_memory(). Call it first thing in main().
void ensure_fast_blas(int argc, char** argv);

// glibc returns every freed block over 32 MiB (logits, activations, gradients of a training step)
// to the kernel at once and maps fresh zeroed pages for the next one, so each step pays a page
// fault per 4 KiB of every large tensor: measured on the 2-core EPYC VM, a 64 MiB fp32->bf16 copy
// takes 70 ms on fresh pages and 2 ms on reused ones, and the bench model trains 2.7x faster in
// bf16 (1.3x in fp32) once freed memory is kept (what jemalloc or tcmalloc under LD_PRELOAD do
// for PyTorch users). This tells glibc's malloc to serve all sizes from its heap and not to trim
// it; peak memory stays what the step needs (freed blocks are reused, not added). Does nothing
// if the user set any MALLOC_MMAP_MAX_, MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_, or on a
// C library other than glibc. ensure_fast_blas calls it.
void reuse_freed_memory();

// The OpenBLAS core type this CPU supports best ("Cooperlake", "SkylakeX", "Haswell" or "").
const char* best_openblas_coretype();

// The CPU's feature flags as the kernel lists them (/proc/cpuinfo "flags", first CPU): "avx512f",
// "avx512_bf16", "amx_bf16", ... Empty where the file is unreadable (not Linux).
std::vector<std::string> cpu_flags();
bool cpu_has_flag(const std::string& flag);

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores();

// This process's peak resident memory so far in MiB (VmHWM of /proc/self/status; 0 if unreadable).
double peak_rss_mib();

}  // namespace structlm
