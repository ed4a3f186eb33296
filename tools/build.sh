#!/usr/bin/env bash
# Builds the offline Pulumi toolchain into .tools/bin/ from Go modules:
#
#   pulumi                        the CLI (github.com/pulumi/pulumi/pkg/v3)
#   pulumi-language-python        our own minimal language host (tools/pulumi-language-python)
#   pulumi-language-python-exec   the exec script from the sdk/v3 module, next to the host
#   pulumi-resource-kubernetes    the Kubernetes provider (pulumi-kubernetes/provider/v4)
#   pulumi-resource-docker        our own Docker provider (tools/pulumi-resource-docker)
#   actionlint                    the GitHub Actions workflow linter (github.com/rhysd/actionlint)
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#   kube-proxy, kubectl, kube-pause   the local Kubernetes cluster (tools/kube)
#
# Each tools/<name>/ folder is a Go module whose go.mod/go.sum pin what gets
# built. A binary is rebuilt only when its stamp (.tools/stamps/<name>) no
# longer matches: the stamp records the release version, the Go version and a
# hash of that tools module's files. Nothing upstream is copied into the repo:
# sources come from the Go module cache; generated files go under .tools/.
#
# Usage: bash tools/build.sh [--force]
# Environment: GO (default: go on PATH, else /usr/local/go/bin/go), PYTHON
# (default: python3), GOCACHE/GOMODCACHE as usual.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/tools"
OUT="$ROOT/.tools"
BIN="$OUT/bin"
STAMPS="$OUT/stamps"
SRC="$OUT/src"

# Release versions stamped into the binaries. The module versions themselves
# are pinned in each tools/<name>/go.mod.
PULUMI_VERSION="v3.274.1"           # CLI: github.com/pulumi/pulumi/pkg/v3 v3.274.1
LANGUAGE_HOST_VERSION="v3.272.0"    # our host, built on github.com/pulumi/pulumi/sdk/v3 v3.272.0
KUBERNETES_VERSION="4.25.0"         # pulumi-kubernetes v4.25.0 = provider/v4 commit f47bc2d6f199
# Our own provider (tools/pulumi-resource-docker). It speaks pulumi-docker 5.2.0's
# tokens and property names for a subset of resources; "+plexica.N" says it is ours.
DOCKER_VERSION="5.2.0+plexica.1"
ACTIONLINT_VERSION="v1.7.12"        # github.com/rhysd/actionlint, pinned in tools/actionlint/go.mod
# The local cluster (tools/kube): k8s.io/kubernetes v1.36.1, go.etcd.io/etcd/server/v3 v3.6.8.
KUBE_VERSION="v1.36.1"
KUBE_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kube-pause)

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if [[ -z "${GO:-}" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"; else GO=/usr/local/go/bin/go; fi
fi
[[ -x "$GO" ]] || { echo "build.sh: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1; }
PYTHON="${PYTHON:-python3}"

export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"
# go.mod files name go 1.26.x; never let the go command look for another toolchain.
export GOTOOLCHAIN=local

mkdir -p "$BIN" "$STAMPS" "$SRC"
GO_VERSION="$("$GO" env GOVERSION)"
START=$SECONDS

log() { printf '[toolchain %4ds] %s\n' "$((SECONDS - START))" "$*"; }

# One build at a time per output: two checkouts sharing one .tools (or two `make` runs)
# would otherwise write the same binaries and scratch dirs at once. The second waits,
# then finds the stamps current.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STAMPS/.build.lock"
  if ! flock -n 9; then
    log "another build of $BIN is running; waiting for it"
    flock 9
  fi
fi

# stamp_of NAME VERSION: the expected stamp text for a tools module.
stamp_of() {
  local name="$1" version="$2" hash
  hash="$(cd "$TOOLS/$name" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  printf '%s %s %s %s\n' "$name" "$version" "$GO_VERSION" "$hash"
}

# up_to_date NAME VERSION FILE...: true when the stamp matches and files exist.
up_to_date() {
  local name="$1" version="$2"; shift 2
  [[ $FORCE == 0 ]] || return 1
  [[ -f "$STAMPS/$name" ]] || return 1
  [[ "$(cat "$STAMPS/$name")" == "$(stamp_of "$name" "$version")" ]] || return 1
  local f
  for f in "$@"; do [[ -x "$f" || -f "$f" ]] || return 1; done
}

write_stamp() { stamp_of "$1" "$2" > "$STAMPS/$1"; }

# go_build DIR OUTPUT LDFLAGS [TAGS] PACKAGE
go_build() {
  local dir="$1" out="$2" ldflags="$3" tags="$4" pkg="$5" t0=$SECONDS
  # Fetch the pinned modules first, so that their download time shows apart.
  (cd "$dir" && "$GO" mod download) || log "  (go mod download reported a problem; go build will tell if it matters)"
  log "  modules ready after $((SECONDS - t0))s; compiling (this is the slow part)"
  (cd "$dir" && "$GO" build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out.tmp" "$pkg")
  mv -f "$out.tmp" "$out"
  log "  built $(basename "$out") in $((SECONDS - t0))s"
}

# --- pulumi CLI -----------------------------------------------------------
build_pulumi() {
  local want="${PULUMI_VERSION#v}" existing
  local dir
  existing=""
  IFS=: read -r -a path_dirs <<< "$PATH"
  for dir in "${path_dirs[@]}"; do
    [[ -n "$dir" && "$dir" != "$BIN" && -x "$dir/pulumi" ]] || continue
    existing="$dir/pulumi"
    break
  done
  if [[ -n "$existing" ]] && [[ "$("$existing" version 2>/dev/null)" == "v$want" ]]; then
    log "pulumi: copying $existing (already v$want)"
    # A copy, not a symlink: the engine finds its bundled plugins (our language host)
    # next to its own resolved path.
    install -m 0755 "$existing" "$BIN/pulumi"
    return
  fi
  if up_to_date pulumi "$PULUMI_VERSION" "$BIN/pulumi"; then
    log "pulumi: up to date ($PULUMI_VERSION)"
    return
  fi
  log "pulumi: building $PULUMI_VERSION (the largest build: several minutes)"
  rm -f "$BIN/pulumi"
  go_build "$TOOLS/pulumi" "$BIN/pulumi" \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    "osusergo,grpcnotrace" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  write_stamp pulumi "$PULUMI_VERSION"
}

# --- Python language host + exec script --------------------------------------
build_language_python() {
  local exec_script="$BIN/pulumi-language-python-exec"
  local dynamic_host="$BIN/pulumi-resource-pulumi-python"
  if up_to_date pulumi-language-python "$LANGUAGE_HOST_VERSION" "$BIN/pulumi-language-python" "$exec_script" \
    "$dynamic_host"; then
    log "pulumi-language-python: up to date ($LANGUAGE_HOST_VERSION)"
    return
  fi
  log "pulumi-language-python: building $LANGUAGE_HOST_VERSION"
  go_build "$TOOLS/pulumi-language-python" "$BIN/pulumi-language-python" \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_HOST_VERSION" "" .
  local sdk_dir
  sdk_dir="$(cd "$TOOLS/pulumi-language-python" && "$GO" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$exec_script"
  log "  installed pulumi-language-python-exec from the sdk/v3 module"
  # The host for Python dynamic providers (our Core API providers): a script from the
  # same module; the engine looks it up on PATH as the `pulumi-python` resource plugin.
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$dynamic_host"
  log "  installed pulumi-resource-pulumi-python (dynamic provider host) from the sdk/v3 module"
  write_stamp pulumi-language-python "$LANGUAGE_HOST_VERSION"
}

# --- Kubernetes provider ------------------------------------------------------
build_kubernetes() {
  if up_to_date pulumi-resource-kubernetes "$KUBERNETES_VERSION" "$BIN/pulumi-resource-kubernetes"; then
    log "pulumi-resource-kubernetes: up to date ($KUBERNETES_VERSION)"
    return
  fi
  log "pulumi-resource-kubernetes: building $KUBERNETES_VERSION"
  local work="$SRC/pulumi-resource-kubernetes" mod_dir
  rm -rf "$work" && mkdir -p "$work"
  cp "$TOOLS/pulumi-resource-kubernetes/"{main.go,go.mod,go.sum} "$work/"
  (cd "$work" && "$GO" mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
  mod_dir="$(cd "$work" && "$GO" list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  # The upstream main package embeds two generated files that are not in the
  # module zip; make them from the committed schema.json (with the version
  # set) and terraform-mapping.json, as compact JSON, beside our main.go.
  "$PYTHON" - "$mod_dir/cmd/pulumi-resource-kubernetes" "$work" "$KUBERNETES_VERSION" <<'PY'
import json, os, sys
src, dst, version = sys.argv[1:]
with open(os.path.join(src, "schema.json")) as f:
    schema = json.load(f)
schema["version"] = version
with open(os.path.join(dst, "schema-embed.json"), "w") as f:
    json.dump(schema, f, separators=(",", ":"))
with open(os.path.join(src, "terraform-mapping.json")) as f:
    mapping = json.load(f)
with open(os.path.join(dst, "terraform-mapping-embed.json"), "w") as f:
    json.dump(mapping, f, separators=(",", ":"))
PY
  log "  generated schema-embed.json and terraform-mapping-embed.json in .tools/src"
  go_build "$work" "$BIN/pulumi-resource-kubernetes" \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" "" .
  write_stamp pulumi-resource-kubernetes "$KUBERNETES_VERSION"
}

# --- Docker provider (ours) ---------------------------------------------------
build_docker() {
  if up_to_date pulumi-resource-docker "$DOCKER_VERSION" "$BIN/pulumi-resource-docker"; then
    log "pulumi-resource-docker: up to date ($DOCKER_VERSION)"
    return
  fi
  log "pulumi-resource-docker: building $DOCKER_VERSION"
  go_build "$TOOLS/pulumi-resource-docker" "$BIN/pulumi-resource-docker" "-X main.version=$DOCKER_VERSION" "" .
  write_stamp pulumi-resource-docker "$DOCKER_VERSION"
}

# --- actionlint ------------------------------------------------------------------
build_actionlint() {
  if up_to_date actionlint "$ACTIONLINT_VERSION" "$BIN/actionlint"; then
    log "actionlint: up to date ($ACTIONLINT_VERSION)"
    return
  fi
  log "actionlint: building $ACTIONLINT_VERSION"
  go_build "$TOOLS/actionlint" "$BIN/actionlint" \
    "-X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}" "" github.com/rhysd/actionlint/cmd/actionlint
  write_stamp actionlint "$ACTIONLINT_VERSION"
}

# --- Local Kubernetes cluster (tools/kube) -----------------------------------
build_kube() {
  local files=() b
  for b in "${KUBE_BINARIES[@]}"; do files+=("$BIN/$b"); done
  if up_to_date kube "$KUBE_VERSION" "${files[@]}"; then
    log "kube: up to date ($KUBE_VERSION: ${KUBE_BINARIES[*]})"
    return
  fi
  log "kube: building $KUBE_VERSION (${KUBE_BINARIES[*]}; ~20 min on 2 cold cores)"
  local t0=$SECONDS out="$SRC/kube-bin" minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  # Without these, /version says v0.0.0-master and kubectl warns about skew.
  local ld="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$TOOLS/kube" && "$GO" mod download) || log "  (go mod download reported a problem; go build will tell if it matters)"
  log "  modules ready after $((SECONDS - t0))s; compiling"
  rm -rf "$out" && mkdir -p "$out"
  # One go build for every command: shared packages compile once, in parallel. The etcd
  # command (go.etcd.io/etcd/server/v3) comes out as "server"; the pause program as "pause".
  (cd "$TOOLS/kube" && "$GO" build -trimpath -ldflags "-s -w$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl \
    go.etcd.io/etcd/server/v3 ./pause)
  mv -f "$out/server" "$out/etcd"
  mv -f "$out/pause" "$out/kube-pause"
  for b in "${KUBE_BINARIES[@]}"; do mv -f "$out/$b" "$BIN/$b"; done
  log "  built ${KUBE_BINARIES[*]} in $((SECONDS - t0))s"
  write_stamp kube "$KUBE_VERSION"
}

# --- provider plugins in PULUMI_HOME's plugin cache --------------------------------
# tools/pulumi.env sets PULUMI_IGNORE_AMBIENT_PLUGINS: the engine takes providers from
# its plugin cache (<PULUMI_HOME>/plugins/resource-<name>-v<version>/), at the versions
# the Python SDKs request (their pulumi-plugin.json), instead of from PATH with a
# warning on every run. Hard links (a copy across file systems) of the built binaries.
install_plugin() {
  local name="$1" version="$2" dir
  dir="$PULUMI_PLUGINS/resource-$name-v$version"
  mkdir -p "$dir"
  rm -f "$dir/pulumi-resource-$name" "$dir.partial"
  ln "$BIN/pulumi-resource-$name" "$dir/pulumi-resource-$name" 2>/dev/null \
    || cp "$BIN/pulumi-resource-$name" "$dir/pulumi-resource-$name"
  log "pulumi-resource-$name: in the plugin cache as $name v$version ($dir)"
}

log "Go: $GO ($GO_VERSION); output: $BIN"
build_pulumi
build_language_python
build_docker
build_kubernetes
PULUMI_PLUGINS="$(PLEXICA_ROOT="$ROOT"; . "$TOOLS/pulumi.env"; echo "$PULUMI_HOME")/plugins"
install_plugin docker "${DOCKER_VERSION%%+*}"
install_plugin kubernetes "$KUBERNETES_VERSION"
build_actionlint
if [[ "${PLEXICA_SKIP_KUBE:-0}" != 1 ]]; then build_kube; else log "kube: skipped (PLEXICA_SKIP_KUBE=1)"; fi
log "done: $("$BIN/pulumi" version) in $BIN"
