/*
 * The bench's process timer: a small server that runs commands on request and reports their
 * wall time (fork to wait4) and peak RSS (wait4's ru_maxrss), so the numbers carry none of
 * Node's spawn overhead and no /usr/bin/time wrapper.
 *
 *   timer [--detach-mount PATH]
 *
 * --detach-mount: before anything is timed, enter a private mount namespace and detach PATH
 * there (crun refuses a cgroup-hybrid host; without the cgroup2 mount it sees plain v1). Done
 * once at start, so the commands' times include no unshare or shell.
 *
 * The timer is a child subreaper: container inits left behind by `create` are reparented to it
 * and reaped after each request instead of piling up as zombies under a pid 1 that never reaps.
 *
 * Requests on stdin, one per line, fields separated by tabs:
 *   COUNT<TAB>STDOUT_FILE<TAB>STDERR_FILE<TAB>ARG0<TAB>ARG1...
 * The command runs COUNT times in a row; "{i}" in an argument becomes the iteration number.
 * Reply on stdout, one line: "<total ns> <max ru_maxrss KiB> <last status> <failures> <total CPU ns>",
 * where a status is the exit code or 128+signal and CPU is user+system time of the command and
 * the descendants it waited for (steadier than wall time on a loaded machine).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "timer: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* Copy src to dst replacing "{i}" with n. */
static void substitute(char *dst, size_t size, const char *src, int n) {
  size_t used = 0;
  while (*src && used + 1 < size) {
    if (strncmp(src, "{i}", 3) == 0) {
      used += (size_t)snprintf(dst + used, size - used, "%d", n);
      if (used >= size) used = size - 1;
      src += 3;
    } else {
      dst[used++] = *src++;
    }
  }
  dst[used] = '\0';
}

static void reap_orphans(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--detach-mount") == 0 && i + 1 < argc) {
      if (unshare(CLONE_NEWNS) < 0) die("unshare(CLONE_NEWNS)");
      /* Private first, so the detach does not propagate back to the host's namespace. */
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
      if (umount2(argv[++i], MNT_DETACH) < 0) die(argv[i]);
    } else {
      fprintf(stderr, "timer: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("PR_SET_CHILD_SUBREAPER");
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");

  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (line[len - 1] == '\n') line[--len] = '\0';
    char *fields[MAX_ARGS + 3];
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t", &save); tok && nf < MAX_ARGS + 3; tok = strtok_r(NULL, "\t", &save))
      fields[nf++] = tok;
    if (nf < 4) {
      printf("error bad request\n");
      continue;
    }
    int count = atoi(fields[0]);
    long long total = 0, cpu = 0;
    long max_rss = 0;
    int status_out = 0, failures = 0;
    static char args[MAX_ARGS][4096];
    char *child_argv[MAX_ARGS + 1];
    /* One pair of files for all iterations, appended to, so a failure's message survives. */
    int out = open(fields[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    int err = open(fields[2], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0 || err < 0) die("open output files");
    for (int n = 0; n < count; n++) {
      int nargs = nf - 3;
      for (int a = 0; a < nargs; a++) {
        substitute(args[a], sizeof args[a], fields[3 + a], n);
        child_argv[a] = args[a];
      }
      child_argv[nargs] = NULL;
      long long t0 = now_ns();
      pid_t pid = fork();
      if (pid < 0) die("fork");
      if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
        execvp(child_argv[0], child_argv);
        _exit(127);
      }
      int st;
      struct rusage ru;
      while (wait4(pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) die("wait4");
      }
      total += now_ns() - t0;
      reap_orphans();
      if (ru.ru_maxrss > max_rss) max_rss = ru.ru_maxrss;
      cpu += ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL + ((long long)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
      status_out = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (status_out != 0) failures++;
    }
    close(out);
    close(err);
    printf("%lld %ld %d %d %lld\n", total, max_rss, status_out, failures, cpu);
  }
  return 0;
}
