# shellcheck shell=bash
# Shared bootstrap for scripts/test, scripts/demo and scripts/build-image.
#
# Source it (after `set -euo pipefail`); it defines functions only, plus a few variables:
#   WT_ROOT        the repository root (the collection root)
#   WT_BUILD       $WT_ROOT/.build: everything generated (venvs, images' logs, dist, inventories)
#   WT_VENV        $WT_ROOT/.venv: pinned dev tools from requirements-dev.txt
# `wt_bootstrap` does the whole preparation; the pieces are usable on their own.

WT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
WT_BUILD="$WT_ROOT/.build"
WT_VENV="$WT_ROOT/.venv"
WT_IMPORTER_VENV="$WT_BUILD/venv-importer"
WT_COLLECTIONS="$WT_BUILD/collections"
WT_LOCKS="$WT_BUILD/locks"
WT_LOGS="$WT_BUILD/logs"
export WT_ROOT WT_BUILD WT_VENV WT_IMPORTER_VENV WT_COLLECTIONS

# The docker options that let systemd boot as PID 1 in a container on these machines
# (`--privileged` fails here: one capability is missing). Molecule platforms use the same
# settings, see molecule/shared/create.yml. Keep the ulimit at or below the host's hard
# nofile limit (20000 on these machines), otherwise the container refuses to start. NET_ADMIN lets
# webops.tornado.firewall guard the backend ports with nftables in the container's network namespace.
WT_CONTAINER_NOFILE=16384
WT_SYSTEMD_DOCKER_OPTS=(
  --cap-add SYS_ADMIN
  --cap-add NET_ADMIN
  --security-opt seccomp=unconfined
  --cgroupns host
  --volume /sys/fs/cgroup:/sys/fs/cgroup:rw
  --tmpfs /run
  --tmpfs /tmp
  --ulimit "nofile=$WT_CONTAINER_NOFILE:$WT_CONTAINER_NOFILE"
  --stop-signal SIGRTMIN+3
)

wt_log() { printf '==> %s\n' "$*" >&2; }
wt_warn() { printf 'WARNING: %s\n' "$*" >&2; }
wt_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Run "$@" while holding an exclusive lock named $1: several engineers (and CI jobs) share
# one working tree, and two concurrent venv or image builds would corrupt each other.
wt_with_lock() {
  local name="$1"
  shift
  mkdir -p "$WT_LOCKS"
  (
    flock -w 1800 9 || wt_die "timed out waiting for lock $WT_LOCKS/$name.lock"
    "$@"
  ) 9>"$WT_LOCKS/$name.lock"
}

wt_sha256_files() { cat "$@" | sha256sum | cut -c1-64; }

# --- host checks ---------------------------------------------------------------------------

wt_require_root_debian() {
  local id="" version_id="" id_like=""
  if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    id="$(. /etc/os-release && printf '%s' "${ID:-}")"
    # shellcheck disable=SC1091
    id_like="$(. /etc/os-release && printf '%s' "${ID_LIKE:-}")"
    # shellcheck disable=SC1091
    version_id="$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")"
  fi
  if [[ "$id" != debian && " $id_like " != *" debian "* ]]; then
    cat >&2 <<EOF
ERROR: this script prepares a Debian machine (Debian 12 bookworm, as in CI); found ID='${id:-unknown}'.
On another system, install by hand and run the tools from requirements-dev.txt yourself:
  - Docker Engine (dockerd running, 'docker info' answers)
  - debootstrap and the Debian archive keyring (to build the test images)
  - Python 3.11 with the venv module, git, curl, flock (util-linux)
Or run the scripts inside a Debian 12 VM as root.
EOF
    exit 1
  fi
  if [[ "$id" == debian && -n "$version_id" && "$version_id" != 12 ]]; then
    wt_warn "tested on Debian 12; this is Debian $version_id"
  fi
  if [[ "$(id -u)" != 0 ]]; then
    cat >&2 <<EOF
ERROR: run as root: it installs Debian packages, starts dockerd and runs debootstrap.
  sudo $0
EOF
    exit 1
  fi
}

wt_require_python() {
  local py="${WT_PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || wt_die "python3 not found: install Python 3.11 (apt-get install -y python3 python3-venv)"
  if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)'; then
    wt_die "$py is $("$py" -V 2>&1); ansible-core 2.19 needs Python >= 3.11 (set WT_PYTHON=/path/to/python3.11)"
  fi
}

# --- Debian packages -------------------------------------------------------------------------

wt_apt_install() {
  (($# > 0)) || return 0
  wt_log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@"
}

wt_ensure_packages() {
  local missing=()
  "${WT_PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap debian-archive-keyring)
  command -v git >/dev/null 2>&1 || missing+=(git)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  # ansible-test sanity checks the shell scripts with it (and skips that test without it).
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; then
    missing+=(docker.io)
  fi
  if ((${#missing[@]})); then
    wt_apt_install "${missing[@]}"
  fi
}

# --- Docker engine ---------------------------------------------------------------------------

wt_ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  wt_with_lock dockerd _wt_start_dockerd
}

_wt_start_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null 2>&1 || wt_die "dockerd not found: apt-get install -y docker.io"
  mkdir -p "$WT_BUILD"
  wt_log "starting dockerd in the background (log: $WT_BUILD/dockerd.log)"
  # No systemd on these machines: dockerd runs detached from this script's session so it
  # outlives the script. It keeps running afterwards, like a service would.
  setsid nohup dockerd >>"$WT_BUILD/dockerd.log" 2>&1 </dev/null &
  local pid=$! i
  for ((i = 0; i < 60; i++)); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  tail -n 30 "$WT_BUILD/dockerd.log" >&2 || true
  wt_die "dockerd exited or did not answer within 60 s (see $WT_BUILD/dockerd.log)"
}

# --- Python virtual environments -------------------------------------------------------------

# wt_ensure_venv DIR REQUIREMENTS_FILE...
# Re-uses DIR when its stamp matches the hash of the requirement files and the Python version.
wt_ensure_venv() {
  local dir="$1"
  shift
  wt_with_lock "venv-$(basename "$dir")" _wt_ensure_venv "$dir" "$@"
}

_wt_ensure_venv() {
  local dir="$1"
  shift
  local py="${WT_PYTHON:-python3}" stamp want
  want="$({ "$py" -VV; cat "$@"; } | sha256sum | cut -c1-64)"
  stamp="$dir/.webops-tornado-stamp"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  if [[ -x "$dir/bin/python" ]] && ! "$dir/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$dir"
  fi
  if [[ ! -x "$dir/bin/python" ]]; then
    wt_log "creating virtualenv $dir"
    rm -rf "$dir"
    "$py" -m venv "$dir"
  fi
  local args=() f log
  for f in "$@"; do args+=(-r "$f"); done
  mkdir -p "$WT_LOGS"
  log="$WT_LOGS/venv-$(basename "$dir").log"
  wt_log "installing ${*#"$WT_ROOT/"} into $dir (log: $log)"
  if ! "$dir/bin/python" -m pip install --disable-pip-version-check "${args[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    wt_die "pip install into $dir failed (see $log)"
  fi
  printf '%s\n' "$want" >"$stamp"
}

# --- the collection where Ansible looks for it -----------------------------------------------

# Ansible finds collections only under a folder named ansible_collections/<namespace>/<name>;
# the repository root is the collection, so a symlink in .build puts it there.
wt_ensure_collection_link() {
  local parent="$WT_COLLECTIONS/ansible_collections/webops"
  local link="$parent/tornado"
  mkdir -p "$parent"
  if [[ -L "$link" && "$(cd "$link" && pwd -P)" == "$WT_ROOT" ]]; then
    return 0
  fi
  rm -f "$link"
  ln -s ../../../.. "$link"
  [[ "$(cd "$link" && pwd -P)" == "$WT_ROOT" ]] || wt_die "symlink $link does not resolve to $WT_ROOT"
}

# Molecule finds mitogen's strategy plugins at a path that does not depend on the venv's Python
# version (.config/molecule/config.yml).
wt_ensure_mitogen_link() {
  local plugins
  plugins="$("$WT_VENV/bin/python" -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins"
  [[ -d "$plugins/strategy" ]] || wt_die "mitogen's strategy plugins are not in $plugins (requirements-dev.txt)"
  ln -sfn "$plugins" "$WT_BUILD/mitogen"
}

# The unit tests check the HAProxy configurations they render with HAProxy's own parser (haproxy -c), the
# version Debian ships. The package and the libraries it needs are unpacked into .build/haproxy, not
# installed: no service starts on this machine. .build/haproxy/haproxy runs it.
wt_ensure_haproxy_check() {
  local dir="$WT_BUILD/haproxy"
  [[ -x "$dir/haproxy" ]] && "$dir/haproxy" -v >/dev/null 2>&1 && return 0
  wt_with_lock haproxy-check _wt_unpack_haproxy "$dir"
}

_wt_unpack_haproxy() {
  local dir="$1" deb packages=(haproxy liblua5.3-0 libopentracing-c-wrapper0 libopentracing1)
  rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/root"
  (cd "$dir/debs" && { apt-get download "${packages[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "${packages[@]}"; }; }) || wt_die "cannot download ${packages[*]} from Debian's archive"
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  cat >"$dir/haproxy" <<'SCRIPT'
#!/bin/sh
# Debian's haproxy, unpacked by scripts/lib/common.sh (wt_ensure_haproxy_check), with its libraries.
root="$(dirname "$0")/root"
LD_LIBRARY_PATH="$(find "$root" -name '*.so*' -printf '%h:' | tr -s ':')" exec "$root/usr/sbin/haproxy" "$@"
SCRIPT
  chmod 0755 "$dir/haproxy"
  "$dir/haproxy" -v >/dev/null || wt_die "the unpacked haproxy does not run (see $dir)"
}

# Environment every tool run by the scripts needs. Collections bundled by the `ansible` pip
# package are still found: ansible scans sys.path for ansible_collections as well.
wt_activate() {
  export PATH="$WT_VENV/bin:$PATH"
  export VIRTUAL_ENV="$WT_VENV"
  export ANSIBLE_COLLECTIONS_PATH="$WT_COLLECTIONS"
}

# Everything except the images: root/Debian check, packages, dockerd, .venv, collection link.
wt_bootstrap() {
  wt_require_root_debian
  mkdir -p "$WT_BUILD" "$WT_LOGS"
  wt_ensure_packages
  wt_require_python
  wt_ensure_docker
  wt_ensure_venv "$WT_VENV" "$WT_ROOT/requirements-dev.txt" "$WT_ROOT/requirements.txt"
  wt_ensure_collection_link
  wt_ensure_mitogen_link
  wt_ensure_haproxy_check
  wt_activate
}

# --- systemd containers ----------------------------------------------------------------------

# wt_start_systemd_container NAME IMAGE [extra docker run options...]
wt_start_systemd_container() {
  local name="$1" image="$2"
  shift 2
  docker run --detach --name "$name" --hostname "$name" \
    "${WT_SYSTEMD_DOCKER_OPTS[@]}" "$@" "$image" /lib/systemd/systemd >/dev/null
  wt_wait_systemd "$name"
}

# Wait until systemd in container NAME finished booting ("running" or "degraded").
wt_wait_systemd() {
  local name="$1" state="" i
  for ((i = 0; i < 90; i++)); do
    state="$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in
      running | degraded) return 0 ;;
    esac
    if [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]]; then
      docker logs --tail 30 "$name" >&2 || true
      wt_die "container $name stopped while booting"
    fi
    sleep 1
  done
  wt_die "systemd in container $name did not finish booting within 90 s (state: ${state:-unknown})"
}

# Write a YAML inventory with one docker-connected host in both deployment groups.
wt_write_inventory() {
  local file="$1" host="$2"
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<EOF
# Generated by scripts/ (webops.tornado test bed): one container, the single-host deployment.
all:
  children:
    tornado_app:
      hosts:
        ${host}:
    tornado_lb:
      hosts:
        ${host}:
  vars:
    ansible_connection: community.docker.docker
    # The containers run as root: with the same user, become needs no sudo in the image.
    ansible_user: root
    ansible_python_interpreter: /usr/bin/python3
    # Pipelining: one docker exec per task instead of several (upload, run, clean up); 20-25 % faster runs.
    ansible_pipelining: true
    # The container's hard open-file limit (docker --ulimit): the limits role refuses more.
    limits_nofile: ${WT_CONTAINER_NOFILE}
EOF
}
