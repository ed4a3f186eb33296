#!/usr/bin/env bash
# Installs what the local cluster's node needs from Debian when it is missing:
# containerd (1.6), runc, the CNI plugins (bridge, host-local, loopback) and
# iptables. Safe to run again: it installs nothing that is already there.
# Called by `make setup`; needs root (the node itself runs as root).
set -euo pipefail
need=()
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || need+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
if [[ ${#need[@]} -eq 0 ]]; then
  echo "setup-node: containerd, runc, CNI plugins, iptables and conntrack are installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-node: missing ${need[*]}; install them as root: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "setup-node: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
  apt-get update -qq && apt-get install -y --no-install-recommends "${need[@]}"
}
