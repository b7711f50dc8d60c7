#ifndef TSRUN_COMMON_H
#define TSRUN_COMMON_H
#include "plan.h"

/* The socket to the tsrun parent; the only channel for errors while the container is set up. */
extern int g_sock;

/* Report a one-line error to the parent and exit. The _errno form appends strerror(errno). */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);

/* rootfs.c */
void rootfs_prepare(const struct init_plan *p);   /* mounts and devices, before hooks */
void rootfs_enter(const struct init_plan *p);     /* pivot_root (or move+chroot) */
void rootfs_finish(const struct init_plan *p);    /* masked/readonly paths, sysctl, ro root */

/* process.c */
void process_setup_terminal(const struct init_plan *p, int console_sock);
void process_apply_limits(const struct init_plan *p);
void process_apply_identity(const struct init_plan *p);
const char *process_find_executable(const struct init_plan *p);
char **process_environment(const struct init_plan *p); /* env plus a default HOME */
void process_make_cwd(const struct init_plan *p);
void process_close_extra_fds(const struct init_plan *p);
void process_set_exec_labels(const struct init_plan *p);
void process_set_affinity(const char *mask, uint32_t len, const char *what);

/* seccomp.c: the very last step before execve */
void seccomp_install(const struct init_plan *p, int listener_sock, const char *listener_state);

/* hooks.c */
void hooks_run(const struct hook *hooks, int n, const char *kind, const char *state_json);

#endif
