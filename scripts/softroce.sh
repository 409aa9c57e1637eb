#!/usr/bin/env bash
# softroce.sh — create a soft-RoCE (rdma_rxe) device so UCX can run its RDMA transports (rc/ud
# verbs) without an RDMA NIC, and say how to point the DM integration tests at it.
#
#   scripts/softroce.sh [NETDEV]     create rxe0 over NETDEV (default: the default-route interface)
#   scripts/softroce.sh --status     show what is there
#   scripts/softroce.sh --remove     delete rxe0
#
# Needs root (or sudo), the kernel module rdma_rxe and the iproute2 'rdma' tool (Debian: iproute2,
# rdma-core, ibverbs-providers). Where the kernel lacks rdma_rxe (containers, many cloud kernels,
# these build machines) it says so and exits 3: UCX then runs over shared memory (posix/cma) and
# TCP, which drive the same UCX API calls.
set -euo pipefail

say() { printf 'softroce: %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

has_rxe_module() {
  [ -d /sys/module/rdma_rxe ] && return 0
  modinfo rdma_rxe >/dev/null 2>&1 || return 1
  $SUDO modprobe rdma_rxe 2>/dev/null
}

case "${1:-}" in
  --status)
    if [ -d /sys/class/infiniband ] && ls /sys/class/infiniband 2>/dev/null | grep -q .; then
      ls /sys/class/infiniband; command -v ibv_devices >/dev/null && ibv_devices
    else
      say "no RDMA devices (/sys/class/infiniband is empty or missing)"
    fi
    command -v ucx_info >/dev/null && ucx_info -d | grep -E 'Transport|Device' | paste - - | sort -u >&2 || true
    exit 0 ;;
  --remove)
    $SUDO rdma link delete rxe0 && say "removed rxe0"; exit 0 ;;
  -h|--help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

if ! has_rxe_module; then
  say "kernel $(uname -r) has no rdma_rxe module: soft-RoCE is not available here."
  say "UCX will use shared memory (posix, cma) between processes of one host and TCP elsewhere;"
  say "the DM tests run as they are (bin/o3 test)."
  exit 3
fi
if ! command -v rdma >/dev/null 2>&1; then
  say "the 'rdma' tool is missing: apt-get install iproute2 rdma-core ibverbs-providers"; exit 2
fi
dev="${1:-$(ip route show default 2>/dev/null | awk '/default/ {print $5; exit}')}"
if [ -z "$dev" ]; then say "no network device given and no default route"; exit 2; fi
if rdma link show 2>/dev/null | grep -q 'rxe0'; then
  say "rxe0 exists already"
else
  $SUDO rdma link add rxe0 type rxe netdev "$dev"
  say "created rxe0 over $dev"
fi
rdma link show >&2
cat >&2 <<MSG
softroce: run the DM integration tests over it with, e.g.
  UCX_TLS=rc_verbs,ud_verbs,self UCX_NET_DEVICES=rxe0:1 bin/o3 test -pl dm
softroce: (ucx_info -d should now list rc_verbs on rxe0:1; check with scripts/softroce.sh --status)
MSG
