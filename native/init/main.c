/*
 * tsrun-init: the container's first process. Started by the tsrun addon from a sealed copy,
 * it receives the launch plan on the socket named by argv[1] and runs two stages:
 *   stage 1 joins/creates namespaces (asking the parent to write id maps), then forks
 *   stage 2 with CLONE_PARENT, reports its pid and exits;
 *   stage 2 (the init) sets up the rootfs and the process, reports READY, waits on exec.fifo
 *   for `tsrun start`, and execs the container process.
 * Everything it does is in the plan: it never reads config.json or the environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "wire.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int g_sock = -1;

static void send_error(const char *msg) {
  if (g_sock >= 0) wire_send(g_sock, MSG_ERROR, msg, (uint32_t)strlen(msg), NULL, 0);
  else fprintf(stderr, "tsrun-init: %s\n", msg);
}

void die(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  send_error(buf);
  _exit(1);
}

void die_errno(const char *fmt, ...) {
  int saved = errno;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof buf) snprintf(buf + n, sizeof buf - (size_t)n, ": %s", strerror(saved));
  send_error(buf);
  _exit(1);
}

static void expect(uint32_t type, struct msg *m) {
  if (wire_recv(g_sock, m) < 0) _exit(1); /* parent gone: nothing to report to */
  if (m->type != type) die("protocol error: expected message %u, got %u", type, m->type);
}

static const char *ns_name(uint32_t flag) {
  switch (flag) {
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWNS: return "mount";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
  }
  return "?";
}

/* Become the user namespace's root where it is mapped; an unmapped 0 keeps the creator's ids. */
static void become_namespace_root(void) {
  if (setresgid(0, 0, 0) < 0 && errno != EINVAL) die_errno("setresgid(0) in the user namespace");
  if (setresuid(0, 0, 0) < 0 && errno != EINVAL) die_errno("setresuid(0) in the user namespace");
}

/* Join namespaces given by path. Files are opened first, while the host view is intact; the user
 * namespace is entered first so that the others are joined with its privileges. */
static void join_namespaces(const struct init_plan *p) {
  int fds[16];
  for (int i = 0; i < p->njoins; i++) {
    fds[i] = open(p->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die_errno("open %s namespace %s", ns_name(p->joins[i].flag), p->joins[i].path);
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < p->njoins; i++) {
      int is_user = p->joins[i].flag == CLONE_NEWUSER;
      if (is_user != (pass == 0)) continue;
      if (setns(fds[i], (int)p->joins[i].flag) < 0)
        die_errno("join %s namespace %s", ns_name(p->joins[i].flag), p->joins[i].path);
      close(fds[i]);
      /* as after creating one: the host's root is unmapped there, and files it made would fail
       * with EOVERFLOW */
      if (is_user) become_namespace_root();
    }
  }
}

static void enter_new_user_namespace(void) {
  struct msg m;
  if (unshare(CLONE_NEWUSER) < 0) die_errno("create user namespace");
  /* An unprivileged parent can only write the maps of a dumpable process. Nothing of the
   * container runs yet, so the window is safe. */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
  if (wire_send(g_sock, MSG_NEED_MAPS, NULL, 0, NULL, 0) < 0) _exit(1);
  expect(MSG_MAPS_DONE, &m);
  free(m.data);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
  become_namespace_root();
}

static void write_oom_score_adj(int32_t value) {
  char buf[16];
  int n = snprintf(buf, sizeof buf, "%d", value);
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, buf, (size_t)n) != n) die_errno("failed to set oom_score_adj to %d", value);
  close(fd);
}

static void write_time_offsets(const char *offsets) {
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open /proc/self/timens_offsets");
  if (write(fd, offsets, strlen(offsets)) < 0) die_errno("write time namespace offsets");
  close(fd);
}

static void set_names(const struct init_plan *p) {
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0) die_errno("sethostname");
  if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0) die_errno("setdomainname");
}

static void join_session_keyring(const char *name) {
  /* KEYCTL_JOIN_SESSION_KEYRING: a fresh keyring keeps host keys out of the container. */
  if (syscall(SYS_keyctl, 1, name) < 0 && errno != ENOSYS && errno != EACCES && errno != EPERM)
    die_errno("join session keyring %s", name);
}

/* Reopen the fifo through our own fd table: the host path is gone after pivot_root. */
static void wait_for_start(int fifo_fd, int proc_fd_dir) {
  char name[16];
  snprintf(name, sizeof name, "%d", fifo_fd);
  int w = openat(proc_fd_dir, name, O_WRONLY | O_CLOEXEC);
  if (w < 0) die_errno("open exec fifo");
  if (write(w, "0", 1) != 1) die_errno("write exec fifo");
  /* w stays open (close-on-exec): `start` reads to EOF when it must run poststart hooks only
   * once the container process is executed */
  close(fifo_fd);
  close(proc_fd_dir);
}

static void run_container_init(const struct init_plan *p, int fifo_fd, int console_sock, int seccomp_listener) {
  struct msg m;
  int proc_fd_dir = -1;
  char *start_state = NULL, *listener_state = NULL;

  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  /* an exec'd process stays in the caller's session unless it needs a controlling tty */
  if ((!p->exec_mode || p->terminal) && setsid() < 0) die_errno("setsid");
  if (p->clone_flags & CLONE_NEWUTS) set_names(p);
  if (p->keyring) join_session_keyring(p->keyring);
  if (!p->exec_mode) rootfs_prepare(p);

  if (wire_send(g_sock, MSG_RUN_HOOKS, NULL, 0, NULL, 0) < 0) _exit(1);
  expect(MSG_HOOKS_DONE, &m);
  /* payload: createContainer state JSON, NUL, startContainer state JSON[, NUL, the
   * containerProcessState for a seccomp notify listener] */
  if (p->ncreate_hooks) hooks_run(p->create_container_hooks, p->ncreate_hooks, "createContainer", m.data);
  size_t first = strlen(m.data);
  if (first < m.len) start_state = m.data + first + 1;
  if (start_state && first + 1 + strlen(start_state) < m.len) listener_state = start_state + strlen(start_state) + 1;

  if (fifo_fd >= 0) {
    proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (proc_fd_dir < 0) die_errno("open /proc/self/fd");
  }
  if (!p->exec_mode) {
    rootfs_enter(p);
    process_make_cwd(p);
    rootfs_finish(p);
  } else if (p->rootfs && chroot(p->rootfs) < 0) {
    die_errno("chroot %s", p->rootfs);
  }
  if (p->terminal) process_setup_terminal(p, console_sock);
  if (console_sock >= 0) close(console_sock);
  process_apply_limits(p);
  char **env = process_environment(p);
  process_apply_identity(p);
  const char *exe = process_find_executable(p);
  process_close_extra_fds(p);

  if (prctl(PR_SET_PDEATHSIG, 0) < 0) die_errno("prctl(PR_SET_PDEATHSIG)");
  if (wire_send(g_sock, MSG_READY, NULL, 0, NULL, 0) < 0) _exit(1);
  close(g_sock);
  g_sock = -1; /* from here errors go to the container's stderr */

  if (fifo_fd >= 0) wait_for_start(fifo_fd, proc_fd_dir);
  if (p->nstart_hooks) hooks_run(p->start_container_hooks, p->nstart_hooks, "startContainer", start_state ? start_state : "{}");
  if (p->affinity_final) process_set_affinity(p->affinity_final, p->affinity_final_len, "final");
  /* labels take effect at execve; written before seccomp, which may forbid the write */
  process_set_exec_labels(p);
  if (p->seccomp) seccomp_install(p, seccomp_listener, listener_state);
  execve(exe, p->args, env);
  fprintf(stderr, "tsrun-init: exec %s: %s\n", exe, strerror(errno));
  _exit(127);
}

/* The parent id-maps bind sources (only it may id-map a host filesystem) and sends each
 * detached tree on its own, so any number of them fit beside the PLAN's fds. */
static void receive_mount_trees(struct init_plan *p) {
  for (int i = 0; i < p->nmounts; i++) {
    struct mount_step *ms = &p->mounts[i];
    if (!ms->idmap) continue;
    struct msg t;
    expect(MSG_MOUNT_TREE, &t);
    free(t.data);
    if (t.nfds != 1) die("protocol error: id-mapped mount %s came without its tree", ms->dest);
    ms->tree_fd = t.fds[0];
  }
}

/* Node ignores SIGPIPE and threads block signals; none of that may reach the container. */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
}

int main(int argc, char **argv) {
  struct msg m;
  struct init_plan plan;
  char err[256];
  int console_sock = -1, fifo_fd = -1, seccomp_listener = -1;

  if (argc < 2) {
    fprintf(stderr, "tsrun-init: this helper is started by tsrun, not by hand\n");
    return 2;
  }
  g_sock = atoi(argv[1]);
  /* Until it execs the container process the init holds host fds (the exec fifo, a directory
   * of the host's /proc): non-dumpable, its /proc/<pid>/fd and exe are out of reach of other
   * processes in the container (`exec` before `start`). execve restores dumpability. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_DUMPABLE)");
  reset_signals();
  if (wire_recv(g_sock, &m) < 0 || m.type != MSG_PLAN) return 1;
  if (plan_parse(m.data, m.len, &plan, err, sizeof err) < 0) die("%s", err);
  receive_mount_trees(&plan);
  /* fds: the exec fifo (O_PATH, opened by the parent: the state dir may be closed to a
   * user-namespaced init), then the console socket (absent for a foreground terminal), and
   * last the seccomp notify listener socket */
  int next_fd = 0;
  if (plan.seccomp_listener && m.nfds > 0) seccomp_listener = m.fds[--m.nfds];
  if (plan.exec_fifo && next_fd < m.nfds) fifo_fd = m.fds[next_fd++];
  if (plan.terminal && next_fd < m.nfds) console_sock = m.fds[next_fd++];

  if (plan.affinity_initial) process_set_affinity(plan.affinity_initial, plan.affinity_initial_len, "initial");
  /* Before any user namespace: a negative value needs CAP_SYS_RESOURCE in the initial one.
   * The container init inherits it from this stage. */
  if (plan.has_oom_score_adj) write_oom_score_adj(plan.oom_score_adj);
  join_namespaces(&plan);
  if (plan.clone_flags & CLONE_NEWUSER) enter_new_user_namespace();
  uint32_t rest = plan.clone_flags & ~(uint32_t)CLONE_NEWUSER;
  if (rest && unshare((int)rest) < 0) die_errno("create namespaces (flags 0x%x)", rest);
  if (plan.time_offsets) write_time_offsets(plan.time_offsets);

  /* CLONE_PARENT: the init becomes tsrun's child, so `run` can wait for it directly. A raw
   * clone is needed because fork() cannot set it; the child only uses this process's memory. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) die_errno("clone container init");
  if (pid == 0) {
    run_container_init(&plan, fifo_fd, console_sock, seccomp_listener);
    _exit(1);
  }
  uint32_t host_pid = (uint32_t)pid;
  wire_send(g_sock, MSG_INIT_PID, &host_pid, sizeof host_pid, NULL, 0);
  return 0;
}
