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
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-tools: all packages present"
else
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# podman without systemd (containers, CI machines): systemd's cgroup manager and journald events are not there,
# crun fails on hybrid cgroups and raising rlimits is not permitted. A drop-in, written only when absent and only
# where systemd is not running, makes `podman run` (and `cairn run`) work there.
dropin=/etc/containers/containers.conf.d/50-cairn.conf
if [ ! -d /run/systemd/system ] && [ ! -e "$dropin" ]; then
  $SUDO mkdir -p "$(dirname "$dropin")"
  $SUDO tee "$dropin" >/dev/null <<'CONF'
# Written by cairn's scripts/install-tools.sh for podman on a machine without systemd.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  echo "install-tools: wrote $dropin (podman without systemd)"
fi
