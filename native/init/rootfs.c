/* The container's filesystem: mounts resolved inside the rootfs, devices, pivot_root, and the
 * masked/read-only paths. Every destination is resolved with openat2(RESOLVE_IN_ROOT) so a
 * symlink in the rootfs can never point a mount at the host. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

struct mount_attr_arg {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int g_rootfd = -1;

static int open_in_root(const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  return (int)syscall(SYS_openat2, g_rootfd, path, &how, sizeof how);
}

/* Append component name (len n) to a rootfs-relative path. */
static void path_push(char *resolved, const char *name, size_t n, const char *what) {
  size_t len = strlen(resolved);
  if (len + n + 2 > PATH_MAX) die("mount destination too long: %s", what);
  if (len) resolved[len++] = '/';
  memcpy(resolved + len, name, n);
  resolved[len + n] = 0;
}

/* Create every missing component of path inside the rootfs; the last one as a directory or an
 * empty file. Returns an O_PATH fd to it. A symlink on the way is followed the way
 * RESOLVE_IN_ROOT follows it (absolute targets and ".." stay inside the rootfs), so a dangling
 * link such as evil -> /tmp/x gets its target created under the rootfs, never on the host. */
static int ensure_in_root(const char *path, int last_is_dir) {
  int fd = open_in_root(path, O_PATH);
  if (fd >= 0) return fd;
  if (errno != ENOENT) die_errno("resolve %s in rootfs", path);

  char resolved[PATH_MAX] = ""; /* symlink-free, relative to the rootfs */
  char rest[PATH_MAX], link[PATH_MAX], tmp[PATH_MAX];
  if (strlen(path) >= sizeof rest) die("mount destination too long: %s", path);
  strcpy(rest, path);
  int links = 0;
  for (;;) {
    char *r = rest;
    while (*r == '/') r++;
    if (!*r) break;
    size_t n = strcspn(r, "/");
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) die("path component too long in %s", path);
    memcpy(comp, r, n);
    comp[n] = 0;
    memmove(rest, r + n, strlen(r + n) + 1);
    if (strcmp(comp, ".") == 0) continue;
    if (strcmp(comp, "..") == 0) {
      char *slash = strrchr(resolved, '/');
      if (slash) *slash = 0;
      else resolved[0] = 0;
      continue;
    }
    char candidate[PATH_MAX];
    snprintf(candidate, sizeof candidate, "%s", resolved);
    path_push(candidate, comp, n, path);
    fd = open_in_root(candidate, O_PATH | O_NOFOLLOW);
    if (fd >= 0) {
      struct stat st;
      if (fstat(fd, &st) < 0) die_errno("stat %s in rootfs", candidate);
      if (S_ISLNK(st.st_mode)) {
        if (++links > 40) die("resolve %s in rootfs: too many symlinks", path);
        ssize_t len = readlinkat(fd, "", link, sizeof link - 1);
        if (len < 0) die_errno("readlink %s in rootfs", candidate);
        link[len] = 0;
        if (snprintf(tmp, sizeof tmp, "%s/%s", link, rest) >= (int)sizeof tmp) die("mount destination too long: %s", path);
        strcpy(rest, tmp);
        if (link[0] == '/') resolved[0] = 0;
      } else {
        strcpy(resolved, candidate);
      }
      close(fd);
      continue;
    }
    if (errno != ENOENT) die_errno("resolve %s in rootfs", candidate);
    int parent = open_in_root(resolved, O_PATH | O_DIRECTORY);
    if (parent < 0) die_errno("resolve %s in rootfs", resolved[0] ? resolved : "/");
    const char *more = rest + strspn(rest, "/");
    if (!*more && !last_is_dir) {
      int f = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f < 0 && errno != EEXIST) die_errno("create %s in rootfs", candidate);
      if (f >= 0) close(f);
    } else if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) {
      die_errno("mkdir %s in rootfs", candidate);
    }
    close(parent);
    /* were it swapped for a symlink meanwhile, RESOLVE_IN_ROOT still keeps it inside */
    strcpy(resolved, candidate);
  }
  fd = open_in_root(resolved, O_PATH);
  if (fd < 0) die_errno("resolve %s in rootfs", path);
  return fd;
}

static void fd_path(int fd, char *out, size_t n) { snprintf(out, n, "/proc/self/fd/%d", fd); }

/* A bind remount must keep the flags the kernel locked (nosuid/nodev/noexec in a user namespace). */
static void remount_bind(const char *target, unsigned long flags, const char *what) {
  if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0) return;
  if (errno != EPERM) die_errno("remount %s", what);
  struct statvfs sv;
  if (statvfs(target, &sv) < 0) die_errno("statvfs %s", what);
  unsigned long locked = 0;
  if (sv.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) locked |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags | locked, NULL) < 0) die_errno("remount %s", what);
}

static void make_symlink(const struct mount_step *m) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", m->dest);
  char *slash = strrchr(buf, '/');
  const char *name = slash ? slash + 1 : buf;
  if (slash) *slash = 0;
  int parent = ensure_in_root(slash && buf[0] ? buf : "/", 1);
  if (symlinkat(m->symlink, parent, name) < 0 && errno != EEXIST) die_errno("symlink %s -> %s", m->dest, m->symlink);
  close(parent);
}

/* tmpcopyup: copy what the tmpfs now hides into it, with owners, modes and times. */
static void copy_tree(int from, int to, const char *dest) {
  int dirfd = dup(from);
  if (dirfd < 0) die_errno("tmpcopyup %s: dup", dest);
  DIR *dir = fdopendir(dirfd);
  if (!dir) die_errno("tmpcopyup %s: read directory", dest);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) die_errno("tmpcopyup %s: stat %s", dest, name);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(to, name, 0700) < 0) die_errno("tmpcopyup %s: mkdir %s", dest, name);
      int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub_from < 0 || sub_to < 0) die_errno("tmpcopyup %s: open %s", dest, name);
      copy_tree(sub_from, sub_to, dest);
      close(sub_from);
      close(sub_to);
    } else if (S_ISREG(st.st_mode)) {
      int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (in < 0) die_errno("tmpcopyup %s: open %s", dest, name);
      int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0) die_errno("tmpcopyup %s: create %s", dest, name);
      char buf[65536];
      ssize_t n;
      while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
          if (errno == EINTR) continue;
          die_errno("tmpcopyup %s: read %s", dest, name);
        }
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(out, buf + off, (size_t)(n - off));
          if (w < 0) {
            if (errno == EINTR) continue;
            die_errno("tmpcopyup %s: write %s", dest, name);
          }
          off += w;
        }
      }
      close(in);
      close(out);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t len = readlinkat(from, name, target, sizeof target - 1);
      if (len < 0) die_errno("tmpcopyup %s: readlink %s", dest, name);
      target[len] = 0;
      if (symlinkat(target, to, name) < 0) die_errno("tmpcopyup %s: symlink %s", dest, name);
    } else if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) {
      die_errno("tmpcopyup %s: mknod %s", dest, name);
    }
    /* owner before mode: chown clears the set-id bits */
    if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("tmpcopyup %s: chown %s", dest, name);
    if (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0) die_errno("tmpcopyup %s: chmod %s", dest, name);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(to, name, times, AT_SYMLINK_NOFOLLOW) < 0) die_errno("tmpcopyup %s: times of %s", dest, name);
  }
  closedir(dir);
}

static void mount_one(const struct mount_step *m) {
  char target[64];
  if (m->symlink) {
    make_symlink(m);
    return;
  }
  int is_dir = 1;
  if (m->bind) {
    struct stat st;
    if (stat(m->source, &st) < 0) die_errno("bind mount source %s", m->source);
    is_dir = S_ISDIR(st.st_mode);
  }
  int fd = ensure_in_root(m->dest, is_dir);
  if (m->mkdir_only) {
    close(fd);
    return;
  }
  fd_path(fd, target, sizeof target);
  int copyup = m->tmpcopyup && !m->bind && m->type && strcmp(m->type, "tmpfs") == 0;
  int lower = -1;
  if (copyup) {
    lower = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lower < 0) die_errno("tmpcopyup: open %s", m->dest);
  }
  /* a read-only tmpfs to copy into is first mounted writable */
  unsigned long flags = copyup ? m->flags & ~(unsigned long)MS_RDONLY : m->flags;
  if (m->bind && m->idmap) {
    if (syscall(SYS_move_mount, m->tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      die_errno("attach the id-mapped mount of %s on %s", m->source, m->dest);
    close(m->tree_fd);
  } else if (m->bind) {
    if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
      die_errno("bind mount %s on %s", m->source, m->dest);
  } else if (mount(m->source ? m->source : m->type, target, m->type, flags, m->data) < 0) {
    die_errno("mount %s (%s) on %s", m->source ? m->source : "none", m->type ? m->type : "?", m->dest);
  }
  close(fd);
  if (copyup) {
    int upper = open_in_root(m->dest, O_RDONLY | O_DIRECTORY);
    if (upper < 0) die_errno("tmpcopyup: reopen %s", m->dest);
    copy_tree(lower, upper, m->dest);
    close(lower);
    if (flags != m->flags) {
      fd_path(upper, target, sizeof target);
      if (mount(NULL, target, NULL, MS_REMOUNT | m->flags, m->data) < 0) die_errno("remount %s read-only", m->dest);
    }
    close(upper);
  }
  if (!m->remount_flags && !m->npropagation && !m->attr_set && !m->attr_clr) return;
  /* Reopen: the old fd names the directory under the new mount, not the mount itself. */
  fd = open_in_root(m->dest, O_PATH);
  if (fd < 0) die_errno("reopen %s after mount", m->dest);
  fd_path(fd, target, sizeof target);
  if (m->remount_flags) remount_bind(target, m->remount_flags, m->dest);
  for (int i = 0; i < m->npropagation; i++)
    if (mount(NULL, target, NULL, m->propagation[i], NULL) < 0) die_errno("set propagation of %s", m->dest);
  if (m->attr_set || m->attr_clr) {
    struct mount_attr_arg attr = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      die_errno("mount_setattr on %s", m->dest);
  }
  close(fd);
}

static void make_device(const struct device_node *d) {
  char target[64];
  int is_dir_parent = 1;
  (void)is_dir_parent;
  if (d->bind) {
    int fd = ensure_in_root(d->path, 0);
    fd_path(fd, target, sizeof target);
    if (mount(d->path, target, NULL, MS_BIND, NULL) < 0) die_errno("bind device %s", d->path);
    close(fd);
    return;
  }
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", d->path);
  char *slash = strrchr(buf, '/');
  const char *name = slash + 1;
  *slash = 0;
  int parent = ensure_in_root(buf[0] ? buf : "/", 1);
  unlinkat(parent, name, 0); /* a device path is always ours to (re)create */
  if (mknodat(parent, name, d->type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
    die_errno("mknod %s", d->path);
  if (fchownat(parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("chown %s", d->path);
  /* mknod obeys the umask; the config's mode is what the container must see */
  int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    fd_path(fd, target, sizeof target);
    chmod(target, d->mode & 07777);
    close(fd);
  }
  close(parent);
}

static void dev_symlinks(void) {
  static const char *links[][2] = {{"/proc/self/fd", "fd"},          {"/proc/self/fd/0", "stdin"},
                                   {"/proc/self/fd/1", "stdout"},    {"/proc/self/fd/2", "stderr"},
                                   {"pts/ptmx", "ptmx"},             {"/proc/kcore", "core"}};
  int dev = ensure_in_root("/dev", 1);
  int devdir = openat(dev, ".", O_DIRECTORY | O_CLOEXEC);
  if (devdir < 0) die_errno("open /dev in rootfs");
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (strcmp(links[i][1], "ptmx") == 0) unlinkat(devdir, "ptmx", 0);
    /* as runc: no dangling /dev/core on kernels built without CONFIG_PROC_KCORE */
    if (strcmp(links[i][1], "core") == 0 && access("/proc/kcore", F_OK) < 0) continue;
    if (symlinkat(links[i][0], devdir, links[i][1]) < 0 && errno != EEXIST) die_errno("symlink /dev/%s", links[i][1]);
  }
  close(devdir);
  close(dev);
}

/* The nearest mount point at or above path: MS_PRIVATE fails with EINVAL on a plain directory. */
static void make_parent_mount_private(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (;;) {
    if (mount(NULL, buf, NULL, MS_PRIVATE, NULL) == 0) return;
    if (errno != EINVAL) die_errno("make the mount holding %s private", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) {
      if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0) die_errno("make / private");
      return;
    }
    *slash = 0;
  }
}

void rootfs_prepare(const struct init_plan *p) {
  if (!p->rootfs) die("plan has no rootfs");
  if (p->clone_flags & CLONE_NEWNS) {
    if (mount(NULL, "/", NULL, p->rootfs_propagation ? p->rootfs_propagation : (MS_REC | MS_SLAVE), NULL) < 0)
      die_errno("set propagation of /");
    /* pivot_root refuses a new root whose parent mount is shared, and an unbindable one cannot
     * be bound at all: the mount holding the rootfs goes private (in this namespace only) and
     * "/" gets the configured propagation back after the pivot. */
    if (p->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE)) make_parent_mount_private(p->rootfs);
    /* pivot_root needs the new root to be a mount point */
    if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind rootfs %s", p->rootfs);
  }
  g_rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_rootfd < 0) die_errno("open rootfs %s", p->rootfs);
  for (int i = 0; i < p->nmounts; i++) mount_one(&p->mounts[i]);
  for (int i = 0; i < p->ndevices; i++) make_device(&p->devices[i]);
  if (p->dev_defaults) dev_symlinks();
}

void rootfs_enter(const struct init_plan *p) {
  if (!(p->clone_flags & CLONE_NEWNS)) {
    if (chroot(p->rootfs) < 0) die_errno("chroot %s", p->rootfs);
    if (chdir("/") < 0) die_errno("chdir /");
    return;
  }
  if (p->no_pivot) {
    if (chdir(p->rootfs) < 0) die_errno("chdir %s", p->rootfs);
    if (mount(p->rootfs, "/", NULL, MS_MOVE, NULL) < 0) die_errno("move rootfs to /");
    if (chroot(".") < 0) die_errno("chroot");
    if (chdir("/") < 0) die_errno("chdir /");
    return;
  }
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) die_errno("open /");
  if (fchdir(g_rootfd) < 0) die_errno("chdir rootfs");
  /* pivot_root(".", ".") stacks the old root under the new one; detach it right away. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root %s", p->rootfs);
  if (fchdir(oldroot) < 0) die_errno("fchdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die_errno("make old root slave");
  if (umount2(".", MNT_DETACH) < 0) die_errno("unmount old root");
  if (chdir("/") < 0) die_errno("chdir /");
  close(oldroot);
}

static void mask_path(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    if (errno == ENOENT) return;
    die_errno("masked path %s", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0) die_errno("mask %s", path);
  } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0 && errno != ENOENT) {
    die_errno("mask %s", path);
  }
}

static void readonly_path(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    die_errno("bind readonly path %s", path);
  }
  remount_bind(path, MS_RDONLY | MS_REC, path);
}

static void write_sysctl(const char *key, const char *value) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", key);
  for (char *c = path + 10; c < path + n; c++)
    if (*c == '.') *c = '/';
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("sysctl %s", key);
  if (write(fd, value, strlen(value)) < 0) die_errno("sysctl %s=%s", key, value);
  close(fd);
}

void rootfs_finish(const struct init_plan *p) {
  /* Only "/" itself: the container's own mounts keep the propagation their options gave them. */
  if ((p->clone_flags & CLONE_NEWNS) && p->rootfs_propagation && mount(NULL, "/", NULL, p->rootfs_propagation & ~(unsigned long)MS_REC, NULL) < 0)
    die_errno("set propagation of the container's /");
  for (int i = 0; i < p->nsysctl; i++) write_sysctl(p->sysctl_keys[i], p->sysctl_values[i]);
  for (int i = 0; i < p->nreadonly; i++) readonly_path(p->readonly_paths[i]);
  for (int i = 0; i < p->nmasked; i++) mask_path(p->masked[i]);
  if (p->readonly_root && (p->clone_flags & CLONE_NEWNS)) remount_bind("/", MS_RDONLY, "/ read-only");
  if (g_rootfd >= 0) close(g_rootfd);
}
