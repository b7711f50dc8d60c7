// Id-mapped mounts: a user namespace holding the maps, and a detached, id-mapped copy of a mount.
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define IDMAP_ATTR 0x00100000 /* MOUNT_ATTR_IDMAP */

static int WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t w = write(fd, text.data(), text.size());
  int saved = errno;
  close(fd);
  errno = saved;
  return w == (ssize_t)text.size() ? 0 : -1;
}

// makeUserns(uidMap, gidMap) -> fd of a fresh user namespace with these maps ("inside outside
// count" lines), for MOUNT_ATTR_IDMAP. The init cannot make it: inside the container's user
// namespace it may not map arbitrary host ids. A child is created in the namespace and only
// waits on a pipe while the maps are written and the namespace is opened; it then exits.
static Napi::Value MakeUserns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uidMap = info[0].As<Napi::String>();
  std::string gidMap = info[1].As<Napi::String>();
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) THROW_ERRNO(env, "pipe", errno);
  // a raw clone: fork handlers must not run in a copy of a threaded Node
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    char c;
    syscall(SYS_close, hold[1]);
    while (syscall(SYS_read, hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    syscall(SYS_exit_group, 0);
  }
  int err = errno;
  close(hold[0]);
  if (pid < 0) {
    close(hold[1]);
    THROW_ERRNO(env, "create a user namespace for an id-mapped mount", err);
  }
  std::string proc = "/proc/" + std::to_string(pid) + "/";
  std::string what;
  int nsfd = -1;
  if (!uidMap.empty() && WriteProcFile(proc + "uid_map", uidMap) < 0) what = "write uid_map of the id-mapping user namespace";
  else if (!gidMap.empty() && WriteProcFile(proc + "gid_map", gidMap) < 0) what = "write gid_map of the id-mapping user namespace";
  else if ((nsfd = open((proc + "ns/user").c_str(), O_RDONLY | O_CLOEXEC)) < 0) what = "open the id-mapping user namespace";
  err = errno;
  close(hold[1]); // the child's read returns 0 and it exits
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (nsfd < 0) THROW_ERRNO(env, what, err);
  return Napi::Number::New(env, nsfd);
}

// idmappedTree(source, usernsFd, cloneSubmounts, mapSubmounts) -> fd of a detached copy of the
// mount at source (with its submounts for rbind) id-mapped through the user namespace (its
// submounts too for ridmap). Made here, as host root: only a process privileged over the
// filesystem's own user namespace may id-map it. The init attaches it with move_mount.
static Napi::Value IdmappedTree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>();
  int userns = IntArg(info, 1);
  bool cloneSubmounts = info[2].ToBoolean();
  bool mapSubmounts = info[3].ToBoolean();
  unsigned int flags = OPEN_TREE_CLONE | O_CLOEXEC | (cloneSubmounts ? AT_RECURSIVE : 0);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source.c_str(), flags);
  if (tree < 0) THROW_ERRNO(env, "open_tree " + source, errno);
  struct {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
  } attr = {IDMAP_ATTR, 0, 0, (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (mapSubmounts ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
    int err = errno;
    close(tree);
    std::string hint = err == EINVAL ? " (does its filesystem support id-mapped mounts?)" : "";
    Napi::Error e = Napi::Error::New(env, "id-map " + source + ": " + strerror(err) + hint);
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, tree);
}

void RegisterIdmap(Napi::Env env, Napi::Object exports) {
  exports.Set("makeUserns", Napi::Function::New(env, MakeUserns));
  exports.Set("idmappedTree", Napi::Function::New(env, IdmappedTree));
}
