# shellcheck shell=bash
# Base images for Molecule, the build check and the demo: Debian built with debootstrap
# (there is no container registry to pull from), booting systemd as PID 1.
#
#   webops-tornado/debian:<suite>        what scenarios use (moved to the current build)
#   webops-tornado/debian:<suite>-<key>  the cache: key = hash of the suite, the package list,
#                                        this file and the extra CA certificates
#   webops-tornado/debian:bookworm-warm  the same with what the roles install already installed
#                                        (cache: bookworm-warm-<key>, see WT_WARM_PACKAGES)
# Requires common.sh. The content of this file is part of the cache key: editing it rebuilds.

WT_IMAGE_REPO="webops-tornado/debian"
WT_IMAGE_SUITES=(bookworm trixie)
# sudo: playbooks use `become: true` as on real servers (Ansible connects as root here, sudo is a no-op).
WT_IMAGE_PACKAGES="python3,python3-apt,systemd,systemd-sysv,ca-certificates,iproute2,procps,sudo"
# Certificates to trust inside the images (e.g. a TLS-intercepting proxy's CA, so pip and apt
# work in the containers). Every *.crt below it is copied; a missing or empty folder is fine.
WT_EXTRA_CA_DIR="${WEBOPS_TORNADO_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"
WT_IMAGES_SH="${BASH_SOURCE[0]}"
# The warm variant: for scenarios that test something other than a first install, so they do not pay
# for apt and PyPI again (about a minute of every converge). What the roles would install: the app role's
# packages (roles/app/vars/main.yml __app_packages) and its pinned uv at the path it checks, nginx's
# (roles/nginx/vars/Debian.yml), supervisord and nftables. molecule/default, bad_input, limits, the build
# check, the demo and the bench boot the bare image, so the install path stays tested as users meet it.
WT_WARM_SUITES=(bookworm)
WT_WARM_PACKAGES="python3-venv git nginx ca-certificates supervisor nftables"
WT_ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The uv the app role pins (app_uv_version), installed where it looks for it (__app_uv_dir).
wt_uv_version() {
  sed -n 's/^app_uv_version: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*$/\1/p' "$WT_ROOT_DIR/roles/app/defaults/main.yml"
}

# The extra CA files, sorted, relative to WT_EXTRA_CA_DIR.
_wt_ca_files() {
  [[ -d "$WT_EXTRA_CA_DIR" ]] || return 0
  (cd "$WT_EXTRA_CA_DIR" && find -L . -type f -name '*.crt' | sed 's|^\./||' | LC_ALL=C sort)
}

wt_image_key() {
  local suite="$1" f
  {
    printf 'suite=%s\npackages=%s\n' "$suite" "$WT_IMAGE_PACKAGES"
    cat "$WT_IMAGES_SH"
    while IFS= read -r f; do
      printf 'ca=%s\n' "$f"
      cat "$WT_EXTRA_CA_DIR/$f"
    done < <(_wt_ca_files)
  } | sha256sum | cut -c1-12
}

# The warm variant's key: the base image's, the packages and the uv version.
wt_warm_key() {
  printf 'base=%s\nwarm=%s\nuv=%s\n' "$(wt_image_key "$1")" "$WT_WARM_PACKAGES" "$(wt_uv_version)" |
    sha256sum | cut -c1-12
}

# wt_ensure_images [SUITE...]: make sure webops-tornado/debian:<suite> (and <suite>-warm, for the
# suites of WT_WARM_SUITES) is the current build of every suite (default: all). Missing ones are built
# in parallel, one job per suite (debootstrap downloads to its own target folder, so two runs never
# share state; the warm variant follows its base); logs in .build/logs/image-<suite>[-warm].log.
wt_ensure_images() {
  local suites=("$@") suite pids=() failed=0 i
  ((${#suites[@]})) || suites=("${WT_IMAGE_SUITES[@]}")
  mkdir -p "$WT_LOGS"
  for suite in "${suites[@]}"; do
    _wt_ensure_suite "$suite" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
  done
  return "$failed"
}

# _wt_ensure_suite SUITE: its base image, then its warm variant when it has one; says which failed.
_wt_ensure_suite() {
  local suite="$1" key
  key="$(wt_image_key "$suite")"
  if docker image inspect "$WT_IMAGE_REPO:$suite-$key" >/dev/null 2>&1; then
    docker tag "$WT_IMAGE_REPO:$suite-$key" "$WT_IMAGE_REPO:$suite"
    wt_log "image $WT_IMAGE_REPO:$suite is cached ($suite-$key)"
  else
    wt_log "building image $WT_IMAGE_REPO:$suite (log: $WT_LOGS/image-$suite.log)"
    wt_with_lock "image-$suite" wt_build_image "$suite" >"$WT_LOGS/image-$suite.log" 2>&1 || {
      printf 'image build for %s failed; last lines of %s:\n' "$suite" "$WT_LOGS/image-$suite.log" >&2
      tail -n 25 "$WT_LOGS/image-$suite.log" >&2 || true
      return 1
    }
  fi
  [[ " ${WT_WARM_SUITES[*]} " == *" $suite "* ]] || return 0
  key="$(wt_warm_key "$suite")"
  if docker image inspect "$WT_IMAGE_REPO:$suite-warm-$key" >/dev/null 2>&1; then
    docker tag "$WT_IMAGE_REPO:$suite-warm-$key" "$WT_IMAGE_REPO:$suite-warm"
    wt_log "image $WT_IMAGE_REPO:$suite-warm is cached ($suite-warm-$key)"
    return 0
  fi
  wt_log "building image $WT_IMAGE_REPO:$suite-warm (log: $WT_LOGS/image-$suite-warm.log)"
  wt_with_lock "image-$suite-warm" _wt_build_warm_image "$suite" >"$WT_LOGS/image-$suite-warm.log" 2>&1 || {
    printf 'image build for %s-warm failed; last lines of %s:\n' "$suite" "$WT_LOGS/image-$suite-warm.log" >&2
    tail -n 25 "$WT_LOGS/image-$suite-warm.log" >&2 || true
    return 1
  }
}

# _wt_build_warm_image SUITE: install the packages and uv (as webops.tornado.tool_env does, with its note) in a
# container of the base image, commit it.
# apt's lists and caches are dropped: the roles skip apt for packages that are there.
_wt_build_warm_image() {
  local suite="$1" key uv name
  key="$(wt_warm_key "$suite")"
  docker image inspect "$WT_IMAGE_REPO:$suite-warm-$key" >/dev/null 2>&1 && {
    docker tag "$WT_IMAGE_REPO:$suite-warm-$key" "$WT_IMAGE_REPO:$suite-warm"
    return 0
  }
  uv="$(wt_uv_version)"
  [[ -n "$uv" ]] || wt_die "app_uv_version not found in roles/app/defaults/main.yml"
  name="wt-image-$suite-warm-$$"
  docker rm -f "$name" >/dev/null 2>&1 || true
  # shellcheck disable=SC2064
  trap "docker rm -f '$name' >/dev/null 2>&1 || true" EXIT
  # The settings are exported in the script, not given with -e: a commit would keep them in the image.
  docker run --name "$name" "$WT_IMAGE_REPO:$suite" /bin/sh -euxc "
      export DEBIAN_FRONTEND=noninteractive PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1
      apt-get update
      apt-get install -y $WT_WARM_PACKAGES
      python3 -m venv --without-pip /opt/webops-tornado/uv-$uv
      /opt/webops-tornado/uv-$uv/bin/python \$(ls /usr/share/python-wheels/pip-*.whl | tail -n 1)/pip install -q uv==$uv
      echo $uv > /opt/webops-tornado/uv-$uv/webops-tornado-installed
      apt-get clean
      rm -rf /var/lib/apt/lists/*"
  docker commit -c 'CMD ["/lib/systemd/systemd"]' \
    -c "LABEL org.webops-tornado.suite=$suite org.webops-tornado.key=$suite-warm-$key" \
    "$name" "$WT_IMAGE_REPO:$suite-warm-$key"
  docker rm -f "$name" >/dev/null
  trap - EXIT
  docker tag "$WT_IMAGE_REPO:$suite-warm-$key" "$WT_IMAGE_REPO:$suite-warm"
  _wt_prune_old_images "$suite-warm" "$key"
  wt_log "built $WT_IMAGE_REPO:$suite-warm ($suite-warm-$key)"
}

# Unmount whatever debootstrap left mounted below a rootfs, then delete it without ever
# crossing into another file system.
_wt_remove_rootfs() {
  local dir="$1" mnt
  [[ -n "$dir" && -d "$dir" ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# wt_build_image SUITE: debootstrap, trust the extra CAs, import, tag. Always rebuilds.
wt_build_image() {
  local suite="$1" key rootfs f
  key="$(wt_image_key "$suite")"
  # Another job may have built it while this one waited for the lock.
  if docker image inspect "$WT_IMAGE_REPO:$suite-$key" >/dev/null 2>&1; then
    docker tag "$WT_IMAGE_REPO:$suite-$key" "$WT_IMAGE_REPO:$suite"
    return 0
  fi
  mkdir -p "$WT_BUILD"
  rootfs="$(mktemp -d "$WT_BUILD/rootfs-$suite.XXXXXX")"
  # shellcheck disable=SC2064
  trap "_wt_remove_rootfs '$rootfs'" EXIT
  wt_log "debootstrap $suite into $rootfs"
  debootstrap --variant=minbase --include="$WT_IMAGE_PACKAGES" "$suite" "$rootfs"

  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  while IFS= read -r f; do
    wt_log "trusting extra CA $WT_EXTRA_CA_DIR/$f"
    install -D -m 0644 "$WT_EXTRA_CA_DIR/$f" "$rootfs/usr/local/share/ca-certificates/$f"
  done < <(_wt_ca_files)
  chroot "$rootfs" update-ca-certificates

  # Every container gets its own machine id at boot (an empty file tells systemd to make one);
  # downloaded packages are not needed in the image.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"
  rm -f "$rootfs"/var/cache/apt/archives/*.deb

  wt_log "importing $WT_IMAGE_REPO:$suite-$key"
  tar --numeric-owner -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    docker import \
      -c 'CMD ["/lib/systemd/systemd"]' \
      -c 'ENV container=docker' \
      -c "LABEL org.webops-tornado.suite=$suite org.webops-tornado.key=$key" \
      - "$WT_IMAGE_REPO:$suite-$key"
  docker tag "$WT_IMAGE_REPO:$suite-$key" "$WT_IMAGE_REPO:$suite"
  _wt_remove_rootfs "$rootfs"
  trap - EXIT
  _wt_prune_old_images "$suite" "$key"
  wt_log "built $WT_IMAGE_REPO:$suite ($suite-$key)"
}

# Drop older cache tags of the suite (the image stays while a container still uses it).
_wt_prune_old_images() {
  local suite="$1" key="$2" tag
  while read -r tag; do
    [[ "$tag" =~ ^$suite-[0-9a-f]{12}$ && "$tag" != "$suite-$key" ]] || continue
    docker rmi "$WT_IMAGE_REPO:$tag" >/dev/null 2>&1 || true
  done < <(docker images --format '{{.Tag}}' "$WT_IMAGE_REPO")
}
