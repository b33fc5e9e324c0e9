/*
 * httpfix.h -- a one-shot HTTP server for source tests: a child process
 * that answers N requests on 127.0.0.1 with a fixed status and body, and
 * writes each request line to h->reqfile, which the test inspects and
 * removes.
 */
#ifndef TERN_HTTPFIX_H
#define TERN_HTTPFIX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct httpfix {
	pid_t	pid;
	int	port;
	char	reqfile[64];
};

/* Starts the server; answers n connections with status and body. */
static inline int
httpfix_start(struct httpfix *h, int n, int status, const char *body)
{
	struct sockaddr_in sa;
	socklen_t	 sl = sizeof(sa);
	int		 s, c, i, one = 1;
	char		 req[4096], head[256];
	ssize_t		 r;
	FILE		*f;

	snprintf(h->reqfile, sizeof(h->reqfile), "/tmp/httpfix.%d",
	    (int)getpid());
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) == -1) {
		close(s);
		return -1;
	}
	h->port = ntohs(sa.sin_port);
	if ((h->pid = fork()) == -1) {
		close(s);
		return -1;
	}
	if (h->pid == 0) {
		for (i = 0; i < n; i++) {
			if ((c = accept(s, NULL, NULL)) == -1)
				_exit(1);
			r = read(c, req, sizeof(req) - 1);
			req[r > 0 ? r : 0] = '\0';
			if ((f = fopen(h->reqfile, "a")) != NULL) {
				fprintf(f, "%.*s\n", (int)strcspn(req, "\r\n"),
				    req);
				fclose(f);
			}
			snprintf(head, sizeof(head), "HTTP/1.0 %d X\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    status, strlen(body));
			if (write(c, head, strlen(head)) < 0 ||
			    write(c, body, strlen(body)) < 0)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	close(s);
	return 0;
}

static inline void
httpfix_stop(struct httpfix *h)
{
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

#endif
