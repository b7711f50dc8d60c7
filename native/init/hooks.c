/* createContainer and startContainer hooks: they run inside the container's namespaces, so the
 * init runs them itself, with the state JSON on stdin and the configured timeout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static void write_state(int fd, const char *json) {
  size_t n = strlen(json);
  while (n > 0) {
    ssize_t w = write(fd, json, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return; /* EPIPE: the hook does not read its stdin, which is its right */
    }
    json += w;
    n -= (size_t)w;
  }
}

static void run_one(const struct hook *h, int index, const char *kind, const char *state_json) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) die_errno("%s hook #%d: pipe", kind, index);
  pid_t pid = fork();
  if (pid < 0) die_errno("%s hook #%d: fork", kind, index);
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(pipefd[0], 0);
    char *default_args[] = {h->path, NULL};
    static char *empty_env[] = {NULL};
    execve(h->path, h->nargs ? h->args : default_args, h->nenv ? h->env : empty_env);
    fprintf(stderr, "exec %s: %s\n", h->path, strerror(errno));
    _exit(127);
  }
  close(pipefd[0]);
  write_state(pipefd[1], state_json);
  close(pipefd[1]);

  int status;
  if (h->timeout > 0) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
      struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
      int r;
      do r = poll(&pfd, 1, h->timeout * 1000);
      while (r < 0 && errno == EINTR);
      close(pidfd);
      if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        die("%s hook #%d (%s) timed out after %ds", kind, index, h->path, h->timeout);
      }
    }
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die_errno("%s hook #%d: wait", kind, index);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status)) die("%s hook #%d (%s) failed: exit status %d", kind, index, h->path, WEXITSTATUS(status));
  die("%s hook #%d (%s) failed: killed by signal %d", kind, index, h->path, WTERMSIG(status));
}

void hooks_run(const struct hook *hooks, int n, const char *kind, const char *state_json) {
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < n; i++) run_one(&hooks[i], i, kind, state_json);
  signal(SIGPIPE, old);
}
