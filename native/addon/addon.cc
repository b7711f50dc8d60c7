// The parent-side native seam: the few system calls Node cannot make itself. Container work
// (namespaces, mounts, pivot_root) is never done here; it belongs to the init helper. This file:
// starting the init and speaking its protocol, and small fd operations; process.cc: waiting and
// signals; idmap.cc: id-mapped mounts; bpf.cc: the cgroup v2 device filter.
#include "addon.h"

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

static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(IntArg(info, 0));
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("pollReadable", Napi::Function::New(env, PollReadable));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("close", Napi::Function::New(env, CloseFd));
  RegisterProcess(env, exports);
  RegisterIdmap(env, exports);
  RegisterDeviceFilter(env, exports);
  return exports;
}

NODE_API_MODULE(tsrun_native, Init)
