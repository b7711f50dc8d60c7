// The parent-side native seam: the few system calls Node cannot make itself. Container work
// (namespaces, mounts, pivot_root) is never done here; it belongs to the init helper.
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

extern "C" {
#include "../init/wire.h"
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

#define THROW_ERRNO(env, what, err)                      \
  do {                                                   \
    ErrnoError(env, what, err).ThrowAsJavaScriptException(); \
    return env.Undefined();                              \
  } while (0)

static int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

static Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc;
  do rc = flock(IntArg(info, 0), IntArg(info, 1));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) THROW_ERRNO(env, "flock", errno);
  return env.Undefined();
}

// Waits up to timeoutMs for fd to become readable (data, or end of file when no writer is left);
// true when it did. Lets `start` sleep exactly until the init answers instead of polling.
static Napi::Value PollReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct pollfd p = {IntArg(info, 0), POLLIN, 0};
  int rc = poll(&p, 1, IntArg(info, 1));
  if (rc < 0 && errno != EINTR) THROW_ERRNO(env, "poll", errno);
  return Napi::Boolean::New(env, rc > 0);
}

// Ends the process at once. Node's own exit tears down V8's platform and runs C++ destructors,
// ~5% of a short command here, for nothing: tsrun writes its output synchronously.
static Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(IntArg(info, 0));
}

static Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  if (mkfifo(path.c_str(), (mode_t)IntArg(info, 1)) < 0) THROW_ERRNO(env, "mkfifo " + path, errno);
  return env.Undefined();
}

// A sealed, read-only in-memory copy of the init helper: the container can reach its init's
// /proc/<pid>/exe, and writing through it must never reach a file on the host.
static int SealedCopy(const std::string& path, std::string* err) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    *err = "open " + path + ": " + strerror(errno);
    return -1;
  }
  struct stat st;
  int fd = (int)syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || fstat(src, &st) < 0) {
    *err = std::string("memfd_create: ") + strerror(errno);
    close(src);
    return -1;
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) {
      *err = std::string("copy init helper: ") + strerror(n < 0 ? errno : EIO);
      close(src);
      close(fd);
      return -1;
    }
  }
  close(src);
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    *err = std::string("seal init helper copy: ") + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

// spawnInit(helperPath, preserveFds) -> { pid, sock }
// The helper gets its end of the socketpair at fd 3+preserveFds; every other fd above the
// preserved ones is closed before exec, so no runtime fd can reach the container.
static Napi::Value SpawnInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string helper = info[0].As<Napi::String>();
  int preserve = IntArg(info, 1);
  std::string err;
  int exe = SealedCopy(helper, &err);
  if (exe < 0) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    close(exe);
    THROW_ERRNO(env, "socketpair", errno);
  }
  int target = 3 + preserve;
  std::string fdarg = std::to_string(target);
  char* argv[] = {(char*)"tsrun-init", (char*)fdarg.c_str(), nullptr};
  char* envp[] = {nullptr};

  // vfork: no page-table copy of the Node heap; the child only makes async-signal-safe calls.
  pid_t pid = vfork();
  if (pid == 0) {
    // Locals only: the child shares this stack frame with the suspended parent.
    int sock = sv[1];
    int child_exe = exe;
    if (child_exe == target) child_exe = fcntl(child_exe, F_DUPFD_CLOEXEC, target + 2);
    if (sock != target) {
      if (dup2(sock, target) < 0) _exit(126);
    } else {
      fcntl(target, F_SETFD, 0);
    }
    if (child_exe != target + 1 && dup3(child_exe, target + 1, O_CLOEXEC) < 0) _exit(126);
    // Node marks its stdio close-on-exec; the container must inherit stdio and preserved fds.
    for (int fd = 0; fd < target; fd++) fcntl(fd, F_SETFD, 0);
    syscall(SYS_close_range, target + 2, ~0U, 0);
    syscall(SYS_execveat, target + 1, "", argv, envp, AT_EMPTY_PATH);
    _exit(127);
  }
  int saved = errno;
  close(sv[1]);
  close(exe);
  if (pid < 0) {
    close(sv[0]);
    THROW_ERRNO(env, "vfork", saved);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("sock", Napi::Number::New(env, sv[0]));
  return out;
}

// sendMsg(sock, type, payload: Buffer, fds: number[])
static Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = IntArg(info, 0);
  uint32_t type = (uint32_t)IntArg(info, 1);
  Napi::Buffer<char> buf = info[2].As<Napi::Buffer<char>>();
  int fds[MAX_MSG_FDS];
  int nfds = 0;
  if (info.Length() > 3 && info[3].IsArray()) {
    Napi::Array arr = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length() && nfds < MAX_MSG_FDS; i++) fds[nfds++] = arr.Get(i).As<Napi::Number>().Int32Value();
  }
  if (wire_send(sock, type, buf.Data(), (uint32_t)buf.Length(), fds, nfds) < 0) THROW_ERRNO(env, "send to init", errno);
  return env.Undefined();
}

// recvMsg(sock) -> { type, payload: Buffer, fds: number[] } | null on EOF
static Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct msg m;
  memset(&m, 0, sizeof m);
  if (wire_recv(IntArg(info, 0), &m) < 0) {
    int err = errno;
    free(m.data);
    if (err == 0) return env.Null();
    THROW_ERRNO(env, "receive from init", err);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", Napi::Number::New(env, m.type));
  out.Set("payload", Napi::Buffer<char>::Copy(env, m.data, m.len));
  Napi::Array fds = Napi::Array::New(env, m.nfds);
  for (int i = 0; i < m.nfds; i++) fds.Set(i, Napi::Number::New(env, m.fds[i]));
  out.Set("fds", fds);
  free(m.data);
  return out;
}

static Napi::Object WaitResult(Napi::Env env, pid_t pid, int status) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  if (pid > 0) {
    if (WIFEXITED(status)) out.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(status)));
    if (WIFSIGNALED(status)) out.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  }
  return out;
}

// waitpid(pid, nohang) -> { pid, exitCode?, signal? }
static Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int status = 0;
  int flags = info.Length() > 1 && info[1].ToBoolean() ? WNOHANG : 0;
  pid_t r;
  do r = waitpid(IntArg(info, 0), &status, flags);
  while (r < 0 && errno == EINTR);
  if (r < 0) THROW_ERRNO(env, "waitpid", errno);
  return WaitResult(env, r, status);
}

// The process the foreground wait forwards signals to; read by the signal handler.
static volatile sig_atomic_t g_forward_to = 0;

static void ForwardSignal(int sig) {
  int saved = errno;
  if (g_forward_to > 0) kill((pid_t)g_forward_to, sig);
  errno = saved;
}

// waitForwarding(pid, signals) -> { pid, exitCode?, signal? }: waits for the child on this
// thread while the listed signals, whichever thread they land on, are passed on to it. No
// worker thread and no event loop: for `run` and `exec` without a terminal to relay.
static Napi::Value WaitForwarding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0);
  Napi::Array list = info[1].As<Napi::Array>();
  const uint32_t n = list.Length();
  int sigs[64];
  struct sigaction previous[64];
  if (n > 64) THROW_ERRNO(env, "waitForwarding: too many signals", EINVAL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ForwardSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  g_forward_to = pid;
  for (uint32_t i = 0; i < n; i++) {
    sigs[i] = list.Get(i).As<Napi::Number>().Int32Value();
    sigaction(sigs[i], &sa, &previous[i]);
  }
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  int err = errno;
  for (uint32_t i = 0; i < n; i++) sigaction(sigs[i], &previous[i], NULL);
  g_forward_to = 0;
  if (r < 0) THROW_ERRNO(env, "waitpid", err);
  return WaitResult(env, r, status);
}

// Waits on a worker thread so the event loop keeps delivering signals to forward.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    pid_t r;
    do r = waitpid(pid_, &status_, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) err_ = errno;
    got_ = r;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (err_) deferred_.Reject(ErrnoError(env, "waitpid", err_).Value());
    else deferred_.Resolve(WaitResult(env, got_, status_));
  }

 private:
  pid_t pid_, got_ = 0;
  int status_ = 0, err_ = 0;
  Napi::Promise::Deferred deferred_;
};

static Napi::Value WaitpidAsync(const Napi::CallbackInfo& info) {
  auto* w = new WaitWorker(info.Env(), IntArg(info, 0));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

static Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) THROW_ERRNO(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return env.Undefined();
}

// connectUnix(path) -> fd: the console socket, whose fd is handed to the init.
static Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) THROW_ERRNO(env, "connect " + path, ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) THROW_ERRNO(env, "socket", errno);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0) {
    int err = errno;
    close(fd);
    THROW_ERRNO(env, "connect " + path, err);
  }
  return Napi::Number::New(env, fd);
}

// setWinsize(fd, rows, cols): resize a pty (the foreground relay follows tsrun's own terminal).
static Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)IntArg(info, 1);
  ws.ws_col = (unsigned short)IntArg(info, 2);
  if (ioctl(IntArg(info, 0), TIOCSWINSZ, &ws) < 0) THROW_ERRNO(env, "TIOCSWINSZ", errno);
  return env.Undefined();
}

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

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(IntArg(info, 0));
  return info.Env().Undefined();
}

// native/addon/bpf.cc
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info);
Napi::Value DeviceFilterIds(const Napi::CallbackInfo& info);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("pollReadable", Napi::Function::New(env, PollReadable));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid));
  exports.Set("waitpidAsync", Napi::Function::New(env, WaitpidAsync));
  exports.Set("waitForwarding", Napi::Function::New(env, WaitForwarding));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("close", Napi::Function::New(env, CloseFd));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("deviceFilterIds", Napi::Function::New(env, DeviceFilterIds));
  exports.Set("makeUserns", Napi::Function::New(env, MakeUserns));
  exports.Set("idmappedTree", Napi::Function::New(env, IdmappedTree));
  return exports;
}

NODE_API_MODULE(tsrun_native, Init)
