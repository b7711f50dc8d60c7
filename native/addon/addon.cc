// The parent-side native seam: the few system calls Node cannot make itself.
#include <napi.h>
#include <sys/file.h>
#include <errno.h>
#include <string.h>

static Napi::Error ErrnoError(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

// flock(fd, op): op is LOCK_EX/LOCK_SH/LOCK_UN, optionally | LOCK_NB.
static Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Number>().Int32Value();
  int rc;
  do { rc = flock(fd, op); } while (rc < 0 && errno == EINTR);
  if (rc < 0) { ErrnoError(env, "flock", errno).ThrowAsJavaScriptException(); return env.Undefined(); }
  return env.Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  return exports;
}

NODE_API_MODULE(tsrun_native, Init)
