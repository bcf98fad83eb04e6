#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gen_exports.sh ROOT LIST OBJECT... > exports.c
#
# keel.ko's exports, from C (genksyms computes MODVERSIONS CRCs from
# preprocessed C and cannot read C++). LIST (os/linux/exports.list) holds
# shell patterns of symbol names, "!pattern" to exclude; every global,
# strongly defined symbol of default visibility of the OBJECTs matching it is
# exported GPL-only. Weak definitions (inline functions, template instances,
# inline variables) are not exported: every module that uses one has its own
# copy.
#
# An exported name longer than 55 characters is an error: under
# CONFIG_MODVERSIONS no module can import it (the modversion record holds
# a 56-byte name). The fix is a short export name on the declaration,
# KEEL_EXPORT_AS() (<keel/compiler.h>), or an exclusion in LIST.
#
# The declarations give EXPORT_SYMBOL_GPL() something to take the address of
# and genksyms a type to compute the symbol's CRC from:
#  - the port interface (keel_port_*) is C: its real prototypes are read from
#    <keel/port.h>, so genksyms checks them as for any C export;
#  - a symbol named with KEEL_EXPORT_AS(name): its declaration as written in
#    the source (return type, name, parameters, qualifiers), hashed into the
#    declared type, so that a changed signature changes the CRC and a module
#    built against the old one is refused ("disagrees about version");
#  - any other C++ symbol: the hash of its mangled name (which already
#    encodes the signature).
# ROOT is searched (include/, lib/, drivers/, os/linux/) for the
# KEEL_EXPORT_AS() declarations.
set -e
root=$1 list=$2
shift 2
: "${READELF:=readelf}" "${CXXFILT:=c++filt}"
limit=55

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Candidates: "kind name" for every global, defined, default-visibility
#    function or object. readelf -sW: Num Value Size Type Bind Vis Ndx Name.
$READELF -sW "$@" | awk '
	$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" && ($4 == "FUNC" || $4 == "OBJECT") {
		print ($4 == "FUNC" ? "F" : "D"), $8
	}' | sort -u -k2 > "$tmp/candidates"

# 2. The list decides: the last matching line wins.
while read -r kind sym; do
	want=
	while read -r pat; do
		case $pat in
		''|'#'*) continue ;;
		'!'*) case $sym in ${pat#!}) want= ;; esac ;;
		*) case $sym in $pat) want=1 ;; esac ;;
		esac
	done < "$list"
	[ -z "$want" ] || echo "$kind $sym"
done < "$tmp/candidates" > "$tmp/exports"

# 3. Every export must be importable.
awk -v limit=$limit 'length($2) > limit { print $2 }' "$tmp/exports" > "$tmp/long"
if [ -s "$tmp/long" ]; then
	{
	echo "error: keel.ko would export names that no module can import"
	echo "  With CONFIG_MODVERSIONS an imported symbol's name must fit the modversion"
	echo "  record: at most $limit characters. Too long:"
	while read -r sym; do
		demangled=$(echo "$sym" | $CXXFILT)
		# A suggestion: the qualified name, :: as _, CamelCase as snake_case.
		short=$(echo "$demangled" | sed 's/(.*//; s/<.*//; s/^keel:://' |
			sed 's/\([a-z0-9]\)\([A-Z]\)/\1_\2/g; s/::/_/g' | tr 'A-Z' 'a-z')
		case $short in keel_*|virtio_*|rpmsg_*|rproc_*) ;; *) short=keel_$short ;; esac
		echo
		echo "  $demangled"
		echo "    $sym: ${#sym} characters (limit $limit)"
		echo "    fix: add KEEL_EXPORT_AS($short) at the end of its declaration"
		echo "         (a short C-style export name; at most $limit characters),"
		echo "         or, if no other module may use it, exclude it in os/linux/exports.list"
	done < "$tmp/long"
	echo
	echo "  See Documentation/cxx-in-kernel.rst, \"Export names\"."
	} >&2
	exit 1
fi

# 4. The declarations named with KEEL_EXPORT_AS(): "name<TAB>declaration",
#    comments and preprocessor lines removed, whitespace folded.
find -L "$root/include" "$root/lib" "$root/drivers" "$root/os/linux" \
	\( -name '*.h' -o -name '*.cpp' \) -type f 2>/dev/null | sort |
	xargs grep -l 'KEEL_EXPORT_AS(' 2>/dev/null |
	xargs -r awk '
	FNR == 1 && NR > 1 { flush() }
	{ text = text "\n" $0 }
	END { flush() }
	function flush(    s, n, i, stmt, m, name) {
		s = text
		text = ""
		gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", s)
		gsub(/\/\/[^\n]*/, " ", s)
		gsub(/\n[ \t]*#[^\n]*/, "\n", s)
		gsub(/[ \t\n]+/, " ", s)
		n = split(s, part, /[;{}]/)
		for (i = 1; i <= n; i++) {
			stmt = part[i]
			if (!match(stmt, /KEEL_EXPORT_AS\( *[A-Za-z_][A-Za-z0-9_]* *\)/))
				continue
			name = substr(stmt, RSTART, RLENGTH)
			sub(/^KEEL_EXPORT_AS\( */, "", name)
			sub(/ *\)$/, "", name)
			stmt = substr(stmt, 1, RSTART - 1)
			sub(/^ *((public|private|protected) *:)? */, "", stmt)
			sub(/ *$/, "", stmt)
			print name "\t" stmt
		}
	}' > "$tmp/labels"

# 5. A short name that the list leaves out would leave its callers in other
#    modules with an undefined symbol.
awk -F '\t' '{ print $1 }' "$tmp/labels" | sort -u | while read -r label; do
	if grep -q " $label\$" "$tmp/candidates" && ! grep -q " $label\$" "$tmp/exports"; then
		echo "error: KEEL_EXPORT_AS($label) is not exported: os/linux/exports.list" \
			"exports short names matching keel_*" >&2
		exit 1
	fi
done

# 6. exports.c
echo "// SPDX-License-Identifier: GPL-2.0"
echo "/* Generated by scripts/gen_exports.sh from os/linux/exports.list. Do not edit. */"
echo "#include <linux/export.h>"
echo
echo "#include \"../shim.h\""
echo
while read -r kind sym; do
	case $sym in
	keel_port_*)
		echo "EXPORT_SYMBOL_GPL($sym);"
		continue ;;
	esac
	decl=$(awk -F '\t' -v s="$sym" '$1 == s { print $2; exit }' "$tmp/labels")
	if [ -n "$decl" ]; then
		echo "/* $decl */"
	else
		decl=$sym
	fi
	crc=$(printf '%s' "$decl" | cksum | cut -d' ' -f1)
	if [ "$kind" = F ]; then
		printf 'extern void %s(const char (*)[%#x]);\n' "$sym" "$crc"
	else
		printf 'extern char %s[%#x];\n' "$sym" "$crc"
	fi
	echo "EXPORT_SYMBOL_GPL($sym);"
done < "$tmp/exports"
