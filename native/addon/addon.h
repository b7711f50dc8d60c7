// What the addon's source files share: errors that carry errno, and argument access.
#pragma once

#include <napi.h>

#include <string.h>

#include <string>

inline Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

#define THROW_ERRNO(env, what, err)                          \
  do {                                                       \
    ErrnoError(env, what, err).ThrowAsJavaScriptException(); \
    return env.Undefined();                                  \
  } while (0)

inline int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// Each source file adds its functions to the module's exports.
void RegisterProcess(Napi::Env env, Napi::Object exports);     // process.cc
void RegisterIdmap(Napi::Env env, Napi::Object exports);       // idmap.cc
void RegisterDeviceFilter(Napi::Env env, Napi::Object exports);  // bpf.cc
