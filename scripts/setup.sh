#!/usr/bin/env bash
# Installs every Debian 12 package convoy needs to build, test, train and benchmark.
# Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libdnnl-dev                      # oneDNN 2.6: convolution, pooling, normalization kernels
  ocl-icd-opencl-dev               # Debian's oneDNN CMake config requires the OpenCL headers
  openmpi-bin libopenmpi-dev       # MPI: data-parallel ranks
  libhdf5-dev hdf5-tools           # checkpoints and HDF5 datasets; h5dump for users
  libboost-program-options-dev     # command line and recipe files
  libgtest-dev libgmock-dev        # unit tests
  nlohmann-json3-dev               # JSON Lines metrics and --json reports
  libxxhash-dev                    # checkpoint dataset checksums
  libturbojpeg0-dev libpng-dev     # image-folder datasets, PNG output
  zlib1g-dev                       # gzipped IDX files
  dataset-fashion-mnist            # the default dataset
  slurm-wlm munge                  # the real two-node Slurm test of scripts/slurm/
)
python_packages=(python3-h5py python3-numpy python3-torch python3-matplotlib libopenblas0-pthread)

missing=()
for package in "${packages[@]}" "${python_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
