// Waiting for the processes tsrun starts, passing signals on while it waits, and ending tsrun.
#include "addon.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

// Ends the process at once. Node's own exit tears down V8's platform and runs C++ destructors,
// ~5% of a short command here, for nothing: tsrun writes its output synchronously.
static Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(IntArg(info, 0));
}

void RegisterProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("waitpid", Napi::Function::New(env, Waitpid));
  exports.Set("waitpidAsync", Napi::Function::New(env, WaitpidAsync));
  exports.Set("waitForwarding", Napi::Function::New(env, WaitForwarding));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
}
