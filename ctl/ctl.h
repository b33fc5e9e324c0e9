/*
 * ctl.h -- ternctl's subcommands.  Each takes the arguments after its name
 * and returns the process exit status.
 */
#ifndef TERN_CTL_H
#define TERN_CTL_H

#include "conf.h"

/* What every subcommand gets: the configuration (for default paths). */
struct ctl {
	struct conf	conf;
};

int	ctl_tap(struct ctl *, int argc, char **argv);
int	ctl_load(struct ctl *, int argc, char **argv);
int	ctl_dump(struct ctl *, int argc, char **argv);
int	ctl_status(struct ctl *, int argc, char **argv);
int	ctl_fetch(struct ctl *, int argc, char **argv);
int	ctl_query(struct ctl *, int argc, char **argv);
int	ctl_series(struct ctl *, int argc, char **argv);
int	ctl_stats(struct ctl *, int argc, char **argv);
int	ctl_backup(struct ctl *, int argc, char **argv);

#endif
