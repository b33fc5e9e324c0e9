/*
 * ternctl -- the operator's tool.
 *
 *   ternctl [-f conf] tap [-t TYPES] [-s SERIES] [-c COUNT] [SOCKET]
 *   ternctl [-f conf] load [options] [SOCKET]
 *   ternctl [-f conf] dump [-s SERIES_ID] [DB]
 *   ternctl [-f conf] status [SOCKET]
 *   ternctl [-f conf] fetch [-m MAX] [-b] [-k] [-s REASON] [SOCKET]
 *   ternctl [-f conf] query [--range 24h] [--points N] [--db DB] SERIES
 *   ternctl [-f conf] series [-D DEVICE] [-n NAME] [-l LABELS] [DB]
 *   ternctl [-f conf] stats [DB]
 *   ternctl [-f conf] backup [--db DB] FILE
 *   ternctl [-f conf] check
 *
 * SOCKET and DB default to the configuration's writer.socket and
 * writer.database.  Exit status: 0 success, 1 failure, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"

#define USAGE \
	"ternctl [-dv] [-f conf] COMMAND [args]\n" \
	"  tap [-t TYPE,...] [-s SERIES] [-c COUNT] [SOCKET]\n" \
	"  load [-r RATE] [-s SERIES] [-b BATCH] [-d SECONDS] [-n SAMPLES]\n" \
	"       [-D DEVICE] [-N NAME] [-i STEP_MS] [-T T0_MS] [-q BYTES] [SOCKET]\n" \
	"  dump [-s SERIES_ID] [DB]\n" \
	"  status [SOCKET]\n" \
	"  fetch [-m MAX] [-b] [-k] [-s REASON] [SOCKET]\n" \
	"  query [--range 24h] [--points N] [--db DB] [-D DEVICE] SERIES\n" \
	"  series [-D DEVICE] [-n NAME] [-l LABELS] [DB]\n" \
	"  stats [DB]\n" \
	"  backup [--db DB] FILE\n" \
	"  check"

static const struct {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
} cmds[] = {
	{ "tap", ctl_tap },
	{ "load", ctl_load },
	{ "dump", ctl_dump },
	{ "status", ctl_status },
	{ "fetch", ctl_fetch },
	{ "query", ctl_query },
	{ "series", ctl_series },
	{ "stats", ctl_stats },
	{ "backup", ctl_backup },
};

int
main(int argc, char **argv)
{
	struct ctl		 ctl;
	struct daemon_opts	 o;
	char			 err[1024];
	size_t			 i;
	int			 rc;

	memset(&ctl, 0, sizeof(ctl));
	/* Options stop at the subcommand, whose options are its own. */
	daemon_getopt(argc, argv, &o, NULL, NULL, NULL, USAGE);
	if (optind >= argc) {
		fprintf(stderr, "usage: %s\n", USAGE);
		return EXIT_USAGE;
	}
	log_init("ternctl", o.verbose || o.debug ? LOG_DEBUG : LOG_WARNING, 0);
	if (conf_load(&ctl.conf, o.conf_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "ternctl: %s\n", err);
		conf_free(&ctl.conf);
		return 1;
	}
	if (strcmp(argv[optind], "check") == 0) {
		printf("%s: configuration OK\n", ctl.conf.path[0] ?
		    ctl.conf.path : "(built-in defaults)");
		conf_free(&ctl.conf);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[optind], cmds[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 1;
			rc = cmds[i].fn(&ctl, argc, argv);
			conf_free(&ctl.conf);
			return rc;
		}
	fprintf(stderr, "ternctl: unknown command '%s'\nusage: %s\n",
	    argv[optind], USAGE);
	conf_free(&ctl.conf);
	return EXIT_USAGE;
}
