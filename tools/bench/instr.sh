#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# instr.sh OUT.jsonl RPMSG_BENCH [N]
#
# Instructions per message of the rpmsg send and receive paths, counted by
# callgrind: a figure that does not move with the machine's load, unlike
# the times of rpmsg_bench. For each direction (host to remote, remote to
# host) and payload (16, 496 bytes), and for the zero-copy sends
# (get_tx_payload_buffer() and send_nocopy(), one at a time; the batch
# calls, 16 at a time), rpmsg_bench --instr runs
# both roles in one process and thread and toggles collection around the
# sends only, then around the receives only; the collected total over N
# messages is one send's (receive's) share. Prints a table and appends
# {"name","value","unit"} lines to OUT.jsonl. Skipped (exit 0) without
# valgrind.
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 OUT.jsonl RPMSG_BENCH [N]" >&2
	exit 2
fi
out=$1
bin=$2
n=${3:-2000}
if ! command -v valgrind >/dev/null 2>&1; then
	echo "instr.sh: valgrind not installed: instruction counts skipped"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
echo "=== rpmsg instructions per message (callgrind, $n messages each)"
printf '  %-34s %10s %10s\n' "path" "16 B" "496 B"
for dir in h2r r2h; do
	phases="send recv"
	[ "$dir" = h2r ] && phases="send sendzc sendzcb recv"
	[ "$dir" = r2h ] && phases="send sendzcb recv"
	for phase in $phases; do
		case $dir.$phase in
		h2r.send) what="host send" ;;
		h2r.sendzc) what="host send zero copy" ;;
		h2r.sendzcb) what="host send zero copy, batches of 16" ;;
		r2h.sendzcb) what="remote send zero copy, batches of 16" ;;
		h2r.recv) what="remote receive (pass, dispatch)" ;;
		r2h.send) what="remote send" ;;
		r2h.recv) what="host receive (pass, dispatch)" ;;
		esac
		line=""
		for size in 16 496; do
			f=$tmp/cg.$dir.$phase.$size
			if ! valgrind --tool=callgrind --collect-atstart=no \
				--callgrind-out-file="$f" "$bin" --instr "$dir" "$size" "$n" "$phase" \
				>"$f.log" 2>&1; then
				echo "instr.sh: $dir $phase $size failed" >&2
				tail -n 5 "$f.log" >&2
				rc=1
				line="$line failed"
				continue
			fi
			ir=$(awk '/^summary:/ { print $2 }' "$f")
			per=$(awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.0f", ir / n }')
			line="$line $per"
			echo "{\"name\":\"rpmsg_instr_${dir}_${phase}_${size}\",\"value\":$per,\"unit\":\"instructions\"}" >>"$out"
		done
		# shellcheck disable=SC2086
		printf '  %-34s %10s %10s\n' "$what" $line
	done
done
exit $rc
