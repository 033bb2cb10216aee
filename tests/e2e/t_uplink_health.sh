#!/usr/bin/env bash
# An external uplink's health, measured by mantad's ICMPv6 prober:
#
#   node (mantad)                                 prov (the "provider")
#     up0   2001:db8:ffff::2/64  <==== veth ====>  wan0   2001:db8:ffff::1/64
#     late0 2001:db8:fffe::2/64  <==== veth ====>  late1  2001:db8:fffe::1/64
#                                   (created only once mantad runs)
#
#   1. [uplink.ext] (type external, up0, target 2001:db8:ffff::1, a probe
#      every 0.5 s) comes up; its latency is measured, not zero, and close
#      to what ping says over the same path; its byte counters move; the
#      interface stays someone else's (managed: false).
#   2. The far end stops answering (nftables drops the echo requests on the
#      provider): down within 10 s, the link itself still up; answering
#      again: up.
#   3. The provider's end of the veth goes down (no carrier on up0): down,
#      link "down"; back: up.
#   4. 40 % of the echo replies dropped (numgen random mod 10 < 4):
#      degraded, with the loss in the window between 10 and 80 %.
#   5. [uplink.late] names an interface that does not exist yet: down,
#      link "missing", error "interface late0 does not exist"; once the
#      veth is created it comes up without a restart (the prober binds to
#      the new interface); deleted, down; made again, up (bound again, to
#      the new ifindex).
#   6. `manta uplink down ext' stops watching and leaves up0 in place;
#      mantad stops cleanly and leaves both interfaces too.
#
# 2001:db8::/32 (documentation) exists only inside these namespaces.
source "$(dirname "$0")/lib.sh"

TARGET=2001:db8:ffff::1
LATE_TARGET=2001:db8:fffe::1

new_host node
new_host prov
# The target must survive its link going down and up (step 3).
n prov sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
ip -n "${NS[node]}" link add up0 type veth peer name wan0 netns "${NS[prov]}"
ip -n "${NS[node]}" addr add 2001:db8:ffff::2/64 dev up0 nodad
ip -n "${NS[prov]}" addr add "$TARGET/64" dev wan0 nodad
ip -n "${NS[node]}" link set up0 up
ip -n "${NS[prov]}" link set wan0 up
wait_for 5 n node ping -6 -c1 -W1 "$TARGET"

mantad_key A node
mantad_config A
cat >>"${CONF[A]}" <<EOF

[uplink.ext]
type = external
interface = up0
health_targets = $TARGET
probe_interval = 0.5

[uplink.late]
type = external
interface = late0
health_targets = $LATE_TARGET
probe_interval = 0.5
EOF
start_mantad node A "${CONF[A]}"

# uplink NAME EXPR: EXPR over that uplink's object `u' (python3).
uplink() { uplink_get A "$1" "$2"; }
uplink_is() {
	[[ $(uplink "$1" "u['state']") == "$2" ]]
}
replies_at_least() {
	(($(uplink "$1" "u['replies']") >= $2))
}
# bytes_grew NAME RX TX: both counters are past RX and TX.
bytes_grew() {
	(($(uplink "$1" "u['rx_bytes']") > $2 && $(uplink "$1" "u['tx_bytes']") > $3))
}
# wait_state NAME STATE SECONDS: poll until NAME is STATE; say how long it took.
wait_state() {
	local t0
	t0=$(now_us)
	wait_for "$3" uplink_is "$1" "$2" || fail "$1: not $2 after $3 s: $(uplink "$1" u)"
	say "$1: $2 after $(awk -v us=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", us / 1e6 }') s"
}

# --- 1. up, with a real latency ------------------------------------------------
pretty ext "up, latency measured"
wait_state ext up 10
# Ten answered probes (5 s) so that the median is of something.
wait_for 15 replies_at_least ext 10
[[ $(uplink ext "u['managed']") == false ]] || fail "ext: managed is not false"
[[ $(uplink ext "u['iface']") == up0 ]] || fail "ext: iface is not up0"
[[ $(uplink ext "u['link']") == up ]] || fail "ext: link is not up"
[[ $(uplink ext "any(a.startswith('2001:db8:ffff::2/') for a in u['addresses'])") == true ]] ||
	fail "ext: 2001:db8:ffff::2 not among its addresses: $(uplink ext "u['addresses']")"
ours=$(uplink ext "u['latency_ms']")
loss=$(uplink ext "u['loss']")
rx1=$(uplink ext "u['rx_bytes']")
tx1=$(uplink ext "u['tx_bytes']")
ping_out=$(n node ping -6 -c 5 -i 0.2 -I up0 "$TARGET")
theirs=$(ping_avg "$ping_out")
say "latency: ours (median) $ours ms, ping's (average of 5) $theirs ms; loss $loss"
# A veth's round trip is tens of microseconds and both figures are mostly
# scheduling on a shared 2-core box: compare within a loose factor.
python3 -c '
import sys
ours, theirs = float(sys.argv[1]), float(sys.argv[2])
assert ours > 0, "latency is zero"
lo, hi = 0.2 * theirs - 0.5, 5 * theirs + 0.5
assert lo <= ours <= hi, "ours %.3f ms outside [%.3f, %.3f] around ping %.3f ms" % (ours, lo, hi, theirs)
' "$ours" "$theirs" || fail "ext: latency $ours ms does not match ping's $theirs ms"
[[ $loss == 0.0 || $loss == 0 ]] || fail "ext: loss $loss on a clean veth"
# ping's echo replies reached our raw socket too (same interface, same
# target): none of them may count as ours.
[[ $(uplink ext "u['replies'] <= u['probes_sent']") == true ]] ||
	fail "ext: more replies than probes, strays were counted: $(uplink ext u)"
wait_for 5 bytes_grew ext "$rx1" "$tx1"

# --- 2. the far end stops answering ----------------------------------------------
pretty prov "drops every echo request"
n prov nft -f - <<'EOF'
table inet health {
	chain in {
		type filter hook input priority 0;
		icmpv6 type echo-request counter drop
	}
	chain out {
		type filter hook output priority 0;
	}
}
EOF
wait_state ext down 10
[[ $(uplink ext "u['link']") == up ]] || fail "ext: the link should still be up"
# The drops are real: the provider's counter saw the requests.
chain=$(n prov nft list chain inet health in)
[[ $chain =~ packets\ [1-9] ]] || fail "prov: the drop rule never matched: $chain"
pretty prov "answers again"
n prov nft flush chain inet health in
wait_state ext up 10

# --- 3. no carrier ------------------------------------------------------------------
pretty prov "wan0 down (up0 loses its carrier)"
n prov ip link set wan0 down
wait_state ext down 5
[[ $(uplink ext "u['link']") == down ]] || fail "ext: link should be down, is $(uplink ext "u['link']")"
n prov ip link set wan0 up
wait_state ext up 10

# --- 4. 40 % of the replies lost ----------------------------------------------------
pretty prov "drops 40 % of the echo replies"
n prov nft add rule inet health out icmpv6 type echo-reply numgen random mod 10 '<' 4 drop
# With 40 % loss a window of 20 probes holds 20 % or more lost nearly all
# the time; three losses in a row (6.4 % of the probes) make it down for a
# moment and are then taken out of the window. Simulated, degraded comes
# after 11 probes (median), 31 (p99), and fails to within 80 probes (40 s)
# far less than once in 10,000 runs.
wait_state ext degraded 40
loss=$(uplink ext "u['loss']")
say "loss in the window: $loss"
python3 -c 'import sys; l = float(sys.argv[1]); assert 0.1 <= l <= 0.8, l' "$loss" ||
	fail "ext: loss $loss is not around 40 %"
n prov nft flush chain inet health out
wait_state ext up 25

# --- 5. an interface that appears later ------------------------------------------
pretty late "interface missing at start"
uplink_is late down || fail "late: not down"
[[ $(uplink late "u['link']") == missing ]] || fail "late: link is not missing"
[[ $(uplink late "u['error']") == "interface late0 does not exist" ]] ||
	fail "late: error is $(uplink late "u['error']")"
pretty late "the interface appears"
ip -n "${NS[node]}" link add late0 type veth peer name late1 netns "${NS[prov]}"
ip -n "${NS[node]}" addr add 2001:db8:fffe::2/64 dev late0 nodad
ip -n "${NS[prov]}" addr add "$LATE_TARGET/64" dev late1 nodad
ip -n "${NS[node]}" link set late0 up
ip -n "${NS[prov]}" link set late1 up
wait_state late up 10
[[ $(uplink late "u['error']") == null ]] || fail "late: error is still $(uplink late "u['error']")"
pretty late "the interface is deleted, then made again (a new ifindex)"
ip -n "${NS[node]}" link del late0
wait_state late down 5
[[ $(uplink late "u['link']") == missing ]] || fail "late: link is not missing"
ip -n "${NS[node]}" link add late0 type veth peer name late1 netns "${NS[prov]}"
ip -n "${NS[node]}" addr add 2001:db8:fffe::2/64 dev late0 nodad
ip -n "${NS[prov]}" addr add "$LATE_TARGET/64" dev late1 nodad
ip -n "${NS[node]}" link set late0 up
ip -n "${NS[prov]}" link set late1 up
wait_state late up 10

# --- 6. down, stop: the interfaces stay ----------------------------------------------
pretty ext "uplink down"
n node "$MANTA" --socket "${SOCK[A]}" uplink down ext >/dev/null
[[ $(uplink ext "u['admin']") == down ]] || fail "ext: admin is not down"
uplink_is ext down || fail "ext: not down after uplink down"
n node ip link show dev up0 up >/dev/null || fail "ext: up0 was changed by uplink down"
stop_mantad A
n node ip link show dev up0 up >/dev/null || fail "up0 did not survive mantad"
n node ip link show dev late0 up >/dev/null || fail "late0 did not survive mantad"
pretty ok "uplink health: latency, down within 10 s, back up, degraded, late interface"
