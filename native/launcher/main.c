/*
 * bin/tsrun (a symlink to the built binary): starts Node on dist/boot.js. A C launcher rather
 * than a shell script because clients run the runtime many times per container and a shell's
 * start-up was ~4% of each small command.
 *
 * It clears NODE_EXTRA_CA_CERTS (Node would read the CA file at boot, ~45 ms where it is set) and
 * NODE_OPTIONS (V8 flags there would make V8 reject tsrun's code caches), finds dist/boot.js from
 * its own location (build/Release/ -> ../../dist/boot.js, symlinks resolved by /proc/self/exe),
 * and runs the `node` found on PATH, or on a shell's default path when PATH is unset (podman runs
 * `kill` and `delete` with no PATH at all).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define BOOT_FROM_BINARY "/../../dist/boot.js"

/* dirname of the real path of this executable, with room for BOOT_FROM_BINARY appended. */
static int boot_script(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - sizeof BOOT_FROM_BINARY);
  if (n <= 0 || (size_t)n >= size - sizeof BOOT_FROM_BINARY) return -1;
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (!slash) return -1;
  strcpy(slash, BOOT_FROM_BINARY);
  return 0;
}

int main(int argc, char **argv) {
  char boot[PATH_MAX + sizeof BOOT_FROM_BINARY];
  if (boot_script(boot, sizeof boot) < 0) {
    fprintf(stderr, "tsrun: cannot find dist/boot.js from /proc/self/exe: %s\n", strerror(errno));
    return 127;
  }
  unsetenv("NODE_EXTRA_CA_CERTS");
  unsetenv("NODE_OPTIONS");

  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) return 127;
  args[0] = "node";
  args[1] = boot;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];

  const char *search = getenv("PATH");
  if (!search || !*search) search = DEFAULT_PATH;
  int err = ENOENT;
  for (const char *dir = search; dir; ) {
    const char *end = strchr(dir, ':');
    size_t len = end ? (size_t)(end - dir) : strlen(dir);
    char node[PATH_MAX];
    /* an empty entry means the current directory, as for the shell */
    if (snprintf(node, sizeof node, "%.*s%snode", (int)len, len ? dir : ".", "/") < (int)sizeof node) {
      execv(node, args);
      if (errno != ENOENT && errno != ENOTDIR) err = errno;
    }
    dir = end ? end + 1 : NULL;
  }
  fprintf(stderr, "tsrun: cannot run node (searched %s): %s\n", search, strerror(err));
  return 127;
}
