/* Installs the seccomp program tsrun compiled (linux.seccomp) as the init's last step before
 * execve, so the profile never restricts the runtime's own work. With a notify listener, the
 * filter's fd goes to the listener socket together with the container process state. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "wire.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* runtime-spec's message shape: the state JSON as the payload, the notify fd as SCM_RIGHTS. */
static void send_to_listener(int sock, int notify_fd, const char *state_json) {
  if (send_with_fd(sock, state_json, strlen(state_json), notify_fd) < 0) die_errno("send the seccomp notify fd to the listener");
}

void seccomp_install(const struct init_plan *p, int listener_sock, const char *listener_state) {
  struct sock_fprog prog = {
      .len = (unsigned short)(p->seccomp_len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)p->seccomp,
  };
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
  if (fd < 0) die_errno("install the seccomp filter (flags 0x%x)", p->seccomp_flags);
  if (!(p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) return;
  if (listener_sock < 0) die("seccomp notify filter installed but no listener socket was passed");
  send_to_listener(listener_sock, (int)fd, listener_state ? listener_state : "{}");
  close((int)fd);
  close(listener_sock);
}
