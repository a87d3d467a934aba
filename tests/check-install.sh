#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Packaging test: installs the build into a temporary DESTDIR with `meson install` and checks
# what a packager and an operator would: every file is where it belongs; systemd-analyze
# verify has nothing to say about the installed units (with ExecStart pointed into the
# DESTDIR, and the installed man pages on MANPATH so that Documentation= resolves);
# systemd-tmpfiles creates the folders of the installed tmpfiles.d entry with the right
# modes; the launchd plist is well formed and has the keys launchd needs; the man pages
# format without warnings; and a small app built only from the installed header, library
# and mdclient.pc crashes into the installed minidumpd, which writes a dump that the
# installed mdctl lists. Usage: check-install.sh BUILD_ROOT SOURCE_ROOT. Exits 0 when all
# pass; prints one line per check.
set -uo pipefail

build=${1:?usage: check-install.sh BUILD_ROOT SOURCE_ROOT}
src=${2:?usage: check-install.sh BUILD_ROOT SOURCE_ROOT}
failures=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX")
daemon_pid=
cleanup() {
	if [[ -n $daemon_pid ]]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	[[ -n ${IT_KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

dest=$tmp/dest
if ! out=$(meson install -C "$build" --no-rebuild --destdir "$dest" 2>&1); then
	echo "$out"
	fail "meson install into DESTDIR"
	exit 1
fi
pass "meson install into $dest"

# Where meson put things, from the build's own install plan (prefix, libdir, unit dir...).
plan=$(meson introspect "$build" --installed)
installed_path() { # the installed path of a build file whose path ends in $1
	python3 -c 'import json, sys
plan = json.load(sys.stdin)
hits = [dst for src, dst in plan.items() if src.endswith(sys.argv[1])]
print(hits[0] if hits else "")' "$1" <<<"$plan"
}
option() { # the value of a build option
	meson introspect "$build" --buildoptions |
		python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$1"
}
prefix=$(option prefix)
# the daemon's state lives under localstatedir (/var for prefix /usr), as its defaults say
statedir=$(option localstatedir)
[[ $statedir == /* ]] || statedir=$prefix/$statedir

declare -A want=(
	[minidumpd]=/daemon/minidumpd
	[mdctl]=/daemon/mdctl
	[libmdclient.so]=libmdclient.so
	[mdclient.h]=/mdclient.h
	[mdclient.pc]=/mdclient.pc
	[minidumpd.service]=/minidumpd.service
	[minidumpd.socket]=/minidumpd.socket
	[tmpfiles.d/minidumpd.conf]=/systemd/minidumpd.conf
	[minidumpd.8]=/minidumpd.8
	[mdctl.1]=/mdctl.1
	[libmdclient.3]=/libmdclient.3
	[mdupload]=/uploader/mdupload
	[mdupload.service]=/mdupload.service
	[sysusers.d/mdupload.conf]=/mdupload-sysusers.conf
	[md-capture-worker]=/daemon/md-capture-worker
	[sysusers.d/minidumpd.conf]=/minidumpd-sysusers.conf
)
declare -A at
for name in "${!want[@]}"; do
	p=$(installed_path "${want[$name]}")
	at[$name]=$p
	if [[ -n $p && -e $dest$p ]]; then
		pass "installed $name: $p"
	else
		fail "installed $name: '${p}' not in $dest"
	fi
done
[[ ${at[minidumpd]} == "$prefix/sbin/minidumpd" ]] || fail "minidumpd is not in sbin: ${at[minidumpd]}"
[[ ${at[minidumpd.8]} == */man8/minidumpd.8 && ${at[mdctl.1]} == */man1/mdctl.1 &&
	${at[libmdclient.3]} == */man3/libmdclient.3 ]] || fail "man pages in the wrong sections"
# launchd exists only on macOS, which the build refuses: its plists are not shipped here
if find "$dest" -name '*.plist' | grep -q .; then
	fail "launchd plists installed on $(uname -s): $(find "$dest" -name '*.plist')"
else
	pass "no launchd plist installed on $(uname -s)"
fi

# ---- systemd units ----
units=$tmp/units
mkdir -p "$units"
for u in minidumpd.service minidumpd.socket; do
	# the unit names the installed path; verify needs it to exist, so point it into DESTDIR
	sed "s|^ExecStart=/|ExecStart=$dest/|" "$dest${at[$u]}" >"$units/$u"
done
if ! grep -q "^ExecStart=$prefix/sbin/minidumpd" "$dest${at[minidumpd.service]}"; then
	fail "minidumpd.service: ExecStart is not $prefix/sbin/minidumpd"
fi
man_root=$dest$(dirname "$(dirname "${at[minidumpd.8]}")")
verify=$(MANPATH=$man_root SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
	"$units/minidumpd.socket" "$units/minidumpd.service" 2>&1)
rc=$?
if ((rc == 0)) && [[ -z $verify ]]; then
	pass "systemd-analyze verify: clean"
else
	echo "$verify"
	fail "systemd-analyze verify (exit $rc)"
fi
for key in Type=notify NoNewPrivileges=yes ProtectSystem=strict StateDirectory=minidumpd \
	RestrictAddressFamilies=AF_UNIX CapabilityBoundingSet=; do
	grep -q "^$key" "$units/minidumpd.service" || fail "minidumpd.service lacks $key"
done
grep -q "^ListenStream=/run/minidumpd/minidumpd.sock" "$units/minidumpd.socket" ||
	fail "minidumpd.socket does not listen on /run/minidumpd/minidumpd.sock"
# systemd-analyze security of the unit file $1 (offline) is at most $2
exposure_at_most() {
	local name exposure
	name=$(basename "$1")
	exposure=$(systemd-analyze security --offline=true "$1" 2>/dev/null |
		sed -n "s/.*Overall exposure level for ${name%%@*}[^:]*: \([0-9.]*\).*/\1/p")
	if [[ -n $exposure ]] && python3 -c "import sys; sys.exit(0 if float('$exposure') <= $2 else 1)"; then
		pass "systemd-analyze security $name: exposure $exposure"
	else
		fail "systemd-analyze security $name: exposure '${exposure}' (want <= $2)"
	fi
}
exposure_at_most "$units/minidumpd.service" 3.0

# ---- the symbolizer's service, where the symbolizer is built ----
if [[ -n $(installed_path /symbolizer/md-symbolize) ]]; then
	for u in minidumpd-symbolize.socket minidumpd-symbolize@.service; do
		p=$(installed_path "/$u")
		[[ -n $p && -e $dest$p ]] && pass "installed $u: $p" || fail "installed $u: '$p'"
		sed "s|^ExecStart=/|ExecStart=$dest/|" "$dest$p" >"$units/$u"
	done
	verify=$(MANPATH=$man_root SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
		"$units/minidumpd-symbolize.socket" "$units/minidumpd-symbolize@.service" 2>&1)
	rc=$?
	((rc == 0)) && [[ -z $verify ]] && pass "systemd-analyze verify of the symbolizer's units: clean" ||
		{ echo "$verify"; fail "systemd-analyze verify of the symbolizer's units (exit $rc)"; }
	grep -q -- "^ExecStart=$prefix/sbin/minidumpd --symbolize-socket /run/minidumpd/symbolize.sock" \
		"$dest${at[minidumpd.service]}" &&
		grep -q "^ListenStream=/run/minidumpd/symbolize.sock" "$units/minidumpd-symbolize.socket" &&
		pass "minidumpd.service symbolizes through minidumpd-symbolize.socket" ||
		fail "minidumpd.service does not symbolize through minidumpd-symbolize.socket"
	# its instances parse hostile ELF and DWARF: next to nothing is allowed them
	exposure_at_most "$units/minidumpd-symbolize@.service" 1.0
fi

# ---- tmpfiles.d ----
troot=$tmp/tmpfiles-root
mkdir -p "$troot"
if out=$(systemd-tmpfiles --root="$troot" --create "$dest${at[tmpfiles.d/minidumpd.conf]}" 2>&1) &&
	[[ $(stat -c %a "$troot$statedir/lib/minidumpd") == 755 &&
		$(stat -c %a "$troot$statedir/lib/minidumpd/dumps") == 700 ]]; then
	pass "systemd-tmpfiles creates $statedir/lib/minidumpd (0755) and dumps/ (0700)"
else
	echo "$out"
	fail "systemd-tmpfiles --create"
fi
# the units and the daemon agree on where the store is: its default is what tmpfiles.d makes
default_dir=$("$dest${at[minidumpd]}" --help | sed -n 's/.*--dump-dir DIR .*(default \(.*\))$/\1/p')
if [[ -n $default_dir && $default_dir == "$statedir/lib/minidumpd/dumps" ]] &&
	grep -q "^d *$default_dir " "$dest${at[tmpfiles.d/minidumpd.conf]}"; then
	pass "minidumpd's default store $default_dir is the folder tmpfiles.d makes"
else
	fail "minidumpd's default store '${default_dir}' is not $statedir/lib/minidumpd/dumps in tmpfiles.d"
fi

# ---- launchd ----
# the plist as configured for this build's paths (launchd/meson.build), still well formed
if out=$(python3 - "$build/launchd/org.minidumpd.minidumpd.plist" "$prefix/sbin/minidumpd" 2>&1 <<'EOF'
import plistlib, sys
with open(sys.argv[1], "rb") as f:
    p = plistlib.load(f)
assert isinstance(p, dict), "not a dictionary"
assert p.get("Label") == "org.minidumpd.minidumpd", "Label"
args = p.get("ProgramArguments")
assert isinstance(args, list) and args and all(isinstance(a, str) for a in args), "ProgramArguments"
assert args[0] == sys.argv[2], "ProgramArguments[0] is %r, want %r" % (args[0], sys.argv[2])
listeners = p.get("Sockets", {}).get("Listeners")
assert isinstance(listeners, dict), "Sockets/Listeners"
assert listeners.get("SockPathName", "").startswith("/"), "SockPathName"
assert listeners.get("SockType") == "stream", "SockType"
assert listeners.get("SockPathMode") == 0o666, "SockPathMode"
EOF
); then
	pass "launchd plist: well formed, Label, ProgramArguments, Sockets"
else
	echo "$out"
	fail "launchd plist"
fi

# ---- man pages ----
for page in minidumpd.8 mdctl.1 libmdclient.3; do
	warnings=$(groff -man -Tutf8 -ww -z "$dest${at[$page]}" 2>&1)
	name=${page%.*}
	# found by man through MANPATH, in the right section, with its title
	text=$(MANPATH=$man_root man -P cat "${page##*.}" "$name" 2>/dev/null | head -3)
	if [[ -z $warnings && $text == *"${name^^}(${page##*.})"* ]]; then
		pass "man page $page"
	else
		echo "$warnings"
		fail "man page $page"
	fi
done

# ---- an app built against the installed library ----
libdir=$(dirname "${at[libmdclient.so]}")
pcdir=$(dirname "${at[mdclient.pc]}")
cat >"$tmp/app.c" <<'EOF'
/* A minimal app using only the installed mdclient.h: reports, annotates, crashes. */
#include <mdclient.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	volatile int *p = NULL;
	int r = md_client_init(NULL);

	if (r < 0) {
		fprintf(stderr, "md_client_init: %s\n", strerror(-r));
		return 1;
	}
	md_client_annotate("built", "from-pkg-config");
	*p = 1;
	return 0;
}
EOF
flags=$(PKG_CONFIG_PATH=$dest$pcdir PKG_CONFIG_SYSROOT_DIR=$dest pkg-config --cflags --libs mdclient)
# A sanitizer build installs an instrumented library; the app must carry the same runtime.
sanitize=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
if [[ $sanitize != none ]]; then
	flags="-fsanitize=$sanitize -fno-sanitize=null $flags" # the NULL store must fault
fi
if [[ $flags == *"-I$dest"* && $flags == *"-L$dest"* ]] &&
	out=$(cc -o "$tmp/app" "$tmp/app.c" $flags 2>&1); then
	pass "app built with: cc app.c $flags"
else
	echo "$out"
	fail "building against the installed mdclient.pc (flags: $flags)"
fi
if [[ -x $tmp/app ]]; then
	resolved=$(LD_LIBRARY_PATH=$dest$libdir ldd "$tmp/app" | awk '/libmdclient/ {print $3}')
	[[ $resolved == "$dest$libdir"/* ]] || fail "app links libmdclient from '$resolved'"
	mkdir -p "$tmp/run/dumps"
	# the daemon drops to its user (docs/security.md), which must reach the dump folder; its
	# worker is where DESTDIR put it
	chmod 0755 "$tmp" "$tmp/run"
	MD_CAPTURE_WORKER=$dest${at[md-capture-worker]} "$dest${at[minidumpd]}" --foreground --socket "$tmp/run/md.sock" \
		--dump-dir "$tmp/run/dumps" 2>"$tmp/run/daemon.log" &
	daemon_pid=$!
	for _ in $(seq 200); do
		[[ -S $tmp/run/md.sock ]] && break
		sleep 0.05
	done
	# (in a group with stderr closed: the shell's own "Segmentation fault" line is expected)
	# (under a sanitizer build, ASan must not take SIGSEGV itself: the shim would chain to it)
	{ ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0 \
		MINIDUMPD_SOCKET=$tmp/run/md.sock LD_LIBRARY_PATH=$dest$libdir "$tmp/app"; } 2>/dev/null
	status=$?
	listed=$("$dest${at[mdctl]}" list --dump-dir "$tmp/run/dumps" --json --exe app)
	if ((status == 139)) && python3 -c '
import json, sys
a = json.load(sys.stdin)
assert len(a) == 1 and a[0]["signal"] == "SIGSEGV" and a[0]["dump_bytes"] > 0, a
report = json.load(open(a[0]["dump"][:-len(".dmp")] + ".json"))
assert report["annotations"]["built"] == "from-pkg-config", report["annotations"]
' <<<"$listed"; then
		pass "the app crashed into the installed daemon; installed mdctl lists its dump"
	else
		cat "$tmp/run/daemon.log"
		echo "$listed"
		fail "app status $status (want 139, SIGSEGV) and one dump listed"
	fi
fi

echo "install: $failures failed"
((failures == 0))
