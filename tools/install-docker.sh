#!/usr/bin/env bash
# Machine set-up for the local Docker engine (`make docker-engine`, part of `make setup`
# and so of `.ci/run`). Idempotent; under a second when there is nothing to do.
#
# 1. If no `dockerd` is installed, installs Debian's docker.io with apt-get, keeping the
#    package's own service from starting (a temporary /usr/sbin/policy-rc.d that answers
#    101): plexica_infra.localenv starts its own dockerd under .state/docker.
# 2. Probes whether dockerd can program iptables here (NAT and FORWARD rules for bridge
#    networks) and writes the answer to .state/docker/machine.json, which localenv merges
#    into the daemon's config: {"iptables": false} starts dockerd in a degraded mode where
#    ports published on 127.0.0.1 still work through docker-proxy and container names
#    still resolve, but container-to-container traffic depends on the host's FORWARD policy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${PLEXICA_STATE_DIR:-$ROOT/.state}"
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH="$SYSTEM_PATH:$PATH"

say() { echo "[docker-engine] $*" >&2; }

apt_candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print ($2 == "(none)" ? "" : $2) }'
}

install_docker_io() {
  command -v apt-get >/dev/null && command -v apt-cache >/dev/null \
    || { say "dockerd is not installed and apt-get is unavailable: install a Docker engine"; exit 1; }
  [[ $(id -u) == 0 ]] || { say "dockerd is not installed; installing docker.io needs root"; exit 1; }
  local candidate
  candidate="$(apt_candidate docker.io)"
  if [[ -z "$candidate" ]]; then
    say "apt knows no docker.io candidate; running apt-get update"
    apt-get update -qq >/dev/null
    candidate="$(apt_candidate docker.io)"
  fi
  [[ -n "$candidate" ]] || { say "apt has no docker.io package (apt-cache policy docker.io)"; exit 1; }
  say "installing docker.io $candidate with apt-get (dockerd is missing)"
  local created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 docker.io >/dev/null || status=$?
  [[ $created_policy == 0 ]] || rm -f /usr/sbin/policy-rc.d
  [[ $status == 0 ]] || { say "apt-get install docker.io failed (exit $status)"; exit 1; }
  command -v dockerd >/dev/null || { say "docker.io installed but no dockerd binary found"; exit 1; }
  say "docker.io installed: $(command -v dockerd)"
}

probe_iptables() {
  local reason=""
  if ! command -v iptables >/dev/null; then
    reason="iptables is not installed"
  elif ! reason="$(iptables -t nat -L -n 2>&1 >/dev/null)"; then
    reason="${reason:-iptables -t nat -L failed}"
  else
    reason=""
  fi
  mkdir -p "$STATE/docker"
  if [[ -z "$reason" ]]; then
    printf '{"iptables": true}\n' > "$STATE/docker/machine.json"
  else
    say "warning: iptables is not usable ($reason); dockerd will start with --iptables=false"
    python3 -c 'import json, sys; print(json.dumps({"iptables": False, "reason": sys.argv[1]}))' "$reason" \
      > "$STATE/docker/machine.json"
  fi
}

command -v dockerd >/dev/null || install_docker_io
probe_iptables
