// The cgroup v2 device controller's kernel side: load a BPF_PROG_TYPE_CGROUP_DEVICE program
// (generated in TypeScript, src/cgroups/device-filter.ts) and attach it to a cgroup directory
// in place of whatever device programs were attached there before.
#include "addon.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

static long SysBpf(int cmd, union bpf_attr* attr) {
  long rc;
  do rc = syscall(__NR_bpf, cmd, attr, sizeof *attr);
  while (rc < 0 && errno == EINTR);
  return rc;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Ids of the device programs attached directly to the cgroup (not inherited ones).
static int QueryDevicePrograms(int dirfd, std::vector<uint32_t>* ids) {
  uint32_t room = 64;
  for (int tries = 0; tries < 10; tries++) {
    ids->assign(room, 0);
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)dirfd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids->data();
    attr.query.prog_cnt = room;
    if (SysBpf(BPF_PROG_QUERY, &attr) == 0) {
      ids->resize(attr.query.prog_cnt);
      return 0;
    }
    // ENOSPC: more programs than room; prog_cnt now says how many.
    if (errno != ENOSPC) return -1;
    room = attr.query.prog_cnt;
  }
  errno = EAGAIN;
  return -1;
}

static int LoadProgram(const Napi::Buffer<uint8_t>& insns, const std::string& license, char* log, uint32_t logSize) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns.Data();
  attr.insn_cnt = (uint32_t)(insns.Length() / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t)license.c_str();
  strncpy(attr.prog_name, "tsrun_devices", sizeof attr.prog_name - 1);
  if (log) {
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = logSize;
    attr.log_level = 1;
  }
  return (int)SysBpf(BPF_PROG_LOAD, &attr);
}

// Kernels before 5.11 charge BPF programs to RLIMIT_MEMLOCK, often 64 KiB. The limit is
// raised only for the load and put back, so the container (spawned later) never inherits it.
static int LoadWithMemlock(const Napi::Buffer<uint8_t>& insns, const std::string& license) {
  int fd = LoadProgram(insns, license, nullptr, 0);
  if (fd >= 0 || errno != EPERM) return fd;
  struct rlimit old, unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  if (getrlimit(RLIMIT_MEMLOCK, &old) < 0 || setrlimit(RLIMIT_MEMLOCK, &unlimited) < 0) {
    errno = EPERM;
    return -1;
  }
  fd = LoadProgram(insns, license, nullptr, 0);
  int err = errno;
  setrlimit(RLIMIT_MEMLOCK, &old);
  errno = err;
  return fd;
}

// attachDeviceFilter(cgroupDir, insns: Buffer, license) -> number of programs it replaced.
// The new program is attached (BPF_F_ALLOW_MULTI) before the old ones are detached, so while
// both are attached a device needs both to allow it: never a moment with less restriction.
static Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  std::string license = info[2].As<Napi::String>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    ErrnoError(env, "device filter program", EINVAL).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Fd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0) {
    ErrnoError(env, "open " + dir, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint32_t> old;
  if (QueryDevicePrograms(dirfd.get(), &old) < 0) {
    ErrnoError(env, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE) on " + dir, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Fd prog(LoadWithMemlock(insns, license));
  if (prog.get() < 0) {
    int err = errno;
    std::string what = "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)";
    // Load again with the verifier's log, only to say why.
    if (err == EINVAL || err == EACCES) {
      std::vector<char> log(64 * 1024, 0);
      int again = LoadProgram(insns, license, log.data(), (uint32_t)log.size());
      if (again >= 0) close(again);
      std::string text(log.data());
      while (!text.empty() && text.back() == '\n') text.pop_back();
      if (!text.empty()) what += " (verifier: " + text + ")";
    }
    ErrnoError(env, what, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)dirfd.get();
  attr.attach_bpf_fd = (uint32_t)prog.get();
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (SysBpf(BPF_PROG_ATTACH, &attr) < 0) {
    ErrnoError(env, "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) on " + dir, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  uint32_t replaced = 0;
  for (uint32_t id : old) {
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    Fd oldProg((int)SysBpf(BPF_PROG_GET_FD_BY_ID, &attr));
    if (oldProg.get() < 0) {
      // Gone meanwhile, or one an LSM keeps from us: it can only restrict further.
      if (errno == ENOENT || errno == EPERM || errno == EACCES) continue;
      ErrnoError(env, "bpf(BPF_PROG_GET_FD_BY_ID) for the old device filter of " + dir, errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)dirfd.get();
    attr.attach_bpf_fd = (uint32_t)oldProg.get();
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (SysBpf(BPF_PROG_DETACH, &attr) < 0) {
      if (errno == ENOENT) continue;
      ErrnoError(env, "bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) of the old device filter of " + dir, errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    replaced++;
  }
  return Napi::Number::New(env, replaced);
}

// deviceFilterIds(cgroupDir) -> ids of the device programs attached to it.
static Napi::Value DeviceFilterIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Fd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0) {
    ErrnoError(env, "open " + dir, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint32_t> ids;
  if (QueryDevicePrograms(dirfd.get(), &ids) < 0) {
    ErrnoError(env, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE) on " + dir, errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set((uint32_t)i, Napi::Number::New(env, ids[i]));
  return out;
}

void RegisterDeviceFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("deviceFilterIds", Napi::Function::New(env, DeviceFilterIds));
}
