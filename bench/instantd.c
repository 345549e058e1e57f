/* instantd: the daemon of the replay benchmark (bench/replay.sh). It speaks the FUSE
 * protocol itself on the fd named by its last argument ("/dev/fd/N", as fusereplay --devfd
 * and fusedump --devfd hand it over) and answers every request at once, with the replies of
 * instant.h: it must cost the replayer as little as possible. It never mounts anything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "instant.h"

static uint8_t buf[INSTANT_BUFSIZE];

/* The fd of "/dev/fd/N", or -1. */
static int parse_devfd(const char *arg)
{
	static const char prefix[] = "/dev/fd/";
	if (strncmp(arg, prefix, sizeof(prefix) - 1))
		return -1;
	const char *num = arg + sizeof(prefix) - 1;
	if (*num < '0' || *num > '9')
		return -1;
	char *end;
	errno = 0;
	long fd = strtol(num, &end, 10);
	if (errno || *end || fd > INT_MAX)
		return -1;
	return (int)fd;
}

/* The peer is gone: the end of the session, not a failure. */
static int gone(int e)
{
	return e == ENODEV || e == ECONNABORTED || e == ECONNRESET || e == EPIPE;
}

int main(int argc, char **argv)
{
	int fd = argc > 1 ? parse_devfd(argv[argc - 1]) : -1;
	if (fd < 0) {
		if (argc > 1)
			fprintf(stderr, "instantd: the last argument must name the FUSE fd as "
				"/dev/fd/N, not '%s'\n", argv[argc - 1]);
		fprintf(stderr, "usage: instantd [ARGS...] /dev/fd/N\n");
		return 2;
	}
	if (fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr, "instantd: %s: %s\n", argv[argc - 1], strerror(errno));
		return 2;
	}
	/* a peer that closes while we write: EPIPE, not death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);

	struct instant_conn c = INSTANT_CONN_INIT;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && gone(errno)))
			return 0;
		if (n < 0) {
			fprintf(stderr, "instantd: read: %s\n", strerror(errno));
			return 1;
		}
		if ((size_t)n < sizeof(struct fp_in_header)) {
			fprintf(stderr, "instantd: a message of %zd bytes, shorter than a header\n", n);
			return 1;
		}
		uint32_t opcode;
		memcpy(&opcode, buf + offsetof(struct fp_in_header, opcode), sizeof(opcode));
		size_t len = instant_answer(buf, (size_t)n, buf, sizeof(buf), &c);
		while (len) {
			ssize_t w = write(fd, buf, len);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && gone(errno))
				return 0;
			/* ENOENT: the request was interrupted and is gone */
			if (w < 0 && errno != ENOENT) {
				fprintf(stderr, "instantd: write: %s\n", strerror(errno));
				return 1;
			}
			break;
		}
		if (opcode == FP_DESTROY)
			return 0;
	}
}
