/* The launch plan as the init receives it; tags mirror src/plan/wire.ts. */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H
#include <stdint.h>
#include <sys/types.h>

enum plan_tag {
  T_CLONE_FLAGS = 1, /* u32: namespaces to create */
  T_JOIN_NS = 2,     /* nested: T_NS_FLAG, T_NS_PATH */
  T_TIME_OFFSETS = 4,
  T_HOSTNAME = 5,
  T_DOMAINNAME = 6,
  T_ROOTFS = 10,
  T_ROOTFS_PROPAGATION = 11,
  T_NO_PIVOT = 12,
  T_READONLY_ROOT = 13,
  T_MOUNT = 14,  /* nested: T_M_* */
  T_DEVICE = 15, /* nested: T_D_* */
  T_MASKED = 16,
  T_READONLY_PATH = 17,
  T_SYSCTL = 18, /* nested: T_KEY, T_VALUE */
  T_ARG = 20,
  T_ENV = 21,
  T_CWD = 22,
  T_UID = 23,
  T_GID = 24,
  T_ADD_GID = 25,
  T_UMASK = 26,
  T_CAPS = 27, /* nested: T_CAP_* u64 masks */
  T_RLIMIT = 32, /* nested: T_R_TYPE u32, T_R_SOFT u64, T_R_HARD u64 */
  T_NO_NEW_PRIVS = 33,
  T_PERSONALITY = 34,
  T_SCHED = 35, /* bytes: struct sched_attr as the kernel takes it */
  T_IOPRIO = 36,
  T_CPU_AFFINITY_INITIAL = 37, /* bytes: cpu mask */
  T_CPU_AFFINITY_FINAL = 38,
  T_TERMINAL = 39,
  T_CONSOLE_ROWS = 40,
  T_CONSOLE_COLS = 41,
  T_EXEC_FIFO = 42,
  T_HOOK_CREATE_CONTAINER = 43, /* nested: T_H_* */
  T_HOOK_START_CONTAINER = 44,
  T_NEW_KEYRING = 50, /* str: session keyring name */
  T_PRESERVE_FDS = 52,
  T_SECCOMP = 53, /* bytes: struct sock_filter[] */
  T_SECCOMP_FLAGS = 54,
  T_PID_NS_JOIN_FORK = 55,
  T_DEV_TMPFS_DEFAULTS = 56, /* u32: make /dev/ptmx, fd, stdio links */
  T_EXEC_MODE = 57,          /* u32: join an existing container, no rootfs work */
  T_SECCOMP_LISTENER = 58,   /* u32: a notify listener socket follows in the PLAN fds */
  T_OOM_SCORE_ADJ = 59,      /* u32 (as int32) */
  T_APPARMOR = 60,           /* str: AppArmor profile for the exec */
  T_SELINUX_LABEL = 61,      /* str: SELinux label for the exec */

  T_NS_FLAG = 100,
  T_NS_PATH = 101,

  T_M_SOURCE = 110,
  T_M_DEST = 111,
  T_M_TYPE = 112,
  T_M_FLAGS = 113,
  T_M_DATA = 114,
  T_M_PROPAGATION = 115,
  T_M_ATTR_SET = 116,
  T_M_ATTR_CLR = 117,
  T_M_BIND = 118,
  T_M_REMOUNT_FLAGS = 119, /* flags applied by a second (remount) step for binds */
  T_M_MKDIR_ONLY = 120,    /* only create the destination directory */
  T_M_SYMLINK = 121,       /* str: make dest a symlink to this target */
  T_M_TMPCOPYUP = 122,
  T_M_IDMAP = 123, /* u32: attach the id-mapped tree that arrives in a MSG_MOUNT_TREE */

  T_D_PATH = 130,
  T_D_TYPE = 131, /* u32: S_IFCHR, S_IFBLK, S_IFIFO */
  T_D_MAJOR = 132,
  T_D_MINOR = 133,
  T_D_MODE = 134,
  T_D_UID = 135,
  T_D_GID = 136,
  T_D_BIND = 137,

  T_KEY = 140,
  T_VALUE = 141,

  T_CAP_BOUNDING = 150,
  T_CAP_EFFECTIVE = 151,
  T_CAP_INHERITABLE = 152,
  T_CAP_PERMITTED = 153,
  T_CAP_AMBIENT = 154,

  T_R_TYPE = 160,
  T_R_SOFT = 161,
  T_R_HARD = 162,

  T_H_PATH = 170,
  T_H_ARG = 171,
  T_H_ENV = 172,
  T_H_TIMEOUT = 173,
};

#define MAX_LIST 256

struct mount_step {
  char *source, *dest, *type, *data, *symlink;
  unsigned long flags, remount_flags;
  unsigned long propagation[4];
  int npropagation;
  uint64_t attr_set, attr_clr;
  int bind, mkdir_only, tmpcopyup;
  int idmap, tree_fd; /* tree_fd: the detached, id-mapped copy of source, from the parent */
};

struct device_node {
  char *path;
  uint32_t type, major, minor, mode, uid, gid;
  int bind;
};

struct hook {
  char *path;
  char **args; /* NULL-terminated */
  char **env;
  int nargs, nenv;
  int timeout; /* seconds, 0 = none */
};

struct rlimit_step {
  uint32_t type;
  uint64_t soft, hard;
};

struct ns_join {
  uint32_t flag;
  char *path;
};

struct init_plan {
  uint32_t clone_flags;
  struct ns_join joins[16];
  int njoins;
  char *time_offsets, *hostname, *domainname;

  char *rootfs;
  unsigned long rootfs_propagation;
  int no_pivot, readonly_root, dev_defaults, exec_mode;
  struct mount_step *mounts;
  int nmounts;
  struct device_node *devices;
  int ndevices;
  char **masked, **readonly_paths;
  int nmasked, nreadonly;
  char **sysctl_keys, **sysctl_values;
  int nsysctl;

  char **args, **env;
  int nargs, nenv;
  char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *add_gids;
  int nadd_gids;
  int umask; /* -1: leave */
  int has_caps;
  uint64_t cap_bounding, cap_effective, cap_inheritable, cap_permitted, cap_ambient;
  struct rlimit_step *rlimits;
  int nrlimits;
  int no_new_privs;
  int has_oom_score_adj;
  char *apparmor, *selinux_label;
  int32_t oom_score_adj;
  int has_personality;
  uint32_t personality;
  char *sched;
  uint32_t sched_len;
  int has_ioprio;
  uint32_t ioprio;
  char *affinity_initial, *affinity_final;
  uint32_t affinity_initial_len, affinity_final_len;
  int terminal;
  uint32_t console_rows, console_cols;
  char *exec_fifo;
  struct hook *create_container_hooks, *start_container_hooks;
  int ncreate_hooks, nstart_hooks;
  char *keyring;
  uint32_t preserve_fds;
  char *seccomp;
  uint32_t seccomp_len, seccomp_flags;
  int seccomp_listener;
};

/* Returns 0, or -1 with a message in err. */
int plan_parse(const char *data, size_t len, struct init_plan *p, char *err, size_t errlen);

#endif
