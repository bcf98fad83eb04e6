#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rpmsg_tool_test.sh TOOL: the command-line tool as a shell user meets it:
# its exit status (0 success, 1 failure, 2 usage), where its messages go
# (stderr, "rpmsg: ..."), the help, and the counters its listing shows
# after known traffic (a ping of 5 and 3 messages through a channel node).
#
# Prints one line per check and "rpmsg_tool_test: PASS (N checks)"; exits 1
# on the first failure.
set -u
TOOL=$1
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$ERR"' EXIT
n=0

fail() {
	echo "rpmsg_tool_test: FAIL: $*"
	echo "--- stdout"; cat "$OUT"; echo "--- stderr"; cat "$ERR"
	exit 1
}

# expect STATUS ARGS...: run the tool, its exit status must be STATUS.
expect() {
	want=$1
	shift
	"$TOOL" "$@" >"$OUT" 2>"$ERR"
	got=$?
	[ "$got" -eq "$want" ] || fail "rpmsg $*: exit $got, wanted $want"
	n=$((n + 1))
	echo "rpmsg_tool_test: ok $n rpmsg $*: exit $got"
}

# has FILE REGEX WHAT: a line of FILE matches REGEX (grep -E).
has() {
	grep -E -q -e "$2" "$1" || fail "$3: no line /$2/"
	n=$((n + 1))
	echo "rpmsg_tool_test: ok $n $3"
}

expect 0 --help
has "$OUT" '^Usage: rpmsg \[OPTIONS\] COMMAND' "--help: usage on stdout"
has "$OUT" '^Exit status: 0 success, 1 failure' "--help: the exit status documented"
[ -s "$ERR" ] && fail "--help wrote to stderr"
expect 0 -h
expect 2
has "$ERR" "^rpmsg: no command" "no command: said on stderr"
expect 2 frobnicate
has "$ERR" "^rpmsg: unknown command 'frobnicate'" "unknown command: said on stderr"
has "$ERR" "^Try 'rpmsg --help'" "usage errors point to --help"
[ -s "$OUT" ] && fail "a usage error wrote to stdout"
expect 2 -c abc ping rpmsg-uapi-echo
has "$ERR" "^rpmsg: bad count 'abc'" "bad option value: said on stderr"
expect 2 create-ept only-a-name
expect 1 destroy-ept rpmsg9
has "$ERR" '^rpmsg: .*rpmsg9: No such file or directory' "missing node: errno's text"
expect 1 ping no-such-service
has "$ERR" "^rpmsg: ping: no service or endpoint node 'no-such-service'" "missing service"
expect 1 -t 100 -c 1 create-dev rpmsg-raw 1024 -- recv rpmsg0
has "$ERR" '^rpmsg: 0 of 1 messages within 100 ms' "recv timeout"
# Known traffic, then the counters: the ping's 5 and the talk's 3 go out
# through the link; the channel node's endpoint has 3 each way.
expect 0 -q -c 5 ping rpmsg-uapi-echo -- create-dev rpmsg-raw 1024 -- talk rpmsg0 a b c -- list
has "$OUT" '^5 sent, 5 received, 0% lost, 0 bad' "ping statistics"
has "$OUT" '^rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ us, p50 [0-9.]+, p90' \
	"ping latency figures"
has "$OUT" '^ +[0-9]+ - [0-9]+ +\|#+ *\| [0-9]+$' "ping histogram"
has "$OUT" '^CONTROL +LINK +MTU +RX +TX +DROPPED +EPTS +CHANNELS$' "list: link counters"
has "$OUT" '^rpmsg_ctrl1 +virtio0 +496 +[0-9]+ +8 +0 ' "list: the link sent 8"
has "$OUT" '^ENDPOINT +NAME +SRC +DST +ADDR +QUEUED +RX +TX +RX_DROPPED$' \
	"list: endpoint counters"
has "$OUT" '^rpmsg0 +rpmsg-raw +[0-9]+ +1024 +-?[0-9]+ +0 +3 +3 +0$' \
	"list: the channel node's endpoint received 3, sent 3"
# A message longer than the tool's buffer is refused, not copied past it.
expect 2 create-dev rpmsg-raw 1024 -- talk rpmsg0 "$(head -c 70000 /dev/zero | tr '\0' a)"
has "$ERR" '^rpmsg: talk: message of 70000 bytes, at most 65536' "over-long message"
echo "rpmsg_tool_test: PASS ($n checks)"
