// Seccomp profiles to classic BPF, compiled in the parent with libseccomp. The init only installs
// the bytes it is given, so it needs neither libseccomp nor any parsing after the start handshake.
// A module of its own (tsrun_seccomp.node): commands that only need the main addon (start, kill,
// delete take its flock) do not pay for loading libseccomp.
#include <napi.h>

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>


#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif

static std::string SeccompVersionString() {
  const scmp_version* v = seccomp_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

namespace {

// Filter flags tsrun knows, by the OCI name; the kernel value is what seccomp(2) takes.
struct FlagName {
  const char* name;
  uint32_t bit;
};
const FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 1u << 0},
    {"SECCOMP_FILTER_FLAG_LOG", 1u << 1},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1u << 2},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1u << 5},
};
const uint32_t kNewListener = 1u << 3;
const uint32_t kWaitKillableRecv = 1u << 5;

// A flag is supported when seccomp(2) gets past its flag checks and fails on the NULL program
// (EFAULT) instead of rejecting the flag (EINVAL). Nothing is installed either way.
bool KernelHasFlag(uint32_t bit) {
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, bit, nullptr) < 0 && errno == EFAULT;
}

// ---------------------------------------------------------------------------------------------
// The ENOSYS prologue. A profile lists the syscalls its author knew; a syscall numbered above all
// of them is newer than the profile, and a libc that gets ENOSYS for it falls back to an older
// call, where the profile's default errno (usually EPERM) would make it fail. The prologue sends
// such numbers to ENOSYS and everything else on to libseccomp's program unchanged.

// A tiny assembler with forward labels; conditional jumps are 8-bit, which the prologue never
// exceeds (a handful of instructions per architecture).
class Prologue {
 public:
  int Label() {
    at_.push_back(-1);
    return (int)at_.size() - 1;
  }
  void Bind(int label) { at_[label] = (long)code_.size(); }
  void LoadWord(uint32_t offset) { Emit(BPF_LD | BPF_W | BPF_ABS, offset, -1, -1); }
  // if (A <op> k) goto yes else goto no; -1 = the next instruction
  void Jump(uint16_t op, uint32_t k, int yes, int no) { Emit(BPF_JMP | op | BPF_K, k, yes, no); }
  void Always(int label) {
    fixups_.push_back({code_.size(), label, kAlways});
    code_.push_back(BPF_STMT(BPF_JMP | BPF_JA, 0));
  }
  void Return(uint32_t k) { code_.push_back(BPF_STMT(BPF_RET | BPF_K, k)); }

  bool Finish(std::vector<sock_filter>* out) {
    for (const Fixup& f : fixups_) {
      long dist = at_[f.label] - (long)f.insn - 1;
      if (dist < 0 || (f.which != kAlways && dist > 255)) return false;
      if (f.which == kTrue) code_[f.insn].jt = (uint8_t)dist;
      else if (f.which == kFalse) code_[f.insn].jf = (uint8_t)dist;
      else code_[f.insn].k = (uint32_t)dist;
    }
    *out = code_;
    return true;
  }

 private:
  enum Which { kTrue, kFalse, kAlways };
  struct Fixup {
    size_t insn;
    int label;
    Which which;
  };
  void Emit(uint16_t code, uint32_t k, int yes, int no) {
    if (yes >= 0) fixups_.push_back({code_.size(), yes, kTrue});
    if (no >= 0) fixups_.push_back({code_.size(), no, kFalse});
    code_.push_back(BPF_JUMP(code, k, 0, 0));
  }
  std::vector<sock_filter> code_;
  std::vector<long> at_;
  std::vector<Fixup> fixups_;
};

const uint32_t kX32Bit = 0x40000000;     // x32 syscalls share AUDIT_ARCH_X86_64, marked by this bit
const uint32_t kArmPrivate = 0x0f0000;   // ARM's own calls (cacheflush, set_tls) sit above the table
const uint32_t kEnosys = SCMP_ACT_ERRNO(ENOSYS);

// Highest syscall number per audit arch and x32 mode; absent = the profile names none there.
struct ArchLimits {
  std::map<uint32_t, uint32_t> plain, x32;
};

ArchLimits HighestSyscalls(const std::vector<uint32_t>& archs, const std::vector<std::string>& names) {
  ArchLimits limits;
  for (uint32_t arch : archs) {
    bool x32 = arch == SCMP_ARCH_X32;
    uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : arch;
    for (const std::string& name : names) {
      int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
      if (nr < 0) continue;  // unknown here, or a libseccomp pseudo number (multiplexed call)
      if (audit == AUDIT_ARCH_ARM && (uint32_t)nr >= kArmPrivate) continue;
      auto& table = x32 ? limits.x32 : limits.plain;
      auto it = table.find(audit);
      if (it == table.end() || it->second < (uint32_t)nr) table[audit] = (uint32_t)nr;
    }
  }
  return limits;
}

bool EnosysPrologue(const std::vector<uint32_t>& archs, const std::vector<std::string>& names,
                    std::vector<sock_filter>* out) {
  ArchLimits limits = HighestSyscalls(archs, names);
  std::set<uint32_t> audits;
  for (auto& e : limits.plain) audits.insert(e.first);
  for (auto& e : limits.x32) audits.insert(e.first);

  Prologue p;
  int enosys = p.Label(), filter = p.Label();
  std::map<uint32_t, int> section;
  p.LoadWord(offsetof(struct seccomp_data, arch));
  for (uint32_t audit : audits) {
    section[audit] = p.Label();
    p.Jump(BPF_JEQ, audit, section[audit], -1);
  }
  p.Always(filter);  // an arch the profile does not cover: libseccomp's bad-arch action decides

  auto bound = [&](const std::map<uint32_t, uint32_t>& table, uint32_t audit) {
    auto it = table.find(audit);
    if (it == table.end()) p.Always(filter);
    else p.Jump(BPF_JGT, it->second, enosys, filter);
  };
  for (uint32_t audit : audits) {
    p.Bind(section[audit]);
    p.LoadWord(offsetof(struct seccomp_data, nr));
    if (audit == AUDIT_ARCH_S390 || audit == AUDIT_ARCH_S390X) {
      // s390 passes a syscall number it does not know as 0 (the old multiplexer, setup(2)).
      p.Jump(BPF_JEQ, 0, enosys, -1);
    }
    if (audit == AUDIT_ARCH_X86_64) {
      int x32 = p.Label();
      p.Jump(BPF_JSET, kX32Bit, x32, -1);
      bound(limits.plain, audit);
      p.Bind(x32);
      bound(limits.x32, audit);
    } else {
      if (audit == AUDIT_ARCH_ARM) p.Jump(BPF_JGE, kArmPrivate, filter, -1);
      bound(limits.plain, audit);
    }
  }
  p.Bind(enosys);
  p.Return(kEnosys);
  p.Bind(filter);
  return p.Finish(out);
}

// ---------------------------------------------------------------------------------------------

struct Context {
  scmp_filter_ctx ctx = nullptr;
  ~Context() {
    if (ctx) seccomp_release(ctx);
  }
};

Napi::Value Fail(Napi::Env env, const std::string& message, int rule = -1, int arch = -1) {
  Napi::Error e = Napi::Error::New(env, message);
  if (rule >= 0) e.Set("ruleIndex", Napi::Number::New(env, rule));
  if (arch >= 0) e.Set("archIndex", Napi::Number::New(env, arch));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

uint64_t U64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return (uint64_t)v.As<Napi::Number>().DoubleValue();
  return 0;
}

uint32_t U32(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

std::vector<std::string> Strings(const Napi::Value& v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>());
  return out;
}

bool ReadAll(int fd, std::string* out) {
  struct stat st;
  if (fstat(fd, &st) < 0) return false;
  out->resize((size_t)st.st_size);
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = pread(fd, &(*out)[got], out->size() - got, (off_t)got);
    if (n <= 0) return false;
    got += (size_t)n;
  }
  return true;
}

}  // namespace

// compileSeccomp({ defaultAction, architectures: string[], enosys, rules: [{ names, action,
//   args: [{ index, value, valueTwo, op }] }] }) -> { bpf: Buffer, unknownSyscalls: string[] }
// Actions and operators arrive as libseccomp values (src/plan/seccomp.ts maps the OCI names);
// architectures as libseccomp names ("x86_64"). Errors carry ruleIndex/archIndex for the caller
// to name the JSON path.
static Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object in = info[0].As<Napi::Object>();
  uint32_t defaultAction = U32(in, "defaultAction");

  Context c;
  c.ctx = seccomp_init(defaultAction);
  if (!c.ctx) return Fail(env, "seccomp: invalid default action");
  // tsrun sets no_new_privs itself, from process.noNewPrivileges; the program is only exported.
  seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0);

  std::vector<uint32_t> archs = {seccomp_arch_native()};
  std::vector<std::string> archNames = Strings(in.Get("architectures"));
  for (size_t i = 0; i < archNames.size(); i++) {
    uint32_t token = archNames[i] == "native" ? seccomp_arch_native() : seccomp_arch_resolve_name(archNames[i].c_str());
    if (token == 0) return Fail(env, "architecture not supported by libseccomp " + SeccompVersionString(), -1, (int)i);
    int rc = seccomp_arch_add(c.ctx, token);
    if (rc < 0 && rc != -EEXIST) return Fail(env, "add architecture " + archNames[i] + ": " + strerror(-rc), -1, (int)i);
    if (std::find(archs.begin(), archs.end(), token) == archs.end()) archs.push_back(token);
  }

  Napi::Array rules = in.Get("rules").IsArray() ? in.Get("rules").As<Napi::Array>() : Napi::Array::New(env);
  std::vector<std::string> allNames;
  std::set<std::string> unknown;
  Napi::Array unknownOut = Napi::Array::New(env);
  struct Pending {
    int nr;
    uint32_t action;
    std::vector<scmp_arg_cmp> cmps;
    bool separate;  // several conditions on one argument: one rule each (OR), as runc does
    int rule;
    std::string name;
  };
  std::vector<Pending> pending;
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    uint32_t action = U32(rule, "action");
    std::vector<scmp_arg_cmp> cmps;
    int perIndex[6] = {0};
    bool separate = false;
    Napi::Value argsValue = rule.Get("args");
    if (argsValue.IsArray()) {
      Napi::Array args = argsValue.As<Napi::Array>();
      for (uint32_t j = 0; j < args.Length(); j++) {
        Napi::Object a = args.Get(j).As<Napi::Object>();
        scmp_arg_cmp cmp;
        cmp.arg = U32(a, "index");
        cmp.op = (scmp_compare)U32(a, "op");
        cmp.datum_a = U64(a.Get("value"));
        cmp.datum_b = U64(a.Get("valueTwo"));
        if (cmp.arg > 5) return Fail(env, "argument index must be 0..5", (int)i);
        if (++perIndex[cmp.arg] > 1) separate = true;
        cmps.push_back(cmp);
      }
    }
    for (const std::string& name : Strings(rule.Get("names"))) {
      allNames.push_back(name);
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        if (unknown.insert(name).second) unknownOut.Set(unknownOut.Length(), Napi::String::New(env, name));
        continue;
      }
      if (action == defaultAction) continue;  // libseccomp refuses rules that change nothing
      pending.push_back({nr, action, cmps, separate, (int)i, name});
    }
  }

  // A binary search over syscalls pays off for long lists; libseccomp 2.5 mishandles it with none.
  if (pending.size() > 32) seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  for (const Pending& r : pending) {
    int rc;
    if (r.cmps.empty()) {
      rc = seccomp_rule_add_array(c.ctx, r.action, r.nr, 0, nullptr);
    } else if (r.separate) {
      rc = 0;
      for (const scmp_arg_cmp& cmp : r.cmps)
        if ((rc = seccomp_rule_add_array(c.ctx, r.action, r.nr, 1, &cmp)) < 0) break;
    } else {
      rc = seccomp_rule_add_array(c.ctx, r.action, r.nr, (unsigned)r.cmps.size(), r.cmps.data());
    }
    if (rc < 0) return Fail(env, "add rule for syscall " + r.name + ": " + strerror(-rc), r.rule);
  }

  int mem = (int)syscall(SYS_memfd_create, "tsrun-seccomp", MFD_CLOEXEC);
  if (mem < 0) return Fail(env, std::string("memfd_create: ") + strerror(errno));
  int rc = seccomp_export_bpf(c.ctx, mem);
  std::string program;
  bool read = rc == 0 && ReadAll(mem, &program);
  close(mem);
  if (rc < 0) return Fail(env, std::string("export seccomp program: ") + strerror(-rc));
  if (!read || program.size() % sizeof(sock_filter) != 0) return Fail(env, "export seccomp program: short read");

  std::vector<sock_filter> prologue;
  if (in.Get("enosys").ToBoolean() && !EnosysPrologue(archs, allNames, &prologue))
    return Fail(env, "seccomp: ENOSYS prologue does not fit in 8-bit jumps");
  size_t total = prologue.size() + program.size() / sizeof(sock_filter);
  if (total > BPF_MAXINSNS) return Fail(env, "seccomp program has " + std::to_string(total) + " instructions, the kernel takes at most " + std::to_string(BPF_MAXINSNS));

  Napi::Buffer<char> bpf = Napi::Buffer<char>::New(env, total * sizeof(sock_filter));
  memcpy(bpf.Data(), prologue.data(), prologue.size() * sizeof(sock_filter));
  memcpy(bpf.Data() + prologue.size() * sizeof(sock_filter), program.data(), program.size());
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", bpf);
  out.Set("unknownSyscalls", unknownOut);
  return out;
}

// seccompInfo(archNames) -> { version, apiLevel, archs: the names libseccomp resolves,
//   flags: { name: kernel bit } for the flags this kernel takes }
static Napi::Value SeccompInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", SeccompVersionString());
  out.Set("apiLevel", Napi::Number::New(env, seccomp_api_get()));
  Napi::Array archs = Napi::Array::New(env);
  for (const std::string& name : Strings(info[0]))
    if (name == "native" || seccomp_arch_resolve_name(name.c_str()) != 0) archs.Set(archs.Length(), name);
  out.Set("archs", archs);
  Napi::Object flags = Napi::Object::New(env);
  for (const FlagName& f : kFlags) {
    // WAIT_KILLABLE_RECV is only valid together with a listener
    uint32_t probe = f.bit == kWaitKillableRecv ? f.bit | kNewListener : f.bit;
    if (KernelHasFlag(probe)) flags.Set(f.name, Napi::Number::New(env, f.bit));
  }
  out.Set("flags", flags);
  out.Set("newListener", Napi::Boolean::New(env, KernelHasFlag(kNewListener)));
  return out;
}

// seccompVersion() -> { version, apiLevel }: what a compiled program depends on besides its input.
static Napi::Value SeccompVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", SeccompVersionString());
  out.Set("apiLevel", Napi::Number::New(env, seccomp_api_get()));
  return out;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
  exports.Set("seccompInfo", Napi::Function::New(env, SeccompInfo));
  return exports;
}

NODE_API_MODULE(tsrun_seccomp, Init)
