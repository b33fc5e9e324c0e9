/*
 * tap.c -- ternctl tap: print every frame a writer handles, one JSON line
 * each, as it happens.
 *
 * The writer copies frames to a tap only while the tap keeps up; when it
 * falls behind, frames are dropped on the writer's side and the next TAP
 * says how many were lost.  We print that in the line ("lost") and keep a
 * total for the summary on stderr, so an operator knows the view has holes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctl.h"
#include "peer.h"

struct tap {
	struct event_base	*base;
	struct body_dec		*dec, *inner;
	unsigned		 types[FRAME_TYPE_MAX + 1];	/* 1: show */
	int			 all_types;
	const char		*series;	/* substring filter or NULL */
	long			 count;		/* stop after; 0 = never */
	long			 printed;
	unsigned long long	 lost;
	char			*json;
	size_t			 jsonlen;
};

/* 1 if the SAMPLES/BATCH body names a series containing t->series. */
static int
series_match(struct tap *t, const uint8_t *body, size_t len)
{
	struct samples_msg	 m;
	char			 err[128], name[BODY_MAX_NAME + 1];
	uint32_t		 i, j;

	if (body_decode_samples(t->inner, body, len, &m, err, sizeof(err))
	    == -1)
		return 0;
	for (i = 0; i < m.nseries; i++) {
		snprintf(name, sizeof(name), "%.*s", (int)m.series[i].name.n,
		    m.series[i].name.p);
		if (strstr(name, t->series) != NULL)
			return 1;
		for (j = 0; j < m.series[i].nlabels; j++) {
			const struct pstr *v = &m.series[i].labels[j].v;

			if (memmem(v->p, v->n, t->series, strlen(t->series)))
				return 1;
		}
	}
	return 0;
}

static void
print_json_str(const char *s, size_t n)
{
	size_t	i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int
dispatch(struct peer *p, const struct frame *f, void *arg, char *err,
    size_t errlen)
{
	struct tap		*t = arg;
	struct tap_msg		 m;
	struct frame		 in;
	size_t			 used;
	char			 why[256];

	if (f == NULL) {
		if (t->count == 0 || t->printed < t->count)
			fprintf(stderr, "ternctl tap: writer connection "
			    "closed; reconnecting\n");
		return 0;
	}
	/* Frames already buffered keep coming until the loop breaks. */
	if (f->hdr.type != FRAME_TAP || (t->count > 0 && t->printed >= t->count))
		return 0;
	if (body_decode_tap(t->dec, f->body, f->hdr.length, &m, err, errlen)
	    == -1)
		return -1;
	if (frame_parse(m.frame, m.frame_len, FRAME_MAX_BODY, &in, &used, why,
	    sizeof(why)) != 1 || used != m.frame_len) {
		snprintf(err, errlen, "TAP carries a bad frame: %s", why);
		return -1;
	}
	t->lost += m.lost;
	if (!t->all_types && !t->types[in.hdr.type])
		return 0;
	if (t->series != NULL && ((in.hdr.type != FRAME_SAMPLES &&
	    in.hdr.type != FRAME_BATCH) ||
	    !series_match(t, in.body, in.hdr.length)))
		return 0;
	if (body_to_json(in.body, in.hdr.length, &t->json, &t->jsonlen, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "cannot render body: %s", why);
		return -1;
	}
	printf("{\"peer\":");
	print_json_str(m.peer.p, m.peer.n);
	printf(",\"dir\":");
	print_json_str(m.dir.p, m.dir.n);
	printf(",\"type\":\"%s\",\"seq\":%llu,\"len\":%u,\"lost\":%llu,"
	    "\"body\":%s}\n", frame_type_name(in.hdr.type),
	    (unsigned long long)in.hdr.seq, in.hdr.length,
	    (unsigned long long)m.lost, t->json);
	fflush(stdout);
	if (t->count > 0 && ++t->printed >= t->count)
		event_base_loopbreak(t->base);
	return 0;
}

static void
up(struct peer_client *c, struct peer *p, void *arg)
{
	fprintf(stderr, "ternctl tap: connected\n");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int
ctl_tap(struct ctl *ctl, int argc, char **argv)
{
	struct tap		 t;
	struct peer_self	 self = { ROLE_TAP, "ternctl-tap", "", 0 };
	struct peer_client	*c;
	struct event		*sig;
	const char		*sock = ctl->conf.writer.socket;
	char			*types = NULL, *tok, *save;
	unsigned		 ty;
	int			 ch;

	memset(&t, 0, sizeof(t));
	t.all_types = 1;
	while ((ch = getopt(argc, argv, "t:s:c:")) != -1) {
		switch (ch) {
		case 't':
			types = optarg;
			break;
		case 's':
			t.series = optarg;
			break;
		case 'c':
			t.count = strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		sock = argv[optind];
	if (types != NULL) {
		t.all_types = 0;
		for (tok = strtok_r(types, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if ((ty = frame_type_by_name(tok)) == 0) {
				fprintf(stderr, "ternctl tap: no frame type "
				    "'%s'\n", tok);
				return 2;
			}
			t.types[ty] = 1;
		}
	}
	t.base = event_base_new();
	t.dec = body_dec_new();
	t.inner = body_dec_new();
	if (t.base == NULL || t.dec == NULL || t.inner == NULL) {
		fprintf(stderr, "ternctl tap: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	c = peer_client_new(t.base, sock, &self, 64 * 1024, up, dispatch, &t);
	sig = evsignal_new(t.base, SIGINT, on_signal, t.base);
	if (c == NULL || sig == NULL) {
		fprintf(stderr, "ternctl tap: cannot set up\n");
		return 1;
	}
	evsignal_add(sig, NULL);
	event_base_dispatch(t.base);
	if (t.lost > 0)
		fprintf(stderr, "ternctl tap: %llu frames lost (this tap was "
		    "too slow)\n", t.lost);
	peer_client_free(c);
	event_free(sig);
	body_dec_free(t.dec);
	body_dec_free(t.inner);
	free(t.json);
	event_base_free(t.base);
	return 0;
}
