#!/usr/bin/env bash
# The per-peer firewall: default policy, allow rules by peer, return
# traffic and explicit deny over it, network scope, tags set by the owner
# reaching every node, reject mode, bad rules, and rules across a restart.
#
#               ┌─────────────── r ("internet") ───────────────┐
#               └──────┬────────────────┬────────────────┬──────┘
#               ┌──── a ─────┐   ┌──── b ─────┐   ┌──── c ─────┐
#               │ alice      │   │ bob        │   │ carol      │
#               │ owns home  │   │ home       │   │ home,      │
#               │ and work   │   │            │   │ work as    │
#               │            │   │            │   │ `cwork'    │
#               └────────────┘   └────────────┘   └────────────┘
#
# Every host runs tools/tcp_probe.py serving TCP ports 22, 7000, 7001, 7100,
# 9000 and 9999 on all its addresses; connections are made to overlay
# addresses only. No [peer] sections: everyone is a network member, so the
# default inbound policy (deny, but ICMP) applies.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}
mj() {
	local name=$1 expr=$2 out
	shift 2
	out=$(mc "$name" --json "$@") || return 1
	json_eval "$expr" <<<"$out"
}
members() {
	mj "$1" "sum(1 for m in [x for x in j if x['name'] == '$2'][0]['members'] if not m['revoked'])" networks
}
reaches() { n "${HOSTOF[$1]}" ping -c 1 -W 1 "$2" >/dev/null; }
# tcp FROM ADDRESS PORT [SECONDS]: what one connection attempt got (ok,
# refused, timeout, error: ...).
tcp() {
	local out
	out=$(n "${HOSTOF[$1]}" "$TOOLS/tcp_probe.py" connect "$2" "$3" "${4:-2}") || true
	echo "${out%% *}"
}
connects() { [[ $(tcp "$@" 1) == ok ]]; }
# expect WANT FROM ADDRESS PORT: the attempt must end as WANT.
expect() {
	local want=$1 got
	shift
	got=$(tcp "$@")
	[[ $got == "$want" ]] || fail "TCP $1 -> $2 port $3: $got, expected $want"
	say "$1 -> $2 port $3: $got"
}
fwj() { json_get "$1" "j['firewall']$2"; }

topo_internet a b c
for x in A B C; do
	mantad_key "$x" "${x,,}"
	mantad_config "$x"
	start_mantad "${x,,}" "$x" "${CONF[$x]}"
	n "${x,,}" "$TOOLS/tcp_probe.py" serve 22 7000 7001 7100 9000 9999 >"$TMP/serve-$x.log" 2>&1 &
	BGPIDS+=("$!")
done
for x in A B C; do
	wait_for 5 grep -q listening "$TMP/serve-$x.log"
done

pretty A "home: alice owns it, bob and carol join"
mc A create home --hostname alice >/dev/null
mc B join "$(mj A "j['token']" invite home)" --hostname bob >/dev/null
mc C join "$(mj A "j['token']" invite home)" --hostname carol >/dev/null
for x in A B C; do
	wait_for 15 eval '[[ $(members '"$x"' home) == 3 ]]'
done

pretty A "1. the default policy: members ping each other, TCP is closed"
[[ $(mj A "j['default']['in'] + ' ' + j['rules'][0]['text']" firewall list) == "deny in allow -p icmp" ]]
for x in A B C; do
	for y in A B C; do
		[[ $x != "$y" ]] && wait_for 15 reaches "$x" "${V6[$y]}"
	done
done
expect timeout B "${V6[A]}" 22
expect timeout C "${V6[A]}" 22
(($(fwj A "['dropped']['in_default']") >= 2)) || fail "no default drops counted"
say "alice's status: $(json_get A "j['firewall']['dropped']")"

pretty A "firewall add in allow -p tcp -P 22 --peer bob: bob connects, carol still cannot"
mc A firewall add in allow -p tcp -P 22 --peer bob
expect ok B "${V6[A]}" 22
expect ok B "$(json_get A 'j["ipv4"]')" 22
expect timeout C "${V6[A]}" 22
expect timeout B "${V6[A]}" 7000

pretty A "2. return traffic of alice's own connection passes her default deny"
mc B firewall add in allow -p tcp -P 9000 --peer alice >/dev/null
expect ok A "${V6[B]}" 9000
(($(fwj A "['passed']['return']") > 0)) || fail "no return traffic counted"
pretty A "an explicit deny for bob wins over connection tracking"
mc A firewall add in deny -p tcp --peer bob --at 1
expect timeout A "${V6[B]}" 9000
expect timeout B "${V6[A]}" 22
(($(fwj A "['dropped']['in_rule']") > 0)) || fail "no rule drops counted"
mc A firewall del 1 >/dev/null
expect ok A "${V6[B]}" 9000

pretty A "3. network scope: work (alice, carol as cwork); rules scoped to it"
mc A create work --hostname alice >/dev/null
mc C join "$(mj A "j['token']" invite work)" --hostname cwork >/dev/null
wait_for 15 eval '[[ $(members C work) == 2 ]]'
mc A firewall add in allow -p tcp -P 7000 --network work >/dev/null
expect ok C "${V6[A]}" 7000
expect timeout B "${V6[A]}" 7000
# carol is `carol' in home but `cwork' in work: a rule for carol scoped to
# work does not open what her home name would
mc A firewall add in allow -p tcp -P 7001 --peer carol --network work
expect timeout C "${V6[A]}" 7001
mc A firewall add in allow -p tcp -P 7001 --peer cwork.work >/dev/null
expect ok C "${V6[A]}" 7001
expect timeout B "${V6[A]}" 7001

pretty A "4. a tag rule on every node follows the owner's tag changes, no restart"
for x in A B C; do
	mc "$x" firewall add in allow -p tcp -P 7100 --peer tag:admin >/dev/null
done
expect timeout B "${V6[A]}" 7100
expect timeout B "${V6[C]}" 7100
mc A tag home bob admin ops
wait_for 10 connects B "${V6[C]}" 7100
wait_for 10 connects B "${V6[A]}" 7100
expect timeout C "${V6[B]}" 7100
[[ $(mj C "[m['tags'] for m in [x for x in j if x['name'] == 'home'][0]['members'] if m['hostname'] == 'bob'][0]" networks) == '["admin", "ops"]' ]] ||
	fail "carol does not see bob's tags"
say "carol sees bob's tags: admin ops"
if out=$(mc B tag home carol admin 2>&1); then fail "a member set tags"; fi
grep -q "only the owner" <<<"$out" || fail "tag by a member said: $out"
mc A tag home bob
wait_for 10 eval '! connects B '"${V6[C]}"' 7100'
wait_for 10 eval '! connects B '"${V6[A]}"' 7100'
say "tags cleared: bob is shut out again on alice and carol"

pretty A "5. reject mode: refused at once instead of a timeout"
mc A firewall reject on >/dev/null
expect refused C "${V6[A]}" 22
expect refused C "$(json_get A 'j["ipv4"]')" 22
mc A firewall add out deny -p tcp -P 9999 >/dev/null
expect refused A "${V6[B]}" 9999
(($(fwj A "['rejected']") >= 3)) || fail "rejects not counted"
mc A firewall reject off >/dev/null
expect timeout C "${V6[A]}" 22

pretty A "6. bad rules are refused with the bad part quoted"
bad() {
	local want=$1 out
	shift
	if out=$(mc A firewall add "$@" 2>&1); then fail "accepted: $*"; fi
	grep -qF -- "$want" <<<"$out" || fail "\`$*' said: $out"
	say "$out"
}
bad "port range \`9000-8000' runs backwards" in allow -p tcp -P 9000-8000
bad "\`Bob!' is not a peer" in allow --peer 'Bob!'
bad "\`sideways' is not a direction" sideways allow
bad "ports apply to tcp and udp" in allow -p icmp -P 22
bad "\`tag:Admin' is not a tag" in allow --peer tag:Admin
if mc A firewall del 99 2>/dev/null; then fail "deleted rule 99"; fi
rc=0
mc A firewall add in 2>/dev/null || rc=$?
((rc == 2)) || fail "a missing action exits $rc, not 2 (usage)"
rc=0
mc A firewall add in allow -P 0 2>/dev/null || rc=$?
((rc == 1)) || fail "a bad port exits $rc, not 1"

pretty A "the flow table's bound is a setting too"
mc A firewall flows 1024 >/dev/null
[[ $(fwj A "['max_flows']") == 1024 ]] || fail "max_flows did not change"
expect ok B "${V6[A]}" 22

pretty A "rules, defaults and modes survive a restart"
before=$(mc A --json firewall list | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps([j["rules"], j["default"], j["reject"], j["max_flows"]]))')
[[ $(stat -c %a "${STATE[A]}/firewall.json") == 600 ]] || fail "firewall.json is not mode 600"
stop_mantad A
start_mantad a A "${CONF[A]}"
after=$(mc A --json firewall list | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps([j["rules"], j["default"], j["reject"], j["max_flows"]]))')
[[ $before == "$after" ]] || fail "the rules changed across a restart: $before / $after"
wait_for 15 connects B "${V6[A]}" 22
expect timeout C "${V6[A]}" 22
mc A firewall list

for x in A B C; do stop_mantad "$x"; done
