#!/usr/bin/env bash
# The main job, on a machine without internet: a local CNCF registry (scripts/test-env.sh) seeded
# with small Kairos-shaped images in the real naming (scripts/fixtures/seed.mjs --set demo), and
# kairos-img run against it with --registry, as a user would run it against quay.io.
# Run through `npm run demo` (which builds first). KIMG_KEEP_ENV=1 leaves the services running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

say() { printf '\n\033[1m# %s\033[0m\n' "$*" >&2; }

already_up=0
if bash scripts/test-env.sh status 2>/dev/null; then already_up=1; fi
eval "$(bash scripts/test-env.sh start)"

work="$(mktemp -d -t kairos-img-demo.XXXXXX)"
cleanup() {
  rm -rf "$work"
  if [[ "$already_up" == 0 && "${KIMG_KEEP_ENV:-0}" != 1 ]]; then bash scripts/test-env.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

say "Seeding $KIMG_REGISTRY with Kairos-shaped images (quay.io is unreachable here)"
node scripts/fixtures/seed.mjs --registry "$KIMG_REGISTRY" --set demo >/dev/null

export KAIROS_IMG_CACHE="$work/cache"
export KAIROS_IMG_REGISTRY="$KIMG_REGISTRY" KAIROS_IMG_PLAIN_HTTP=1
run() {
  printf '\n$ kairos-img %s\n' "$*"
  "$repo/bin/kairos-img" "$@"
}

say "The support matrix, as data (flavors/kairos.yaml): the newest release by default, any release with --version"
run flavors
run flavors --version v3.2.1

say "Naming a release offline: the era follows the version"
run resolve ubuntu-22-lts standard --version v1.5.1 --k3s v1.26.1+k3s1
run resolve ubuntu-22-lts core --version v2.4.3 --arch amd64
run resolve opensuse-arm-rpi core --version v2.4.3 --artifact
say "A flavor asked for at a release where it does not exist names its replacement (exit 2)"
run resolve opensuse core --version v1.5.0 || echo "(exit $?)"

say "Today's Kairos: v3.x and Hadron (v4), the flavor release named or found on the registry"
run resolve hadron core --version v4.1.0 --flavor-release v0.2.0 --arch amd64
run resolve ubuntu core --version v3.2.1 --flavor-release 24.04 --arch amd64
run resolve hadron core --arch amd64

say "Tags, classified and judged by the versioning policy (noise hidden)"
run tags opensuse core
run tags opensuse standard
say "A flavor is judged across every repository it has been published in: core-ubuntu:v1.5.1 is on an unsupported branch"
run tags ubuntu core --arch amd64

say "The upgrade candidates of one system, from its /etc/kairos-release, with the changelogs to read"
printf '%s\n' 'KAIROS_FLAVOR="ubuntu"' 'KAIROS_FLAVOR_RELEASE="24.04"' 'KAIROS_VARIANT="core"' 'KAIROS_MODEL="generic"' \
  'KAIROS_TARGETARCH="amd64"' 'KAIROS_RELEASE="v3.2.1"' 'KAIROS_REGISTRY_AND_ORG="quay.io/kairos"' > "$work/kairos-release"
printf '\n$ cat kairos-release\n'
cat "$work/kairos-release"
run releases --release-file "$work/kairos-release"
say "... and from an image: an old v1 system, its target in the new naming, the seed's major-release warning"
run releases --image quay.io/kairos/core-ubuntu:v1.5.1

say "What changes between two images (release keys, kernel, packages), reading only the top layers"
run diff quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1 quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4
run releases --image quay.io/kairos/alpine:3.21-core-amd64-generic-v3.4.2 --diff

say "No version given: kairos-img asks the registry for the newest release"
run resolve opensuse core
run resolve opensuse standard

say "Daemonless pull into an OCI layout that skopeo reads"
run pull opensuse core --to "oci:$work/oci"
skopeo inspect "oci:$work/oci:v1.4.0" | head -n 12

say "A root filesystem, verified and atomic (the second run comes from the cache)"
run unpack opensuse standard "$work/rootfs"
run unpack opensuse standard "$work/rootfs" --force --version v1.5.0 --k3s v1.26.1+k3s1
printf '\n$ cat rootfs/etc/os-release\n'
cat "$work/rootfs/etc/os-release"

say "A Raspberry Pi disk image out of its OCI artifact: only build/ is written, the checksum of the raw image verified"
run extract-img alpine-arm-rpi --out "$work/build"
run extract-img alpine-arm-rpi --out "$work/raw" --decompress --quiet
ls -l "$work/raw"

say "Into a Docker engine: the engine pulls (our credentials, one platform); then an image loaded from the cache"
if [[ -n "${DOCKER_HOST:-}" ]] && curl -fsS --unix-socket "${DOCKER_HOST#unix://}" http://engine/_ping >/dev/null 2>&1; then
  run pull opensuse standard --to docker
  run pull opensuse core --version v1.4.0 --to docker --from-cache
else
  echo "(no Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}: skipping pull --to docker)"
fi

say "Talos Linux through the same machinery: its support matrix as data"
run talos matrix --version 1.3,1.2
run talos check --talos 1.3 --kubernetes 1.26 --platform rpi4 --arch arm64 --from 1.2 --on 2023-02-01
run talos check --talos 1.3 --kubernetes 1.27 --on 2023-04-01 || echo "(exit $? — not supported)"

say "Is it supported, current, and what its name says? (versioning policy + the image's own release files)"
run verify opensuse standard
run verify quay.io/kairos/core-opensuse:v1.3.2 || echo "(exit $? — an unsupported branch fails verification)"

say "CI artifact steps: a disk image too big for CI artifacts travels as an ORAS artifact (what oras push/pull read)"
( cd "$work/raw" && run artifact push "$KIMG_REGISTRY/ci/kairos-rpi:v1.5.0" "$(ls *.img | head -n 1):application/octet-stream" --artifact-type application/vnd.kairos.disk-image.v1 --annotation org.opencontainers.image.source=demo )
printf 'SPDX-demo\n' > "$work/sbom.spdx.json"
( cd "$work" && run artifact attach "$KIMG_REGISTRY/ci/kairos-rpi:v1.5.0" sbom.spdx.json --artifact-type application/spdx+json )
run artifact discover "$KIMG_REGISTRY/ci/kairos-rpi:v1.5.0"
run artifact pull "$KIMG_REGISTRY/ci/kairos-rpi:v1.5.0" --out "$work/fetched"
ls -l "$work/fetched"

say "Air-gapped: a release mirrored into an OCI layout (sneakernet), then unpacked from it with no registry"
run mirror opensuse core --versions latest --arch amd64 --to "oci:$work/usb"
run unpack "oci:$work/usb:kairos/core-opensuse:v1.4.0" "$work/rootfs-airgap"
run mirror "oci:$work/usb" --to "$KIMG_REGISTRY/site-mirror" --dry-run

say "A signature gate: with a key, an image not signed by it is refused before any layer is downloaded (exit 3)"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/cosign.key" 2>/dev/null
openssl ec -in "$work/cosign.key" -pubout -out "$work/cosign.pub" 2>/dev/null
run pull opensuse core --version v1.4.0 --key "$work/cosign.pub" --to "oci:$work/signed" || echo "(exit $? — nothing was written: $(ls "$work/signed" 2>/dev/null | wc -l) files)"

say "Done. Everything above ran against $KIMG_REGISTRY; against quay.io, drop --registry."
