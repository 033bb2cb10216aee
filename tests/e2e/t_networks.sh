#!/usr/bin/env bash
# Networks: create, invite, join, gossip, owner offline, restart, kick and
# isolation, with four nodes and no [peer] sections at all.
#
#   a (alice, owner of home)   b (bob, owner of work)   c (carol)   d (dave)
#   all behind one "internet" router r, each with IPv4 and IPv6 underlay.
#
# home = alice, bob, carol; work = bob, dave. dave must never reach alice or
# carol; carol is kicked from home at the end.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

# mc NAME ARGS...: the CLI against NAME's daemon.
mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}
# mj NAME EXPR ARGS...: run `manta --json ARGS` on NAME and evaluate EXPR
# over its output (as json_eval does).
mj() {
	local name=$1 expr=$2 out
	shift 2
	out=$(mc "$name" --json "$@") || return 1
	json_eval "$expr" <<<"$out"
}
# mtrue NAME EXPR ARGS...: the same, as an exit status.
mtrue() {
	[[ $(mj "$1" "bool($2)" "${@:3}") == true ]]
}
# members NAME NET: how many live members NAME knows in NET.
members() {
	mj "$1" "sum(1 for m in [x for x in j if x['name'] == '$2'][0]['members'] if not m['revoked'])" networks
}
reaches() { n "${HOSTOF[$1]}" ping -c 1 -W 1 "$2" >/dev/null; }
unreachable() { ! n "${HOSTOF[$1]}" ping -c 1 -W 1 "$2" >/dev/null; }
# join NAME TOKEN HOST: must succeed.
join() { mc "$1" join "$2" --hostname "$3"; }

topo_internet a b c d
for x in A B C D; do
	mantad_key "$x" "${x,,}"
	mantad_config "$x"
	start_mantad "${x,,}" "$x" "${CONF[$x]}"
done

pretty A "create home; invite bob with a single-use token"
mtrue A "j['name'] == 'home' and j['hostname'] == 'alice' and j['owner']" create home --hostname alice
t1=$(mj A "j['token']" invite home)
[[ $t1 == manta://join/* ]] || fail "invite printed \`$t1'"
join B "$t1" bob
pretty C "the same token again: refused as used"
if out=$(mc C join "$t1" --hostname carol 2>&1); then fail "a used single-use invite was accepted"; fi
grep -q "already used" <<<"$out" || fail "second use said: $out"
say "$out"

pretty C "a tampered token and an expired one are refused"
t2=$(mj A "j['token']" invite home)
mid=$((${#t2} / 2))
c=${t2:mid:1}
[[ $c == A ]] && r=B || r=A
if out=$(mc C join "${t2:0:mid}$r${t2:mid+1}" --hostname carol 2>&1); then fail "a tampered invite was accepted"; fi
grep -q "not valid" <<<"$out" || fail "tampered invite said: $out"
say "$out"
read -r t3 exp <<<"$(mj A "j['token'] + ' ' + str(j['expires'])" invite home --expires 1)"
wait_for 5 eval '(($(date +%s) > '"$exp"'))'
if out=$(mc C join "$t3" --hostname carol 2>&1); then fail "an expired invite was accepted"; fi
grep -q "expired" <<<"$out" || fail "expired invite said: $out"
say "$out"

pretty C "join with a fresh token; carol learns bob, who joined before her"
join C "$t2" carol
for x in A B C; do
	wait_for 10 eval '[[ $(members '"$x"' home) == 3 ]]'
done
pretty A "every member pings every other over both overlay addresses"
for x in A B C; do
	for y in A B C; do
		[[ $x == "$y" ]] && continue
		wait_for 15 reaches "$x" "${V6[$y]}"
		wait_for 5 reaches "$x" "$(json_get "$y" 'j["ipv4"]')"
	done
done
json_true B "peer('C')['hostname'] == 'carol' and peer('C')['networks'] == ['home']"
mtrue B "j[0]['hostname'] == 'carol' and j[0]['network'] == 'home'" whois carol.home.pi
mtrue B "j[0]['hostname'] == 'alice'" whois "${V6[A]}"
mtrue B "len([r for r in j['replies'] if r is not None]) >= 1" ping carol -c 2

pretty A "the owner goes offline; bob and carol keep talking"
stop_mantad A
reaches B "${V6[C]}"
reaches C "${V6[B]}"
pretty C "kill -9 carol and start her again while the owner is away"
v4c=$(json_get C 'j["ipv4"]')
reap C KILL
start_mantad c C "${CONF[C]}"
[[ $(json_get C 'j["ipv6"]') == "${V6[C]}" && $(json_get C 'j["ipv4"]') == "$v4c" ]] ||
	fail "carol came back with other addresses"
wait_for 15 reaches C "${V6[B]}"
wait_for 5 reaches B "$v4c"

pretty B "bob creates work; dave joins it"
start_mantad a A "${CONF[A]}"
mc B create work --hostname bob >/dev/null
join D "$(mj B "j['token']" invite work)" dave
wait_for 15 reaches D "${V6[B]}"
wait_for 5 reaches B "${V6[D]}"
pretty D "isolation: dave reaches neither alice nor carol, and they do not know him"
unreachable D "${V6[A]}"
unreachable D "${V6[C]}"
json_true A "all(p['public_key'] != '${PUB[D]}' for p in j['peers'])"
json_true C "all(p['public_key'] != '${PUB[D]}' for p in j['peers'])"
json_true D "all(p['public_key'] not in ('${PUB[A]}', '${PUB[C]}') for p in j['peers'])"
unreachable A "${V6[D]}"

pretty D "dave renames himself in work: the owner bob signs it"
mc D hostname work david >/dev/null
mtrue B "j[0]['hostname'] == 'david' and j[0]['network'] == 'work'" whois david.work
pretty B "bob is offline while alice renames herself; back, he catches up"
stop_mantad B
mc A hostname home alicia >/dev/null
start_mantad b B "${CONF[B]}"
wait_for 10 mtrue B "j[0]['hostname'] == 'alicia'" whois alicia.home

pretty A "kick carol: within 10 s no member exchanges packets with her"
wait_for 15 reaches A "${V6[C]}"
mc A kick home carol >/dev/null
wait_for 10 eval 'unreachable B '"${V6[C]}"' && unreachable A '"${V6[C]}"
wait_for 10 json_true B "all(p['public_key'] != '${PUB[C]}' for p in j['peers'])"
unreachable C "${V6[B]}"
unreachable C "${V6[A]}"
reaches B "${V6[A]}"

pretty B "a member record altered on disk is reported with its path and skipped"
stop_mantad B
python3 - "${STATE[B]}/networks/home.json" <<'PY'
import base64, json, sys
p = sys.argv[1]
j = json.load(open(p))
raw = bytearray(base64.b64decode(j["members"][0]))
raw[100] ^= 1
j["members"][0] = base64.b64encode(bytes(raw)).decode()
json.dump(j, open(p, "w"))
PY
cp "${STATE[B]}/networks/home.json" "$TMP/home.json.tampered"
start_mantad b B "${CONF[B]}"
grep -q "networks/home.json: members\[0\]" "${LOG[B]}" || fail "no message naming the file and record"
cmp -s "${STATE[B]}/networks/home.json" "$TMP/home.json.tampered" || fail "the bad file was rewritten"
[[ $(mj B "sorted(x['name'] for x in j)" networks) == '["work"]' ]]
wait_for 10 reaches B "${V6[D]}"

pretty D "down takes the TUN away and keeps the daemon; up brings it back"
mc D down >/dev/null
! n d ip link show dev manta0 >/dev/null 2>&1 || fail "manta0 still there after down"
json_true D "j['state'] == 'down' and peer('B')['networks'] == ['work']"
mc D up >/dev/null
json_true D "j['state'] == 'up'"
wait_for 10 reaches D "${V6[B]}"

pretty D "dave leaves work: the owner revokes him and drops him as a peer"
mc D leave work >/dev/null
[[ $(mj D "len(j)" networks) == 0 ]]
wait_for 10 json_true B "all(p['public_key'] != '${PUB[D]}' for p in j['peers'])"
mtrue B "[m['revoked'] for m in j[0]['members'] if m['hostname'] == 'david'] == [True]" networks

for x in A B C D; do stop_mantad "$x"; done
