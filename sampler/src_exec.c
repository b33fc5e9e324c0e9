/*
 * src_exec.c -- runs a command each round and reads Prometheus text
 * exposition lines from its standard output.
 *
 * The command runs as /bin/sh -c COMMAND in its own process group, with
 * stdin on /dev/null, default signal dispositions and an empty signal
 * mask (whatever the sampler ignores, a script should not).  read waits
 * for it with poll() against a deadline of the source's timeout; when the
 * deadline passes the whole group is killed with SIGKILL (a shell's
 * children included) and reaped, so read never blocks much longer than
 * the timeout and leaves no zombie.  stdout is bounded by EXEC_MAX_OUTPUT;
 * the first line of stderr goes into the failure's log line.
 *
 * Outcome of a round:
 *  - good lines are added even when the command then failed;
 *  - a bad line is skipped, counted, and logged once per run of rounds
 *    with bad lines (recovery logged);
 *  - a non-zero exit, death by a signal, a timeout or too much output
 *    makes read return -1, so the scheduler backs off and logs it once.
 * Every round also adds tern.exec.errors{source,reason} (counters since
 * the sampler started: reason spawn, exit, timeout, output, parse) and
 * tern.exec.duration_ms{source}.
 *
 * Samples get label instance=<instance> when the source has an instance
 * and the line does not set one itself.  A line's own timestamp is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prom.h"
#include "source.h"

extern char **environ;

/* Output beyond 1 MiB is a runaway script, not metrics. */
#define EXEC_MAX_OUTPUT		(1u << 20)
#define EXEC_STDERR_KEEP	256

enum { E_SPAWN, E_EXIT, E_TIMEOUT, E_OUTPUT, E_PARSE, E_N };
static const char *const exec_reasons[E_N] = {
	"spawn", "exit", "timeout", "output", "parse",
};

struct exec_state {
	char		*out;
	size_t		 outlen, outcap;
	char		 errbuf[EXEC_STDERR_KEEP];
	size_t		 errlen;
	uint64_t	 errors[E_N];
	struct log_once	 badlog;
	/* for the sample callback */
	struct source	*src;
	struct batch	*b;
	int64_t		 now;
	size_t		 nbad;
	char		 firstbad[256];
};

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
exec_init(struct source *src, char *err, size_t errlen)
{
	struct exec_state *st;

	if (src->conf->command == NULL || src->conf->command[0] == '\0') {
		snprintf(err, errlen, "no command configured");
		return -1;
	}
	if (access("/bin/sh", X_OK) == -1) {
		snprintf(err, errlen, "/bin/sh: %s", strerror(errno));
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	src->priv = st;
	return 0;
}

static void
exec_fini(struct source *src)
{
	struct exec_state *st = src->priv;

	free(st->out);
	free(st);
}

static int
exec_spawn(const char *cmd, int *outfd, int *errfd, pid_t *pid, char *err,
    size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t	 none, all;
	int		 op[2] = { -1, -1 }, ep[2] = { -1, -1 }, rc = -1, e;
	char		*argv[] = { (char *)(uintptr_t)"/bin/sh",
	    (char *)(uintptr_t)"-c", (char *)(uintptr_t)cmd, NULL };

	if (pipe2(op, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	e = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		snprintf(err, errlen, "spawn /bin/sh: %s", strerror(e));
		goto done;
	}
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	*outfd = op[0];
	*errfd = ep[0];
	op[0] = ep[0] = -1;
	rc = 0;
done:
	if (op[0] != -1)
		close(op[0]);
	if (op[1] != -1)
		close(op[1]);
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	return rc;
}

/* Reads what is available on fd; returns 0 at EOF, 1 for more, -1 for
 * output over the limit. */
static int
exec_drain(struct exec_state *st, int fd, int is_out)
{
	char	 tmp[4096], *nb;
	ssize_t	 r;
	size_t	 n;

	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r == -1)
			return errno == EINTR || errno == EAGAIN ? 1 : 0;
		if (r == 0)
			return 0;
		n = (size_t)r;
		if (!is_out) {
			if (n > sizeof(st->errbuf) - 1 - st->errlen)
				n = sizeof(st->errbuf) - 1 - st->errlen;
			memcpy(st->errbuf + st->errlen, tmp, n);
			st->errlen += n;
			continue;
		}
		if (st->outlen + n > EXEC_MAX_OUTPUT)
			return -1;
		if (st->outlen + n + 1 > st->outcap) {
			size_t c = st->outcap ? st->outcap : 4096;

			while (c < st->outlen + n + 1)
				c *= 2;
			if ((nb = realloc(st->out, c)) == NULL)
				return -1;
			st->out = nb;
			st->outcap = c;
		}
		memcpy(st->out + st->outlen, tmp, n);
		st->outlen += n;
	}
}

/*
 * Runs the command to completion or the deadline.  Returns 0 when it
 * exited 0, else -1 with *why set to the error reason.
 */
static int
exec_run(struct source *src, struct exec_state *st, int *why, char *err,
    size_t errlen)
{
	struct pollfd	 pfd[2];
	pid_t		 pid, w = 0;
	int		 outfd, errfd, status = 0, r, nopen = 2, over = 0;
	int64_t		 deadline = mono_ms() + source_timeout_ms(src), left;
	int		 nap = 1;

	st->outlen = st->errlen = 0;
	if (exec_spawn(src->conf->command, &outfd, &errfd, &pid, err,
	    errlen) == -1) {
		*why = E_SPAWN;
		return -1;
	}
	pfd[0].fd = outfd;
	pfd[1].fd = errfd;
	pfd[0].events = pfd[1].events = POLLIN;
	while (nopen > 0 && !over && (left = deadline - mono_ms()) > 0) {
		if (poll(pfd, 2, (int)left) == -1 && errno != EINTR)
			break;
		for (r = 0; r < 2; r++) {
			if (pfd[r].fd == -1 ||
			    !(pfd[r].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			switch (exec_drain(st, pfd[r].fd, r == 0)) {
			case -1:
				over = 1;
				break;
			case 0:
				close(pfd[r].fd);
				pfd[r].fd = -1;
				nopen--;
				break;
			}
		}
	}
	/* Output closed: the shell has exited or is about to.  Poll for it
	 * with short naps rather than blocking in waitpid, so a script that
	 * closed stdout and kept running still meets the deadline. */
	while (!over && (w = waitpid(pid, &status, WNOHANG)) == 0 &&
	    mono_ms() < deadline) {
		struct timespec ts = { 0, nap * 1000000L };

		nanosleep(&ts, NULL);
		if (nap < 16)
			nap *= 2;
	}
	for (r = 0; r < 2; r++)
		if (pfd[r].fd != -1)
			close(pfd[r].fd);
	if (!over && w == 0)
		w = waitpid(pid, &status, WNOHANG);
	if (over || w == 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		*why = over ? E_OUTPUT : E_TIMEOUT;
		if (over)
			snprintf(err, errlen, "output over %u bytes; killed",
			    EXEC_MAX_OUTPUT);
		else
			snprintf(err, errlen, "no exit after %lld ms; killed",
			    (long long)source_timeout_ms(src));
		return -1;
	}
	/* Children the shell left behind in its group go with it. */
	kill(-pid, SIGKILL);
	if (w == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char	line[EXEC_STDERR_KEEP], esc[EXEC_STDERR_KEEP * 2];
		size_t	n;

		st->errbuf[st->errlen] = '\0';
		n = strcspn(st->errbuf, "\n");
		memcpy(line, st->errbuf, n);
		line[n] = '\0';
		log_escape(line, n, esc, sizeof(esc));
		*why = E_EXIT;
		if (w != -1 && WIFSIGNALED(status))
			snprintf(err, errlen, "killed by signal %d%s%s",
			    WTERMSIG(status), n ? ": " : "", esc);
		else
			snprintf(err, errlen, "exit status %d%s%s",
			    w != -1 && WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1, n ? ": " : "", esc);
		return -1;
	}
	return 0;
}

static void
exec_sample(void *arg, const struct prom_sample *s)
{
	struct exec_state *st = arg;
	struct label_kv	 l[BODY_MAX_LABELS + 1];
	size_t		 i, n = s->nlabels;
	int		 has_inst = 0;

	memcpy(l, s->labels, n * sizeof(l[0]));
	for (i = 0; i < n; i++)
		if (strcmp(l[i].k, "instance") == 0)
			has_inst = 1;
	if (!has_inst && st->src->conf->instance[0]) {
		l[n].k = "instance";
		l[n].v = st->src->conf->instance;
		n++;
	}
	batch_add(st->b, s->name, l, n, s->has_ts ? s->ts_ms : st->now,
	    s->value);
}

static void
exec_bad(void *arg, size_t lineno, const char *reason)
{
	struct exec_state *st = arg;
	char		 esc[200];

	if (st->nbad++ == 0) {
		log_escape(reason, strlen(reason), esc, sizeof(esc));
		snprintf(st->firstbad, sizeof(st->firstbad), "line %zu: %s",
		    lineno, esc);
	}
}

static int
exec_read(struct source *src, struct batch *b, int64_t now, char *err,
    size_t errlen)
{
	struct exec_state *st = src->priv;
	struct label_kv	 l[2];
	int64_t		 t0 = mono_ms();
	int		 rc, why = E_EXIT;
	size_t		 i;

	rc = exec_run(src, st, &why, err, errlen);
	if (rc == -1)
		st->errors[why]++;
	/* Whatever arrived is parsed, even from a command that failed. */
	st->src = src;
	st->b = b;
	st->now = now;
	st->nbad = 0;
	/* exec_drain always leaves room for prom_parse's NUL. */
	if (st->outlen > 0 && why != E_OUTPUT)
		prom_parse(st->out, st->outlen, exec_sample, exec_bad, st,
		    NULL);
	st->errors[E_PARSE] += st->nbad;
	if (st->nbad > 0)
		log_once_fail(&st->badlog, LOG_WARNING, "source %s: %zu bad "
		    "line%s, first %s", src->id, st->nbad,
		    st->nbad == 1 ? "" : "s", st->firstbad);
	else if (rc == 0) {
		char what[128];

		snprintf(what, sizeof(what), "source %s: output", src->id);
		log_once_ok(&st->badlog, what);
	}
	l[0].k = "source";
	l[0].v = src->id;
	batch_add(b, "tern.exec.duration_ms", l, 1, now,
	    (double)(mono_ms() - t0));
	l[1].k = "reason";
	for (i = 0; i < E_N; i++) {
		l[1].v = exec_reasons[i];
		batch_add(b, "tern.exec.errors", l, 2, now,
		    (double)st->errors[i]);
	}
	return rc;
}

const struct source_ops src_exec_ops = {
	.name = "exec",
	.init = exec_init,
	.read = exec_read,
	.fini = exec_fini,
};
