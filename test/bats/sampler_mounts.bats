#!/usr/bin/env bats
# The disk source reads the mount table only when the kernel says it
# changed (poll on /proc/self/mounts): a filesystem mounted while the
# sampler runs gets its series from the next rounds, and one unmounted
# stops getting them.  It needs root and a loop device; without them it
# is skipped, saying so.

load helper

setup() {
	setup_tern
	MNT=$T/mnt
	mkdir -p "$MNT"
}
teardown() {
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	teardown_tern
}

mount_label() { printf 'mount="%s"' "$MNT"; }

@test "disk: a filesystem mounted and unmounted while sampling comes and goes" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount"
	command -v mkfs.ext4 >/dev/null || skip "needs mkfs.ext4 (e2fsprogs)"
	truncate -s 16M "$T/fs.img"
	mkfs.ext4 -q -F "$T/fs.img" >/dev/null 2>&1 || skip "mkfs.ext4 failed"
	write_conf "" 'sampler = { interval = "1s"; metrics = ( { name = "disk"; } ); };'
	start_writer
	start_sampler
	WAIT_S=15 wait_for stored_ge disk.free_pct 'mount="/"' 2
	mount -o loop "$T/fs.img" "$MNT" 2>/dev/null || skip "no loop mounts here"
	WAIT_S=15 wait_for stored_ge disk.free_pct "$(mount_label)" 2
	umount "$MNT"
	# A round already under way may still measure it once; after that,
	# nothing more.
	sleep 2.5
	before=$(stored_of disk.free_pct "$(mount_label)")
	n_root=$(stored_of disk.free_pct 'mount="/"')
	WAIT_S=15 wait_for stored_ge disk.free_pct 'mount="/"' $((n_root + 3))
	stop_sampler
	run stored_of disk.free_pct "$(mount_label)"
	assert_output "$before"
	dump_db
	# A fresh 16 MiB ext4 is nearly empty: well over 80 % free.
	run out_of_range disk.free_pct 0 100
	assert_output ""
	run bash -c "awk -F'\t' -v l='$(mount_label)' '\$3 == \"disk.free_pct\" && \$4 == l && \$6 < 80' '$T/dump.tsv'"
	assert_output ""
	run grep -c 'retrying at a doubling interval' "$T/sampler.log"
	assert_output 0
}
