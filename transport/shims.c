/* The shims' directory and environment (fusetransport/shims.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fusetransport/ctl.h"
#include "fusetransport/kernel.h"
#include "fusetransport/shims.h"
#include "internal.h"

#define PRELOAD_LIB "libfusewire-preload.so"
#define FUSERMOUNT_BIN "fusewire-fusermount"

static int find_libexec(struct ft_shims *s, char *errbuf)
{
	const char *env = getenv(FT_LIBEXEC_ENV);
	if (env && *env) {
		snprintf(s->libexec, sizeof(s->libexec), "%s", env);
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0) {
			ft_seterr(errbuf, "readlink /proc/self/exe: %s", strerror(errno));
			return -1;
		}
		exe[n] = 0;
		/* <dir>/bin/prog or <build>/tool/prog: the shims are in <dir>/libexec/fusewire */
		char *bindir = dirname(exe);
		char *top = dirname(bindir);
		snprintf(s->libexec, sizeof(s->libexec), "%s/libexec/fusewire", top);
	}
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", s->libexec, PRELOAD_LIB);
	if (access(p, R_OK) < 0) {
		ft_seterr(errbuf, "the shims are missing: %s: %s (set %s to their directory)", p,
			  strerror(errno), FT_LIBEXEC_ENV);
		return -1;
	}
	snprintf(p, sizeof(p), "%s/%s", s->libexec, FUSERMOUNT_BIN);
	if (access(p, X_OK) < 0) {
		ft_seterr(errbuf, "the shims are missing: %s: %s (set %s to their directory)", p,
			  strerror(errno), FT_LIBEXEC_ENV);
		return -1;
	}
	return 0;
}

/* Write the script `name` that runs fusewire-fusermount with our control socket. Paths
 * are single-quoted for the shell; ours hold no quote (mkdtemp, and checked below). */
static int write_script(struct ft_shims *s, const char *name, char *errbuf)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/bin/%s", s->dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (fd < 0) {
		ft_seterr(errbuf, "%s: %s", p, strerror(errno));
		return -1;
	}
	char text[3 * PATH_MAX];
	int n = snprintf(text, sizeof(text),
			 "#!/bin/sh\n"
			 "# fusewire: %s for a daemon behind fusedump\n"
			 "exec '%s/" FUSERMOUNT_BIN "' --fusewire-ctl '%s' --fusewire-as %s \"$@\"\n",
			 name, s->libexec, s->ctl, name);
	int ok = n > 0 && (size_t)n < sizeof(text) && write(fd, text, (size_t)n) == n;
	int e = errno;
	close(fd);
	if (!ok) {
		ft_seterr(errbuf, "writing %s: %s", p, strerror(e ? e : EIO));
		return -1;
	}
	return 0;
}

/* The environment: ours, with PATH, LD_PRELOAD and FUSEWIRE_CTL set. */
static int build_env(struct ft_shims *s)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	s->env = calloc(n + 4, sizeof(char *));
	if (!s->env)
		return -1;
	const char *path = getenv("PATH");
	const char *pre = getenv("LD_PRELOAD");
	char *add[3] = {NULL, NULL, NULL};
	if (asprintf(&add[0], "PATH=%s/bin:%s", s->dir,
		     path ? path : "/usr/local/bin:/usr/bin:/bin") < 0)
		add[0] = NULL;
	if (asprintf(&add[1], "LD_PRELOAD=%s/" PRELOAD_LIB "%s%s", s->libexec,
		     pre && *pre ? " " : "", pre ? pre : "") < 0)
		add[1] = NULL;
	if (asprintf(&add[2], FT_CTL_ENV "=%s", s->ctl) < 0)
		add[2] = NULL;
	if (!add[0] || !add[1] || !add[2]) {
		for (int i = 0; i < 3; i++)
			free(add[i]);
		free(s->env);
		s->env = NULL;
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PATH=", 5) && strncmp(environ[i], "LD_PRELOAD=", 11) &&
		    strncmp(environ[i], FT_CTL_ENV "=", sizeof(FT_CTL_ENV)))
			s->env[k++] = environ[i];
	for (int i = 0; i < 3; i++)
		s->env[k++] = add[i];
	s->env[k] = NULL;
	return 0;
}

int ft_shims_open(struct ft_shims *s, char *errbuf)
{
	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	if (find_libexec(s, errbuf) < 0)
		return -1;
	if (strchr(s->libexec, '\'')) {
		ft_seterr(errbuf, "%s: a quote in the path of the shims", s->libexec);
		return -1;
	}
	/* $TMPDIR when its path is short enough for a socket address, else /tmp */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strchr(tmp, '\'') || strlen(tmp) + sizeof("/fusewire.XXXXXX") > sizeof(s->dir))
		tmp = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/fusewire.XXXXXX", tmp);
	if (!mkdtemp(s->dir)) {
		ft_seterr(errbuf, "mkdtemp %s: %s", s->dir, strerror(errno));
		s->dir[0] = 0;
		return -1;
	}
	snprintf(s->ctl, sizeof(s->ctl), "%s/ctl", s->dir);
	static const char *const names[] = {"/bin/fusermount3", "/bin/fusermount", "/ctl", "/bin", ""};
	for (int i = 0; i < 5; i++) {
		snprintf(s->paths[i], sizeof(s->paths[i]), "%s%s", s->dir, names[i]);
		s->leftovers[i] = s->paths[i];
	}
	s->leftovers[5] = NULL;
	const char *bin = s->paths[3];
	s->lfd = ft_ctl_listen(s->ctl);
	if (s->lfd < 0) {
		ft_seterr(errbuf, "control socket %s: %s", s->ctl, strerror(errno));
		goto fail;
	}
	if (mkdir(bin, 0700) < 0) {
		ft_seterr(errbuf, "mkdir %s: %s", bin, strerror(errno));
		goto fail;
	}
	if (write_script(s, "fusermount3", errbuf) < 0 || write_script(s, "fusermount", errbuf) < 0)
		goto fail;
	if (build_env(s) < 0) {
		ft_seterr(errbuf, "out of memory");
		goto fail;
	}
	return 0;
fail:
	ft_shims_close(s);
	return -1;
}

void ft_shims_close(struct ft_shims *s)
{
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	if (s->env) {
		/* the three additions are ours, at the end */
		size_t n = 0;
		while (s->env[n])
			n++;
		for (size_t i = n >= 3 ? n - 3 : 0; i < n; i++)
			free(s->env[i]);
		free(s->env);
		s->env = NULL;
	}
	if (!s->dir[0])
		return;
	for (int i = 0; s->leftovers[i]; i++)
		if (unlink(s->leftovers[i]) < 0 && errno == EISDIR)
			rmdir(s->leftovers[i]);
	s->dir[0] = 0;
}
