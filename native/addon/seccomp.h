// Seccomp compilation (seccomp.cc), registered on the addon's exports by addon.cc.
#ifndef TSRUN_ADDON_SECCOMP_H
#define TSRUN_ADDON_SECCOMP_H
#include <napi.h>

#include <string>

void RegisterSeccomp(Napi::Env env, Napi::Object exports);
std::string SeccompVersionString();

#endif
