# shellcheck shell=bash
# Service images for the lab, built from Debian's packages (no registry is reachable), tagged with the
# version of the package inside (kbz-lab/redis:7.0.15, never :latest), saved as `docker save` archives
# in .lab/bundle/ for kbz-install's air-gap upload (index.tsv: name, reference, image ID, file).

# name -> the package whose version names the image. Order = build priority (next modules first).
SERVICE_NAMES=(redis haproxy postgres rabbitmq mariadb)
declare -A SERVICE_PKG=([redis]=redis-server [haproxy]=haproxy [postgres]=postgresql-15
                        [rabbitmq]=rabbitmq-server [mariadb]=mariadb-server)
BUNDLE_DIR="$LAB_DIR/bundle"
BUNDLE_INDEX="$BUNDLE_DIR/index.tsv"

# Debian version -> upstream version: drop the epoch (5:), the revision (-1~deb12u1) and +dfsg-style suffixes.
upstream_version() { sed -E 's/^[0-9]+://; s/[-+~].*$//' <<<"$1"; }

service_src_hash() {
  (base_image_tag; cat "$LAB_SRC/images/$1/Dockerfile") | sha256sum | cut -c1-12
}

# The image already built from these exact inputs, found by its label (so only the version tag is needed).
service_image_id() {
  docker images -q --no-trunc --filter "label=kbz-lab.src=$(service_src_hash "$1")" \
    --filter "reference=kbz-lab/$1" | head -n1
}

build_service_image() {
  local name=$1
  [ -n "${SERVICE_PKG[$name]:-}" ] || die "unknown image '$name' (images: ${SERVICE_NAMES[*]})"
  with_image_lock service_image_locked "$name"   # sets SERVICE_REF and SERVICE_ID
  save_to_bundle "$name" "$SERVICE_REF" "$SERVICE_ID"   # the bundle is this checkout's: no machine lock
}

# Build (unless cached) and tag kbz-lab/NAME:<package version>; under the machine-wide image lock.
service_image_locked() {
  local name=$1 pkg=${SERVICE_PKG[$1]}
  build_base_image
  local id; id=$(service_image_id "$name")
  if [ -z "$id" ]; then
    log "building image $name (Debian package $pkg)"
    docker_build "kbz-lab/$name:building" "$LAB_SRC/images/$name" \
      --build-arg "BASE=$(base_image_tag)" --label kbz-lab=1 --label "kbz-lab.src=$(service_src_hash "$name")"
    id=$(docker image inspect -f '{{.Id}}' "kbz-lab/$name:building")
  else
    info "image $name cached"
  fi
  local deb ver ref
  deb=$(docker run --rm --entrypoint dpkg-query "$id" -W -f '${Version}' "$pkg") \
    || die "$name: cannot read the version of $pkg in the image"
  ver=$(upstream_version "$deb")
  [ -n "$ver" ] || die "$name: empty version from '$deb'"
  ref="kbz-lab/$name:$ver"
  docker tag "$id" "$ref"
  docker rmi "kbz-lab/$name:building" >/dev/null 2>&1 || true   # untag only; the image keeps $ref
  SERVICE_REF=$ref SERVICE_ID=$id
}

# docker save once per image ID; the index row is replaced, never duplicated.
save_to_bundle() {
  local name=$1 ref=$2 id=$3 file="$BUNDLE_DIR/$1.tar"
  mkdir -p "$BUNDLE_DIR"
  touch "$BUNDLE_INDEX"
  if [ -s "$file" ] && awk -F'\t' -v n="$name" -v i="$id" '$1 == n && $3 == i {f = 1} END {exit !f}' "$BUNDLE_INDEX"; then
    info "$ref already in the bundle"
  else
    log "saving $ref to $file"
    docker save -o "$file.tmp" "$ref" || { rm -f "$file.tmp"; die "docker save $ref failed"; }
    mv "$file.tmp" "$file"
  fi
  { grep -v -P "^\Q$name\E\t" "$BUNDLE_INDEX" || true; printf '%s\t%s\t%s\t%s\n' "$name" "$ref" "$id" "$file"; } \
    | sort >"$BUNDLE_INDEX.tmp"
  mv "$BUNDLE_INDEX.tmp" "$BUNDLE_INDEX"
  info "$name -> $ref ($(du -h "$file" | cut -f1))"
}

# `images: {...}` for kbz.yaml: only what is in the bundle.
bundle_images_yaml() {
  if [ ! -s "$BUNDLE_INDEX" ]; then echo "images: {}"; return 0; fi
  echo "images:"
  awk -F'\t' '{printf "  %s: %s\n", $1, $2}' "$BUNDLE_INDEX"
  # Module 3's PgBouncer: the lab's postgres image holds Debian's pgbouncer 1.18 (no other image here).
  awk -F'\t' '$1 == "postgres" {printf "  pgbouncer: %s   # Debian pgbouncer, inside the lab postgres image\n", $2}' "$BUNDLE_INDEX"
}

# Module 3 settings: the uid:gid of the postgres account inside the lab's postgres image (Debian gives it
# a system uid, the official postgres image 999:999); data and configs on the host belong to it.
bundle_postgres_yaml() {
  local ref uid gid
  # No bundle yet (a fresh clone: lab up runs before the images are built): awk would exit 2 under set -e.
  [ -s "$BUNDLE_INDEX" ] || return 0
  ref=$(awk -F'\t' '$1 == "postgres" {print $2}' "$BUNDLE_INDEX")
  [ -n "$ref" ] || return 0
  uid=$(docker run --rm --entrypoint id "$ref" -u postgres) && gid=$(docker run --rm --entrypoint id "$ref" -g postgres) \
    || { warn "cannot read the postgres uid of $ref"; return 0; }
  echo "postgres: {uid: $uid, gid: $gid}   # the postgres account of $ref (module 3)"
}
