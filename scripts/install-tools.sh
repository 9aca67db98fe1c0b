#!/usr/bin/env bash
# Installs the Debian packages cairn's tests use as real, independent checks (registry, skopeo, umoci,
# podman, docker, bubblewrap). Needs root (or sudo). Safe to run again: apt-get skips what is installed.
set -euo pipefail
packages=(
  docker-registry   # Debian's distribution registry: the real registry of the integration tests
  skopeo umoci oci-image-tool   # outside readers of every image format cairn writes
  podman runc uidmap            # run images; runc because crun fails on these machines' hybrid cgroups
  docker.io                     # dockerd started by the tests, for `docker load`
  bubblewrap                    # the buildpack sandbox
  apache2-utils openssl         # htpasswd and test certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
