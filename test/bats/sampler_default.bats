#!/usr/bin/env bats
# tern-sampler on the default configuration (only the writer's socket and
# database set, sampler interval 10 s) with a tern-writer for three rounds,
# about 30 s: every source this machine has is in SQLite, with plausible
# values.  What "this machine has" is read from /proc and /sys here, apart
# from the sampler's code.

load helper

setup() { setup_tern; }
teardown() { teardown_tern; }

# le_at_each_ts A B: samples of A (no labels) that exceed B at the same
# instant, one a line; no output when A <= B everywhere.
le_at_each_ts() {
	awk -F'\t' -v a="$1" -v b="$2" '
	$3 == a && $4 == "" { va[$5] = $6 }
	$3 == b && $4 == "" { vb[$5] = $6 }
	END {
		for (t in va)
			if (!(t in vb) || va[t] + 0 > vb[t] + 0)
				print t, va[t], (t in vb) ? vb[t] : "missing"
	}' "$T/dump.tsv"
}

# expected_mounts: what df would list, by the rules in sampler/METRICS.md,
# as ternctl dump prints the label.
expected_mounts() {
	awk '
	BEGIN {
		n = split("proc sysfs devtmpfs devpts tmpfs ramfs cgroup cgroup2 " \
		    "pstore securityfs debugfs tracefs configfs fusectl mqueue " \
		    "hugetlbfs bpf autofs binfmt_misc efivarfs rpc_pipefs nsfs " \
		    "selinuxfs squashfs iso9660 nfs nfs4 cifs smb3 smbfs 9p " \
		    "ceph glusterfs afs lustre", l, " ")
		for (i = 1; i <= n; i++) skip[l[i]] = 1
	}
	skip[$3] || $3 ~ /^fuse\./ || seen[$1]++ { next }
	$2 !~ /\\/ { printf "mount=\"%s\"\n", $2 }' /proc/self/mounts | sort -u
}

# expected_disks: whole block devices with I/O statistics.
expected_disks() {
	awk '{ print $3 }' /proc/diskstats | while read -r d; do
		case $d in loop* | ram* | zram*) continue ;; esac
		[ -e "/sys/block/$d" ] && printf 'device="%s"\n' "$d"
	done | sort -u
}

expected_ifaces() {
	awk -F: 'NR > 2 { gsub(/ /, "", $1); printf "iface=\"%s\"\n", $1 }' \
	    /proc/net/dev | sort -u
}

expected_cores() {
	{ echo 'core="total"'
	  awk '$1 ~ /^cpu[0-9]+$/ { sub(/^cpu/, "", $1); printf "core=\"%s\"\n", $1 }' \
	      /proc/stat; } | sort -u
}

have_thermal() {
	local f
	for f in /sys/class/thermal/thermal_zone*/temp \
	    /sys/class/hwmon/hwmon*/temp*_input; do
		[ -r "$f" ] && cat "$f" >/dev/null 2>&1 && return 0
	done
	return 1
}

@test "default configuration, 3 rounds: every source this machine has is stored with plausible values" {
	start_writer
	start_sampler
	# Rounds are on 10 s boundaries: the third is at most 30 s away.
	# load.1m has no rate, so it is in every round, the first included.
	WAIT_S=90 wait_for stored_ge load.1m "" 3
	# Its second and third rounds carry the first rates.
	WAIT_S=30 wait_for stored_ge cpu.busy_pct 'core="total"' 2
	stop_sampler
	dump_db

	# Nothing failed, and a source is disabled only with its one line.
	run grep -c 'retrying at a doubling interval' "$T/sampler.log"
	assert_output 0
	run grep -E 'exiting with|dropped' "$T/sampler.log"
	assert_output ""

	# cpu: every core and the total, shares within 0..100.
	run labels_of cpu.busy_pct
	assert_output "$(expected_cores)"
	for m in busy user system iowait irq steal idle; do
		run labels_of "cpu.${m}_pct"
		assert_output --partial 'core="total"'
		run out_of_range "cpu.${m}_pct" 0 100
		assert_output ""
	done

	# load: averages, process counts, context switches, uptime.
	for m in load.1m load.5m load.15m load.procs_running \
	    load.procs_blocked; do
		run samples_of "$m"
		[ "${#lines[@]}" -ge 3 ] || fail "$m: ${#lines[@]} samples"
		run out_of_range "$m" 0 100000
		assert_output ""
	done
	run samples_of load.ctxt_per_s
	[ "${#lines[@]}" -ge 2 ] || fail "load.ctxt_per_s: ${#lines[@]} samples"
	run out_of_range load.ctxt_per_s 0 1e9
	assert_output ""
	run out_of_range system.uptime_s 1 "$(cut -d' ' -f1 /proc/uptime)"
	assert_output ""

	# memory: total is MemTotal; used, available <= total.
	total=$(awk '$1 == "MemTotal:" { printf "%.0f", $2 * 1024 }' /proc/meminfo)
	run bash -c "awk -F'\t' '\$3 == \"mem.total_bytes\" { print \$6 }' '$T/dump.tsv' | sort -u"
	assert_output "$total"
	run le_at_each_ts mem.used_bytes mem.total_bytes
	assert_output ""
	run le_at_each_ts mem.available_bytes mem.total_bytes
	assert_output ""
	run le_at_each_ts mem.swap_used_bytes mem.swap_total_bytes
	assert_output ""
	run out_of_range mem.used_pct 0 100
	assert_output ""
	run samples_of mem.used_pct
	[ "${#lines[@]}" -ge 3 ] || fail "mem.used_pct: ${#lines[@]} samples"
	if cat /proc/pressure/cpu >/dev/null 2>&1; then
		run labels_of pressure.some_pct
		assert_output --partial 'resource="cpu"'
		run out_of_range pressure.some_pct 0 100
		assert_output ""
		run out_of_range pressure.full_pct 0 100
		assert_output ""
	fi

	# disk: every real filesystem, percentages in range, free <= total.
	want=$(expected_mounts)
	if [ -n "$want" ]; then
		run labels_of disk.free_pct
		assert_output "$want"
		run out_of_range disk.free_pct 0 100
		assert_output ""
		run out_of_range disk.inodes_free_pct 0 100
		assert_output ""
		run awk -F'\t' '$3 == "disk.total_bytes" { t[$4 SUBSEP $5] = $6 }
		    $3 == "disk.free_bytes" { f[$4 SUBSEP $5] = $6 }
		    END { for (k in f)
			if (!(k in t) || f[k] + 0 > t[k] + 0) print k }' \
		    "$T/dump.tsv"
		assert_output ""
	fi

	# diskio: whole disks, rates >= 0, busy within 0..100.
	want=$(expected_disks)
	if [ -n "$want" ]; then
		run labels_of diskio.read_bytes_per_s
		assert_output "$want"
		for m in read_bytes write_bytes read_ops write_ops; do
			run out_of_range "diskio.${m}_per_s" 0 1e12
			assert_output ""
		done
		run out_of_range diskio.busy_pct 0 100
		assert_output ""
	fi

	# net: every interface, lo included; rates >= 0.
	run labels_of net.rx_bytes_per_s
	assert_output "$(expected_ifaces)"
	for d in rx tx; do
		for m in bytes packets errors drops; do
			run out_of_range "net.${d}_${m}_per_s" 0 1e12
			assert_output ""
		done
	done

	# thermal: where the machine has sensors, they are read and sane;
	# where it has none, the source says so once and stores nothing.
	if have_thermal; then
		run labels_of thermal.temp_c
		[ -n "$output" ] || fail "no thermal.temp_c series"
		run out_of_range thermal.temp_c -100 250
		assert_output ""
		run out_of_range cpu.temperature -100 250
		assert_output ""
	else
		run grep -c 'source thermal: disabled' "$T/sampler.log"
		assert_output 1
		run labels_of thermal.temp_c
		assert_output ""
	fi
	assert_sampler_clean
}
