# history_helper.bash -- what the history_*.bats scenarios share (issue 4).

load helper

now_ms() { date +%s%3N; }

# writer_stat NAME: one figure of the running writer's STATS.
writer_stat() {
	"$BIN/ternctl" -f "$CONF" status 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'
}
# rolled_up: the writer says no complete bucket waits (neither a late
# sample's dirty mark nor new samples past a watermark), and the database
# agrees that no complete dirty bucket is left.
rolled_up() {
	[ "$(writer_stat rollup_pending_buckets)" = 0 ] &&
	    [ "$(sqlite3 "$DB" "SELECT count(*) FROM dirty WHERE bucket + tier <= $(now_ms)")" = 0 ] &&
	    [ "$(sqlite3 "$DB" "SELECT count(*) FROM tier")" -gt 0 ]
}

# query_points SERIES ARGS...: ternctl query's point lines with data,
# timestamps cut off (they move with the clock), and its summary line.
query_points() {
	local s=$1
	shift
	"$BIN/ternctl" -f "$CONF" query "$@" "$s" |
	    awk -F'\t' 'NF == 5 { print $2, $3, $4, $5 } /^tier / { print }'
}

# raw_vs_tier TIER_MS: per (labels, bucket) count, min, max of the raw
# samples (ternctl dump) and of the tier's rows; prints the two tables'
# differences (nothing when equal).
raw_vs_tier() {
	local b=$1
	"$BIN/ternctl" -f "$CONF" dump "$DB" | awk -F'\t' -v b="$b" '{
		k = $4 " " sprintf("%.0f", $5 - $5 % b)
		if (!(k in n) || $6 + 0 < mn[k]) mn[k] = $6 + 0
		if (!(k in n) || $6 + 0 > mx[k]) mx[k] = $6 + 0
		n[k]++
	} END { for (k in n) printf "%s %d %.10g %.10g\n", k, n[k], mn[k], mx[k] }' |
	    sort >"$T/raw.$b"
	sqlite3 -separator ' ' "$DB" "SELECT s.labels, t.bucket, t.count,
	    printf('%.10g', t.min), printf('%.10g', t.max) FROM buckets t
	    JOIN series s ON s.id = t.series WHERE t.tier = $b" | sort >"$T/tier.$b"
	diff "$T/raw.$b" "$T/tier.$b"
}
