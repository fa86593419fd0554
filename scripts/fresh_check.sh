#!/usr/bin/env bash
# Proves a commit green where nothing was installed by hand: builds a clean Debian bookworm root
# with debootstrap (the mirror and apt configuration of this machine's own apt set-up, so apt
# inside reaches the same registry), clones the commit into it, runs the README's `make test`
# there as a new user would, and prints pass or fail, the test counts and the set-up, build and
# test times. CI runs on the developer's machine, where hand-installed packages can hide a
# missing install step; this cannot.
#
#   scripts/fresh_check.sh [--commit REV] [--keep-root | --root-only] [--drop-root] [--workdir DIR] [--log FILE]
#
#   --commit REV  what to check (default HEAD of this repository; a commit, not the work tree)
#   --keep-root   keep the bare root (debootstrap's output, before anything of ours is installed)
#                 as DIR/bookworm-base.tar, and reuse it next time: saves ~3 min of debootstrap
#   --drop-root   delete a kept bare root first
#   --root-only   make and keep the bare root (as --keep-root), then stop: nothing is tested
#   --workdir DIR where roots live (default /var/tmp/structlm-fresh); needs ~8 GB free
#   --log FILE    the whole run's output (default DIR/fresh-check-<commit>.log); kept
#
# Exit status: 0 when every test passed, 1 when a test failed or a stage broke, 2 on bad usage.
# Runs as root (debootstrap, chroot and mounts need it). Developer tool: README says when to run it.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

rev=HEAD keep=0 drop=0 root_only=0 workdir=/var/tmp/structlm-fresh log=""
while (($#)); do
  case "$1" in
    --commit) rev=${2:?--commit needs a revision}; shift ;;
    --keep-root) keep=1 ;;
    --drop-root) drop=1 ;;
    --root-only) keep=1 root_only=1 ;;
    --workdir) workdir=${2:?--workdir needs a directory}; shift ;;
    --log) log=${2:?--log needs a file}; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh_check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "fresh_check: run as root (debootstrap, chroot and mounts need it)" >&2; exit 2; }
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "fresh_check: '$rev' is not a commit here" >&2; exit 2; }
short=${commit:0:12}
mkdir -p "$workdir" || exit 2
workdir=$(cd "$workdir" && pwd)
[ -n "$log" ] || log="$workdir/fresh-check-$short.log"
base_tar="$workdir/bookworm-base.tar"
root="$workdir/root-$short-$$"
((drop)) && rm -f "$base_tar"

say() { echo "fresh_check: $*" | tee -a "$log"; }
: > "$log"

# --- cleanup: unmount everything under the root before deleting it (never delete through a bind
# mount of the host's /dev), and end any process still running inside it.
mounts=()
cleanup() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
  if [ -d "$root" ]; then
    if grep -q " $root" /proc/mounts; then
      echo "fresh_check: something is still mounted under $root; not deleting it" >&2
    else
      rm -rf --one-file-system "$root"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the machine's apt set-up: mirror from its sources, its apt.conf.d, its npm configuration
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap (Debian package)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >> "$log" 2>&1 \
    || { say "FAIL: cannot install debootstrap"; exit 1; }
fi
mirror=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1)
[ -n "$mirror" ] || { say "FAIL: no Debian mirror found in /etc/apt/sources.list(.d)"; exit 1; }

t0=$(date +%s)
if [ -f "$base_tar" ]; then
  say "bare root from $base_tar"
  mkdir -p "$root" && tar -xf "$base_tar" -C "$root" || { say "FAIL: cannot unpack $base_tar"; exit 1; }
else
  say "debootstrap bookworm (minbase + make, the README's one assumption besides git) from $mirror"
  debootstrap --variant=minbase --include=make bookworm "$root" "$mirror" >> "$log" 2>&1 \
    || { say "FAIL: debootstrap (see $log)"; exit 1; }
  if ((keep)); then
    tar -cf "$base_tar.tmp" -C "$root" . && mv "$base_tar.tmp" "$base_tar" && say "kept the bare root as $base_tar"
  fi
fi
say "bare root ready in $(( $(date +%s) - t0 )) s"
((root_only)) && exit 0

# apt and npm inside reach the same registries as this machine: same sources, same apt.conf.d,
# same npm configuration. Disabled source files (any other suffix) stay disabled.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
cp -r /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
cp -r /etc/apt/auth.conf.d/. "$root/etc/apt/auth.conf.d/" 2>/dev/null
for f in /etc/npmrc /usr/etc/npmrc /root/.npmrc; do
  [ -f "$f" ] && { mkdir -p "$root$(dirname "$f")"; cp -p "$f" "$root$f"; }
done
# The machine's TLS trust too: registries may be reached through a proxy whose CA only this
# machine's bundle holds. Placed as a local CA, it joins the root's bundle when set-up installs
# ca-certificates (whose update-ca-certificates appends every file of this folder).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/machine-trust.crt"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
cp /etc/hosts "$root/etc/hosts" 2>/dev/null

mnt() { mount "$@" && mounts+=("${!#}"); }
mnt -t proc proc "$root/proc" && mnt -t sysfs sys "$root/sys" && mnt --bind /dev "$root/dev" &&
  mnt --bind /dev/pts "$root/dev/pts" && mnt -t tmpfs -o size=2g tmpfs "$root/dev/shm" ||
  { say "FAIL: cannot mount proc/sys/dev in the root"; exit 1; }

# The commit, as a fresh clone (what CI and a user get), not this work tree.
git clone --quiet --no-local "$repo" "$root/root/structlm" >> "$log" 2>&1 &&
  git -C "$root/root/structlm" checkout --quiet "$commit" >> "$log" 2>&1 ||
  { say "FAIL: cannot clone $short into the root"; exit 1; }

# A new user's shell: no variables from ours but the basics.
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb bash -c "cd /root/structlm && $1"
}
stage() {  # stage NAME COMMAND: runs it, logs it, records its seconds in secs_NAME
  local name=$1 start rc
  start=$(date +%s)
  say "$name: $2"
  in_root "$2" >> "$log" 2>&1
  rc=$?
  printf -v "secs_$name" '%s' "$(( $(date +%s) - start ))"
  return $rc
}
fmt() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

secs_setup=0 secs_build=0 secs_test=0
# The README's `make test` is set-up + build + tests; the stages are run one by one to time each
# (the later ones find the earlier done, exactly as `make test` would). CI=true as CI runs it: a
# test skipped for want of something scripts/setup.sh installs fails (scripts/test_skips.sh).
status=PASS
stage setup "bash scripts/setup.sh" || status="FAIL (set-up)"
[ "$status" = PASS ] && { stage build "make build" || status="FAIL (build)"; }
[ "$status" = PASS ] && { stage test "make test CI=true" || status="FAIL (tests)"; }

# The counts, from ctest's own summary and the skip list that make test prints.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
failed=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
skipped=$(grep -E '^skipped tests \(' "$log" | tail -1 | sed -E 's/^skipped tests \(([0-9]+)\).*/\1/')
[ -n "$skipped" ] || skipped=0
[ -n "$summary" ] || { total=0 failed=0; [ "$status" = PASS ] && status="FAIL (no test summary)"; }

echo
echo "fresh_check: $status  commit $short  (bookworm root from $mirror)"
echo "  tests: $total in all, $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
grep -A100 -E '^skipped tests \(' "$log" | sed -n '2,$p' | grep -E '^  ' | sed 's/^/  /'
echo "  times: set-up $(fmt "$secs_setup"), build $(fmt "$secs_build"), tests $(fmt "$secs_test"); whole check $(fmt $(( $(date +%s) - t0 )))"
echo "  log: $log"
[ "$status" = PASS ]
