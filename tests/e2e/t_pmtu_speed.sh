#!/usr/bin/env bash
# Throughput through a narrowed path stays within 20% of the open path's:
# mantad A and B behind two routers whose link has MTU 1500, 1300 and
# 1200, iperf3 TCP with IPv4 and IPv6 inside: four rounds of 2-second runs
# interleaving the MTUs, each run compared with its own round's MTU 1500
# run, and the median of those ratios at least 0.8 (bench/pmtu.sh, which
# holds the topology and the method; `make bench' runs it with longer runs).
# t_pmtu.sh shows the same path's correctness: PTB, fragments, MSS, 100 MB
# intact in each family.
export BENCH_SECONDS=${BENCH_SECONDS:-2} BENCH_PMTU_RUNS=${BENCH_PMTU_RUNS:-4}
export BENCH_PMTU_MIN=${BENCH_PMTU_MIN:-0.8}
exec "$(dirname "$0")/../../bench/pmtu.sh"
