/* The container process's identity and limits: terminal, rlimits, scheduling, user and groups,
 * capabilities, and the executable lookup. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "wire.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *rlimit_name(uint32_t type) {
  static const char *names[] = {"RLIMIT_CPU",    "RLIMIT_FSIZE",  "RLIMIT_DATA",    "RLIMIT_STACK",
                                "RLIMIT_CORE",   "RLIMIT_RSS",    "RLIMIT_NPROC",   "RLIMIT_NOFILE",
                                "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS",   "RLIMIT_SIGPENDING",
                                "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO",  "RLIMIT_RTTIME"};
  return type < sizeof names / sizeof names[0] ? names[type] : "RLIMIT_?";
}

/* The pty comes from the container's own devpts; its master goes to the console socket (runc's
 * message shape: payload "/dev/ptmx" with exactly one fd) or back to tsrun for a foreground run. */
void process_setup_terminal(const struct init_plan *p, int console_sock) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx in the container");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die_errno("unlock pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) die_errno("open pty peer");
  if (p->console_rows || p->console_cols) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_rows, .ws_col = (unsigned short)p->console_cols};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) die_errno("set console size");
  }
  if (fchown(slave, p->uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL) die_errno("chown pty");
  if (console_sock >= 0) {
    static const char payload[] = "/dev/ptmx";
    if (send_with_fd(console_sock, payload, sizeof payload - 1, master) < 0) die_errno("send pty master to the console socket");
  } else if (wire_send(g_sock, MSG_PTY_MASTER, NULL, 0, &master, 1) < 0) {
    die_errno("send pty master to tsrun");
  }
  close(master);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) die_errno("dup pty to fd %d", fd);
  if (slave > 2) close(slave);
  if (ioctl(0, TIOCSCTTY, 0) < 0) die_errno("make the pty the controlling terminal");
}

void process_set_affinity(const char *mask, uint32_t len, const char *what) {
  if (sched_setaffinity(0, len, (const cpu_set_t *)mask) < 0) die_errno("set %s CPU affinity", what);
}

void process_apply_limits(const struct init_plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit((int)p->rlimits[i].type, &rl) < 0)
      die_errno("error setting rlimit type %s (soft %llu, hard %llu)", rlimit_name(p->rlimits[i].type),
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  if (p->has_personality && personality(p->personality) < 0) die_errno("personality");
  if (p->sched && syscall(SYS_sched_setattr, 0, p->sched, 0) < 0) die_errno("sched_setattr");
  if (p->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->ioprio) < 0) die_errno("ioprio_set");
  if (p->umask >= 0) umask((mode_t)p->umask);
}

static void capset_all(const struct init_plan *p) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)p->cap_effective;
  data[1].effective = (uint32_t)(p->cap_effective >> 32);
  data[0].permitted = (uint32_t)p->cap_permitted;
  data[1].permitted = (uint32_t)(p->cap_permitted >> 32);
  data[0].inheritable = (uint32_t)p->cap_inheritable;
  data[1].inheritable = (uint32_t)(p->cap_inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) die_errno("capset");
}

void process_apply_identity(const struct init_plan *p) {
  if (p->has_caps) {
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
      if (p->cap_bounding & (1ULL << cap)) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die_errno("drop capability %d from the bounding set", cap);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_errno("prctl(PR_SET_KEEPCAPS)");
  }
  /* chdir while still root: a cwd the user cannot search is still entered (as runc); only
   * EACCES defers it to after the switch, when the user's own rights may be what counts */
  int cwd_done = 0;
  if (p->cwd) {
    if (chdir(p->cwd) == 0) cwd_done = 1;
    else if (errno != EACCES) die_errno("chdir to cwd (\"%s\") set in config.json failed", p->cwd);
  }
  char setgroups_state[8] = "";
  int sg = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (sg >= 0) {
    if (read(sg, setgroups_state, sizeof setgroups_state - 1) < 0) setgroups_state[0] = 0;
    close(sg);
  }
  if (strncmp(setgroups_state, "deny", 4) != 0) {
    if (setgroups((size_t)p->nadd_gids, p->add_gids) < 0) die_errno("setgroups");
  } else if (p->nadd_gids) {
    die("cannot set additional gids: setgroups is denied in this user namespace");
  }
  if (setresgid(p->gid, p->gid, p->gid) < 0) die_errno("setgid %u", p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0) die_errno("setuid %u", p->uid);
  if (p->cwd && !cwd_done && chdir(p->cwd) < 0) die_errno("chdir to cwd (\"%s\") set in config.json failed", p->cwd);
  if (p->has_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die_errno("prctl(PR_SET_KEEPCAPS)");
    capset_all(p);
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
      if (!(p->cap_ambient & (1ULL << cap))) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) die_errno("raise ambient capability %d", cap);
    }
  }
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

/* runc creates a missing cwd (as root, before the user switch and before the root goes
 * read-only). Called after pivot_root, so every path and symlink resolves inside the rootfs. */
void process_make_cwd(const struct init_plan *p) {
  char buf[PATH_MAX];
  if (!p->cwd || snprintf(buf, sizeof buf, "%s", p->cwd) >= (int)sizeof buf) return;
  for (char *c = buf + 1;; c++) {
    if (*c != '/' && *c) continue;
    char saved = *c;
    *c = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) die_errno("mkdir cwd %s", buf);
    if (!saved) break;
    *c = saved;
  }
}

/* The home directory of uid in the container's /etc/passwd; "/" when it has no entry. */
static const char *passwd_home(uid_t uid) {
  static char home[PATH_MAX];
  char line[1024];
  FILE *f = fopen("/etc/passwd", "re");
  if (!f) return "/";
  while (fgets(line, sizeof line, f)) {
    /* name:password:uid:gid:gecos:home:shell */
    char *field[7] = {0};
    int n = 0;
    for (char *c = line; n < 7; n++) {
      field[n] = c;
      c = strchr(c, ':');
      if (!c) {
        n++;
        break;
      }
      *c++ = 0;
    }
    if (n < 6 || !field[2][0]) continue;
    char *end;
    unsigned long v = strtoul(field[2], &end, 10);
    if (*end || v != uid) continue;
    field[5][strcspn(field[5], "\n")] = 0;
    fclose(f);
    if (!field[5][0]) return "/";
    snprintf(home, sizeof home, "%s", field[5]);
    return home;
  }
  fclose(f);
  return "/";
}

/* The process environment as runc builds it: a name given twice keeps its first place and
 * its last value (getenv would otherwise see the first), and a process without HOME gets the
 * home of its user. Read inside the rootfs, before the uid switch. */
char **process_environment(const struct init_plan *p) {
  char **env = calloc((size_t)p->nenv + 2, sizeof *env);
  if (!env) die("out of memory");
  int n = 0, home_slot = -1;
  for (int i = 0; i < p->nenv; i++) {
    size_t name_len = strcspn(p->env[i], "=");
    int slot = n;
    for (int j = 0; j < n; j++)
      if (strncmp(env[j], p->env[i], name_len + 1) == 0) slot = j;
    env[slot] = p->env[i];
    if (slot == n) n++;
    if (strncmp(p->env[i], "HOME=", 5) == 0) home_slot = slot;
  }
  /* an empty HOME counts as unset, as in runc */
  if (home_slot < 0 || !env[home_slot][5]) {
    const char *home = passwd_home(p->uid);
    char *entry = malloc(strlen(home) + 6);
    if (!entry) die("out of memory");
    sprintf(entry, "HOME=%s", home);
    env[home_slot < 0 ? n++ : home_slot] = entry;
  }
  env[n] = NULL;
  return env;
}

static int is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Like execvp's search, done before READY so a missing binary fails `create`, not `start`. */
const char *process_find_executable(const struct init_plan *p) {
  const char *name = p->args[0];
  if (strchr(name, '/')) {
    /* runc's (Go's) wording, which clients may match on */
    struct stat st;
    if (stat(name, &st) < 0) {
      char err[128];
      snprintf(err, sizeof err, "%s", strerror(errno));
      err[0] = (char)tolower((unsigned char)err[0]);
      die("exec: \"%s\": stat %s: %s", name, name, err);
    }
    if (!is_executable(name)) die("exec: \"%s\": permission denied", name);
    return name;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; i < p->nenv; i++)
    if (strncmp(p->env[i], "PATH=", 5) == 0) path = p->env[i] + 5;
  static char found[PATH_MAX];
  const char *dir = path;
  while (*dir) {
    const char *end = strchr(dir, ':');
    size_t len = end ? (size_t)(end - dir) : strlen(dir);
    snprintf(found, sizeof found, "%.*s/%s", (int)len, len ? dir : ".", name);
    if (is_executable(found)) return found;
    if (!end) break;
    dir = end + 1;
  }
  die("exec: \"%s\": executable file not found in $PATH", name);
}

/* Only stdio, the preserved fds and our own (close-on-exec) fds survive into the container. */
void process_close_extra_fds(const struct init_plan *p) {
  unsigned int first = 3 + p->preserve_fds;
  for (unsigned int fd = 3; fd < first; fd++) {
    int flags = fcntl((int)fd, F_GETFD);
    if (flags >= 0) fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die_errno("close_range");
}

static void write_attr(const char *path, const char *value, const char *what) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, value, strlen(value)) < 0) die_errno("set %s", what);
  close(fd);
}

/* The parent checked that the host has the module; the kernel applies both at execve. */
void process_set_exec_labels(const struct init_plan *p) {
  char buf[4096];
  if (p->apparmor) {
    snprintf(buf, sizeof buf, "exec %s", p->apparmor);
    write_attr(access("/proc/self/attr/apparmor/exec", F_OK) == 0 ? "/proc/self/attr/apparmor/exec" : "/proc/self/attr/exec", buf,
               "AppArmor profile");
  }
  if (p->selinux_label) write_attr("/proc/self/attr/exec", p->selinux_label, "SELinux label");
}
