# Sourced by bench.sh and bench_cstde.sh: the precisions to measure. PRECISIONS from the caller,
# else "fp32 bf16" where /proc/cpuinfo shows amx_bf16 or avx512_bf16 and "fp32" elsewhere (emulated
# bf16 runs ~40x slower and says nothing about a bf16 machine). $1: the calling script's name.
if [[ -z ${PRECISIONS:-} ]]; then
  if grep -qwE 'amx_bf16|avx512_bf16' /proc/cpuinfo; then PRECISIONS="fp32 bf16"; else
    PRECISIONS=fp32
    echo "$1: this CPU has neither AMX-BF16 nor AVX512-BF16: bf16 is emulated, measuring fp32 only (PRECISIONS=\"fp32 bf16\" forces both)"
  fi
fi
for p in $PRECISIONS; do
  [[ $p == fp32 || $p == bf16 ]] || { echo "$1: PRECISIONS takes fp32 and bf16, not $p" >&2; exit 2; }
done
