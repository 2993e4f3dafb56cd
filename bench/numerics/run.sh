#!/usr/bin/env bash
# The shared numerics against their candidates, in one run:
#  1. normal quantile: old Acklam code, koshi-numeric (AS 241), statrs; accuracy against 50-digit
#     mpmath values over p = 1e-295..1-1e-15, time per call over 1e6 random p;
#  2. normal cdf: old NR erfc, koshi-numeric (libm erfc), statrs; accuracy and time;
#  3. Cholesky factor + solve of k x k SPD systems, k = 5..1000: old gravity code, koshi-numeric,
#     nalgebra, faer (sequential); time and backward error;
#  4. parallel map over 10,000 jobs: sequential, koshi-numeric map_indices, rayon.
# The candidates build in their own workspace (bench/numerics/Cargo.toml), never in the project's.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c 'import mpmath' 2>/dev/null; then
  pip install -q mpmath || { apt-get update -qq && apt-get install -y -qq python3-mpmath; }
fi
[ -f bench/numerics/reference_quantile.csv ] || (cd bench/numerics && python3 gen_reference.py)
cargo build --release -q --manifest-path bench/numerics/Cargo.toml --target-dir target
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
./target/release/numerics-bench bench/numerics
