# shellcheck shell=bash
# Images of the lab, all built here from Debian's archive (no registry can be reached):
#   kbz-lab/debian:bookworm-<hash>   debootstrap minbase, imported           (the root of everything)
#   kbz-lab/server:<hash>            systemd + sshd "server"                 (one container per lab host)
# Tags carry a hash of their inputs, so an existing tag means "already built": no rebuild.
# Images are shared by every lab instance and checkout on the machine: builds (and `down --purge`) hold the
# machine-wide lock $LAB_IMAGES_LOCK, so two labs needing the same tag build it once (the second one waits,
# then finds it cached) and never race on the temporary :building tags.
IMAGE_LOCK_WAIT=${LAB_IMAGE_LOCK_WAIT:-3600}   # a cold build of every service image takes ≈ 15 min here
with_image_lock() { with_lock 8 "$LAB_IMAGES_LOCK" "$IMAGE_LOCK_WAIT" "the lab's image builds" "$@"; }

DEBIAN_MIRROR="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SERVER_CTX="$LAB_SRC/images/server"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

base_image_tag() {
  # Bump the literal when the debootstrap recipe below changes.
  echo "kbz-lab/debian:bookworm-$(printf 'minbase bookworm %s v1' "$DEBIAN_MIRROR" | sha256sum | cut -c1-12)"
}

server_image_tag() {
  echo "kbz-lab/server:$( (base_image_tag; cat "$SERVER_CTX"/*) | sha256sum | cut -c1-12)"
}

# debootstrap into a scratch dir (≈1 min), then stream it into `docker import`.
build_base_image() { with_image_lock build_base_image_locked; }
build_base_image_locked() {
  local tag; tag=$(base_image_tag)
  if image_exists "$tag"; then info "base image $tag cached"; return 0; fi
  log "building base image $tag (debootstrap --variant=minbase bookworm)"
  local root="$LAB_DIR/cache/rootfs"
  rm -rf "$root"; mkdir -p "$root"
  if ! timeout 900 debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" \
      >"$LAB_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$LAB_DIR/debootstrap.log" >&2
    rm -rf "$root"
    die "debootstrap failed (see $LAB_DIR/debootstrap.log)"
  fi
  # apt caches and the host's resolv.conf copy do not belong in an image.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/etc/resolv.conf
  tar -C "$root" --numeric-owner -c . | docker import --change 'LABEL kbz-lab=1' - "$tag" >/dev/null \
    || die "docker import of the base image failed"
  rm -rf "$root"
}

# docker_build TAG CONTEXT [build args...]: the classic builder (BuildKit is not installed with docker.io),
# output to a log shown only on failure.
docker_build() {
  local tag=$1 ctx=$2; shift 2
  local logf; logf="$LAB_DIR/build-$(echo "$tag" | tr '/:' '__').log"
  if ! DOCKER_BUILDKIT=0 timeout 1800 "$DOCKER" build --rm --force-rm -t "$tag" "$@" "$ctx" >"$logf" 2>&1; then
    tail -n 25 "$logf" >&2
    die "docker build $tag failed (see $logf)"
  fi
}

build_server_image() { with_image_lock build_server_image_locked; }
build_server_image_locked() {
  build_base_image
  local tag; tag=$(server_image_tag)
  if image_exists "$tag"; then info "server image $tag cached"; return 0; fi
  log "building server image $tag"
  docker_build "$tag" "$SERVER_CTX" --build-arg "BASE=$(base_image_tag)"
}
