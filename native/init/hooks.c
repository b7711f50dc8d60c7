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

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Feeds the state to the hook while waiting for it, so that a hook which neither reads its stdin
 * nor exits still meets its timeout even when the state is larger than the pipe. A hook that
 * exits without reading (EPIPE) is within its rights. Returns the wait status. */
static int feed_and_wait(pid_t pid, int in, const char *json, int timeout_s, const char *kind, int index, const char *path) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  size_t left = strlen(json);
  long deadline = timeout_s > 0 ? now_ms() + timeout_s * 1000L : 0;
  int status = 0, reaped = 0;
  if (fcntl(in, F_SETFL, O_NONBLOCK) < 0) die_errno("%s hook #%d: pipe", kind, index);
  if (left == 0) {
    close(in);
    in = -1;
  }
  for (;;) {
    struct pollfd fds[2];
    int n = 0, pid_slot = -1, in_slot = -1;
    if (pidfd >= 0) {
      pid_slot = n;
      fds[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
    }
    if (in >= 0) {
      in_slot = n;
      fds[n++] = (struct pollfd){.fd = in, .events = POLLOUT};
    }
    int wait = -1;
    if (deadline) {
      long rest = deadline - now_ms();
      wait = rest > 0 ? (int)rest : 0;
    }
    if (pidfd < 0 && (wait < 0 || wait > 20)) wait = 20; /* no pidfd: poll for the exit */
    int r = n ? poll(fds, (nfds_t)n, wait) : (usleep((useconds_t)wait * 1000), 0);
    if (r < 0 && errno != EINTR) die_errno("%s hook #%d: poll", kind, index);
    if (in_slot >= 0 && r > 0 && fds[in_slot].revents) {
      ssize_t w = write(in, json, left);
      if (w > 0) {
        json += w;
        left -= (size_t)w;
      }
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || left == 0) {
        close(in);
        in = -1;
      }
    }
    if (pid_slot >= 0 ? (r > 0 && fds[pid_slot].revents) : waitpid(pid, &status, WNOHANG) == pid) {
      reaped = pidfd < 0;
      break;
    }
    if (deadline && now_ms() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      die("%s hook #%d (%s) timed out after %ds", kind, index, path, timeout_s);
    }
  }
  if (in >= 0) close(in);
  if (pidfd >= 0) close(pidfd);
  while (!reaped && waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die_errno("%s hook #%d: wait", kind, index);
  return status;
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
  int status = feed_and_wait(pid, pipefd[1], state_json, h->timeout, kind, index, h->path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status)) die("%s hook #%d (%s) failed: exit status %d", kind, index, h->path, WEXITSTATUS(status));
  die("%s hook #%d (%s) failed: killed by signal %d", kind, index, h->path, WTERMSIG(status));
}

void hooks_run(const struct hook *hooks, int n, const char *kind, const char *state_json) {
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < n; i++) run_one(&hooks[i], i, kind, state_json);
  signal(SIGPIPE, old);
}
