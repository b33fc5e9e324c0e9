#!/bin/sh
# Install what tern needs to build and test, and nothing else.
#
# The Makefile calls this before every build.  It asks pkg-config and the PATH
# what is already there, so on a machine that has everything it costs a few
# milliseconds and touches nothing.  On Debian (and derivatives) it installs the
# missing packages with apt-get; anywhere else it names them and fails, because
# guessing another distribution's package names is worse than saying so.
#
# Exit status: 0 everything present, 1 something missing and not installable.
set -eu

# pkg-config module -> Debian package.  msgpack-c renamed its pkg-config file
# from "msgpack" (4.x, Debian 12) to "msgpack-c" (6.x, Debian 13); either does.
libs="sqlite3:libsqlite3-dev libevent:libevent-dev libcurl:libcurl4-openssl-dev
libconfig:libconfig-dev zlib:zlib1g-dev"
# command -> Debian package (the sqlite3 CLI and bats are used by the tests).
cmds="pkg-config:pkg-config sqlite3:sqlite3 bats:bats curl:curl python3:python3"
# Files that have no pkg-config or command to ask for.
files="/usr/lib/bats/bats-assert/load.bash:bats-assert
/usr/lib/bats/bats-support/load.bash:bats-support"

missing=""
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }

for c in $cmds; do
	command -v "${c%%:*}" >/dev/null 2>&1 || missing="$missing ${c#*:}"
done
for l in $libs; do
	have_pc "${l%%:*}" || missing="$missing ${l#*:}"
done
if ! have_pc msgpack-c && ! have_pc msgpack; then
	if apt-cache show libmsgpack-c-dev >/dev/null 2>&1; then
		missing="$missing libmsgpack-c-dev"
	else
		missing="$missing libmsgpack-dev"
	fi
fi
for f in $files; do
	[ -e "${f%%:*}" ] || missing="$missing ${f#*:}"
done

[ -z "$missing" ] && exit 0

if [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	# A stale package index makes the install fail on a fresh machine;
	# refresh it once, only when something is missing.
	$sudo apt-get update -qq >&2
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >&2
	exit 0
fi

echo "deps: missing packages (Debian names):$missing" >&2
echo "deps: install their equivalents for this system and run make again" >&2
exit 1
