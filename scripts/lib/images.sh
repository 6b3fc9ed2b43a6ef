# shellcheck shell=bash
# Base images for Molecule, the build check and the demo: Debian built with debootstrap
# (there is no container registry to pull from), booting systemd as PID 1.
#
#   webops-tornado/debian:<suite>        what scenarios use (moved to the current build)
#   webops-tornado/debian:<suite>-<key>  the cache: key = hash of the suite, the package list,
#                                        this file and the extra CA certificates
# Requires common.sh. The content of this file is part of the cache key: editing it rebuilds.

WT_IMAGE_REPO="webops-tornado/debian"
WT_IMAGE_SUITES=(bookworm trixie)
# sudo: playbooks use `become: true` as on real servers (Ansible connects as root here, sudo is a no-op).
WT_IMAGE_PACKAGES="python3,python3-apt,systemd,systemd-sysv,ca-certificates,iproute2,procps,sudo"
# Certificates to trust inside the images (e.g. a TLS-intercepting proxy's CA, so pip and apt
# work in the containers). Every *.crt below it is copied; a missing or empty folder is fine.
WT_EXTRA_CA_DIR="${WEBOPS_TORNADO_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"
WT_IMAGES_SH="${BASH_SOURCE[0]}"

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

# wt_ensure_images [SUITE...]: make sure webops-tornado/debian:<suite> is the current build of
# every suite (default: all). Missing ones are built in parallel (debootstrap downloads to its
# own target folder, so two runs never share state); logs in .build/logs/image-<suite>.log.
wt_ensure_images() {
  local suites=("$@") suite key pids=() failed=0 i
  ((${#suites[@]})) || suites=("${WT_IMAGE_SUITES[@]}")
  local todo=()
  for suite in "${suites[@]}"; do
    key="$(wt_image_key "$suite")"
    if docker image inspect "$WT_IMAGE_REPO:$suite-$key" >/dev/null 2>&1; then
      docker tag "$WT_IMAGE_REPO:$suite-$key" "$WT_IMAGE_REPO:$suite"
      wt_log "image $WT_IMAGE_REPO:$suite is cached ($suite-$key)"
    else
      todo+=("$suite")
    fi
  done
  ((${#todo[@]})) || return 0
  mkdir -p "$WT_LOGS"
  for suite in "${todo[@]}"; do
    wt_log "building image $WT_IMAGE_REPO:$suite (log: $WT_LOGS/image-$suite.log)"
    wt_with_lock "image-$suite" wt_build_image "$suite" >"$WT_LOGS/image-$suite.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      failed=1
      printf 'image build for %s failed; last lines of %s:\n' "${todo[$i]}" "$WT_LOGS/image-${todo[$i]}.log" >&2
      tail -n 25 "$WT_LOGS/image-${todo[$i]}.log" >&2 || true
    fi
  done
  return "$failed"
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
