#!/usr/bin/env bash
# Installs the Debian 12 packages for running convoy under Slurm and for tests/slurm/
# (a two-node Slurm cluster on one machine). Kept apart from setup.sh because a plain build
# or a laptop user needs none of it. Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(
  slurm-wlm                  # slurmctld, slurmd and the client commands (sbatch, scontrol, ...)
  munge                      # the authentication daemon Slurm requires
  openmpi-bin libopenmpi-dev # mpirun reads the Slurm allocation; mpicc builds the test stand-in
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "setup_slurm_packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
# The packages' postinst scripts try to start services; without systemd that only warns.
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
