{
  "targets": [
    {
      "target_name": "tsrun_native",
      "sources": ["native/addon/addon.cc", "native/addon/process.cc", "native/addon/idmap.cc", "native/addon/bpf.cc", "native/init/wire.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O2", "-Wall"],
      "cflags_cc": ["-O2", "-Wall", "-std=c++17"]
    },
    {
      "target_name": "tsrun_seccomp",
      "sources": ["native/addon/seccomp.cc"],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O2", "-Wall"],
      "cflags_cc": ["-O2", "-Wall", "-std=c++17"]
    },
    {
      "target_name": "tsrun-init",
      "type": "executable",
      "sources": [
        "native/init/main.c", "native/init/wire.c", "native/init/plan.c", "native/init/rootfs.c", "native/init/process.c", "native/init/hooks.c", "native/init/seccomp.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "ldflags": ["-Wl,-z,now", "-Wl,-z,relro"]
    },
    {
      "target_name": "tsrun",
      "type": "executable",
      "sources": ["native/launcher/main.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
