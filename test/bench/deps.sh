#!/bin/sh
# What `make bench` needs beyond the build (../../deps.sh): the references
# it measures tern against, and the load generator.
#
#   deps.sh [collectd] [influxdb] [wrk]    (no argument: all three)
#
#   collectd  Debian's collectd, the daemon and its plugins only
#             (collectd-core, without what the collectd package
#             recommends), beside tern-sampler.
#   influxdb  Debian's InfluxDB 1.6 (influxd), beside tern-receiver and
#             its writer.  run.sh starts its own influxd on a temporary
#             configuration; on a host with systemd the package also
#             enables and starts the system's own on port 8086.
#   wrk       the HTTP load generator both ingest runs use.
#
# Installed only when missing; run by run.sh.
# Exit status: 0 present or installed, 1 missing and not installable here.
set -eu

[ $# -gt 0 ] || set -- collectd influxdb wrk
missing=""
for ref in "$@"; do
	case $ref in
	collectd)
		[ -x /usr/sbin/collectd ] && [ -e /usr/lib/collectd/csv.so ] ||
		    missing="$missing collectd-core" ;;
	influxdb)
		[ -x /usr/bin/influxd ] || missing="$missing influxdb" ;;
	wrk)
		command -v wrk >/dev/null 2>&1 || missing="$missing wrk" ;;
	*)
		echo "bench deps: unknown reference '$ref'" >&2
		exit 1 ;;
	esac
done
[ -n "$missing" ] || exit 0

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "bench deps: missing (Debian packages):$missing" >&2
	exit 1
fi
echo "bench deps: installing$missing" >&2
[ "$(id -u)" -eq 0 ] && sudo="" || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086	# one word per package
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
