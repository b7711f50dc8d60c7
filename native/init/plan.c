#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Grow-by-one append; the plan is parsed once, so simplicity beats amortised growth. */
static void *append(void *arr, int *n, size_t elem) {
  arr = realloc(arr, elem * (size_t)(*n + 2));
  if (!arr) abort();
  memset((char *)arr + elem * (size_t)(*n), 0, elem * 2);
  (*n)++;
  return arr;
}

static void push_str(char ***arr, int *n, const struct tlv *t) {
  *arr = append(*arr, n, sizeof(char *));
  (*arr)[*n - 1] = tlv_str(t);
}

static char *copy_bytes(const struct tlv *t, uint32_t *len) {
  char *b = malloc(t->len ? t->len : 1);
  if (!b) abort();
  memcpy(b, t->val, t->len);
  *len = t->len;
  return b;
}

static int parse_mount(const struct tlv *outer, struct mount_step *m) {
  struct tlv_iter it;
  struct tlv t;
  int r;
  tlv_iter_init(&it, outer->val, outer->len);
  while ((r = tlv_next(&it, &t)) == 1) {
    switch (t.tag) {
      case T_M_SOURCE: m->source = tlv_str(&t); break;
      case T_M_DEST: m->dest = tlv_str(&t); break;
      case T_M_TYPE: m->type = tlv_str(&t); break;
      case T_M_DATA: m->data = tlv_str(&t); break;
      case T_M_SYMLINK: m->symlink = tlv_str(&t); break;
      case T_M_FLAGS: m->flags = tlv_u32(&t); break;
      case T_M_REMOUNT_FLAGS: m->remount_flags = tlv_u32(&t); break;
      case T_M_PROPAGATION:
        if (m->npropagation < 4) m->propagation[m->npropagation++] = tlv_u32(&t);
        break;
      case T_M_ATTR_SET: m->attr_set = tlv_u64(&t); break;
      case T_M_ATTR_CLR: m->attr_clr = tlv_u64(&t); break;
      case T_M_BIND: m->bind = (int)tlv_u32(&t); break;
      case T_M_MKDIR_ONLY: m->mkdir_only = (int)tlv_u32(&t); break;
      case T_M_TMPCOPYUP: m->tmpcopyup = (int)tlv_u32(&t); break;
      case T_M_IDMAP: m->idmap = (int)tlv_u32(&t); break;
    }
  }
  return r < 0 || !m->dest ? -1 : 0;
}

static int parse_device(const struct tlv *outer, struct device_node *d) {
  struct tlv_iter it;
  struct tlv t;
  int r;
  tlv_iter_init(&it, outer->val, outer->len);
  while ((r = tlv_next(&it, &t)) == 1) {
    switch (t.tag) {
      case T_D_PATH: d->path = tlv_str(&t); break;
      case T_D_TYPE: d->type = tlv_u32(&t); break;
      case T_D_MAJOR: d->major = tlv_u32(&t); break;
      case T_D_MINOR: d->minor = tlv_u32(&t); break;
      case T_D_MODE: d->mode = tlv_u32(&t); break;
      case T_D_UID: d->uid = tlv_u32(&t); break;
      case T_D_GID: d->gid = tlv_u32(&t); break;
      case T_D_BIND: d->bind = (int)tlv_u32(&t); break;
    }
  }
  return r < 0 || !d->path ? -1 : 0;
}

static int parse_hook(const struct tlv *outer, struct hook *h) {
  struct tlv_iter it;
  struct tlv t;
  int r;
  tlv_iter_init(&it, outer->val, outer->len);
  while ((r = tlv_next(&it, &t)) == 1) {
    switch (t.tag) {
      case T_H_PATH: h->path = tlv_str(&t); break;
      case T_H_ARG: push_str(&h->args, &h->nargs, &t); break;
      case T_H_ENV: push_str(&h->env, &h->nenv, &t); break;
      case T_H_TIMEOUT: h->timeout = (int)tlv_u32(&t); break;
    }
  }
  return r < 0 || !h->path ? -1 : 0;
}

static int parse_pair(const struct tlv *outer, struct init_plan *p) {
  struct tlv_iter it;
  struct tlv t;
  char *key = NULL, *value = NULL;
  tlv_iter_init(&it, outer->val, outer->len);
  while (tlv_next(&it, &t) == 1) {
    if (t.tag == T_KEY) key = tlv_str(&t);
    if (t.tag == T_VALUE) value = tlv_str(&t);
  }
  if (!key || !value) return -1;
  int n = p->nsysctl;
  p->sysctl_keys = append(p->sysctl_keys, &n, sizeof(char *));
  p->sysctl_values = append(p->sysctl_values, &p->nsysctl, sizeof(char *));
  p->sysctl_keys[n - 1] = key;
  p->sysctl_values[n - 1] = value;
  return 0;
}

static int parse_nested_u64(const struct tlv *outer, uint16_t tag_a, uint64_t *a, uint16_t tag_b, uint64_t *b,
                            uint16_t tag_c, uint64_t *c) {
  struct tlv_iter it;
  struct tlv t;
  tlv_iter_init(&it, outer->val, outer->len);
  while (tlv_next(&it, &t) == 1) {
    if (t.tag == tag_a) *a = t.len == 4 ? tlv_u32(&t) : tlv_u64(&t);
    if (t.tag == tag_b) *b = tlv_u64(&t);
    if (t.tag == tag_c) *c = tlv_u64(&t);
  }
  return 0;
}

static void parse_caps(const struct tlv *outer, struct init_plan *p) {
  struct tlv_iter it;
  struct tlv t;
  tlv_iter_init(&it, outer->val, outer->len);
  p->has_caps = 1;
  while (tlv_next(&it, &t) == 1) {
    switch (t.tag) {
      case T_CAP_BOUNDING: p->cap_bounding = tlv_u64(&t); break;
      case T_CAP_EFFECTIVE: p->cap_effective = tlv_u64(&t); break;
      case T_CAP_INHERITABLE: p->cap_inheritable = tlv_u64(&t); break;
      case T_CAP_PERMITTED: p->cap_permitted = tlv_u64(&t); break;
      case T_CAP_AMBIENT: p->cap_ambient = tlv_u64(&t); break;
    }
  }
}

int plan_parse(const char *data, size_t len, struct init_plan *p, char *err, size_t errlen) {
  struct tlv_iter it;
  struct tlv t;
  int r;
  memset(p, 0, sizeof *p);
  p->umask = -1;
  tlv_iter_init(&it, data, len);
  while ((r = tlv_next(&it, &t)) == 1) {
    int bad = 0;
    switch (t.tag) {
      case T_CLONE_FLAGS: p->clone_flags = tlv_u32(&t); break;
      case T_JOIN_NS: {
        if (p->njoins >= 16) { bad = 1; break; }
        struct ns_join *j = &p->joins[p->njoins++];
        struct tlv_iter in;
        struct tlv n;
        tlv_iter_init(&in, t.val, t.len);
        while (tlv_next(&in, &n) == 1) {
          if (n.tag == T_NS_FLAG) j->flag = tlv_u32(&n);
          if (n.tag == T_NS_PATH) j->path = tlv_str(&n);
        }
        bad = !j->path;
        break;
      }
      case T_TIME_OFFSETS: p->time_offsets = tlv_str(&t); break;
      case T_HOSTNAME: p->hostname = tlv_str(&t); break;
      case T_DOMAINNAME: p->domainname = tlv_str(&t); break;
      case T_ROOTFS: p->rootfs = tlv_str(&t); break;
      case T_ROOTFS_PROPAGATION: p->rootfs_propagation = tlv_u32(&t); break;
      case T_NO_PIVOT: p->no_pivot = (int)tlv_u32(&t); break;
      case T_READONLY_ROOT: p->readonly_root = (int)tlv_u32(&t); break;
      case T_DEV_TMPFS_DEFAULTS: p->dev_defaults = (int)tlv_u32(&t); break;
      case T_EXEC_MODE: p->exec_mode = (int)tlv_u32(&t); break;
      case T_MOUNT:
        p->mounts = append(p->mounts, &p->nmounts, sizeof(struct mount_step));
        bad = parse_mount(&t, &p->mounts[p->nmounts - 1]);
        break;
      case T_DEVICE:
        p->devices = append(p->devices, &p->ndevices, sizeof(struct device_node));
        bad = parse_device(&t, &p->devices[p->ndevices - 1]);
        break;
      case T_MASKED: push_str(&p->masked, &p->nmasked, &t); break;
      case T_READONLY_PATH: push_str(&p->readonly_paths, &p->nreadonly, &t); break;
      case T_SYSCTL: bad = parse_pair(&t, p); break;
      case T_ARG: push_str(&p->args, &p->nargs, &t); break;
      case T_ENV: push_str(&p->env, &p->nenv, &t); break;
      case T_CWD: p->cwd = tlv_str(&t); break;
      case T_UID: p->uid = tlv_u32(&t); break;
      case T_GID: p->gid = tlv_u32(&t); break;
      case T_ADD_GID:
        p->add_gids = append(p->add_gids, &p->nadd_gids, sizeof(gid_t));
        p->add_gids[p->nadd_gids - 1] = tlv_u32(&t);
        break;
      case T_UMASK: p->umask = (int)tlv_u32(&t); break;
      case T_CAPS: parse_caps(&t, p); break;
      case T_RLIMIT: {
        p->rlimits = append(p->rlimits, &p->nrlimits, sizeof(struct rlimit_step));
        struct rlimit_step *rl = &p->rlimits[p->nrlimits - 1];
        uint64_t type = 0;
        parse_nested_u64(&t, T_R_TYPE, &type, T_R_SOFT, &rl->soft, T_R_HARD, &rl->hard);
        rl->type = (uint32_t)type;
        break;
      }
      case T_APPARMOR: p->apparmor = tlv_str(&t); break;
      case T_SELINUX_LABEL: p->selinux_label = tlv_str(&t); break;
      case T_OOM_SCORE_ADJ: p->has_oom_score_adj = 1; p->oom_score_adj = (int32_t)tlv_u32(&t); break;
      case T_NO_NEW_PRIVS: p->no_new_privs = (int)tlv_u32(&t); break;
      case T_PERSONALITY: p->has_personality = 1; p->personality = tlv_u32(&t); break;
      case T_SCHED: p->sched = copy_bytes(&t, &p->sched_len); break;
      case T_IOPRIO: p->has_ioprio = 1; p->ioprio = tlv_u32(&t); break;
      case T_CPU_AFFINITY_INITIAL: p->affinity_initial = copy_bytes(&t, &p->affinity_initial_len); break;
      case T_CPU_AFFINITY_FINAL: p->affinity_final = copy_bytes(&t, &p->affinity_final_len); break;
      case T_TERMINAL: p->terminal = (int)tlv_u32(&t); break;
      case T_CONSOLE_ROWS: p->console_rows = tlv_u32(&t); break;
      case T_CONSOLE_COLS: p->console_cols = tlv_u32(&t); break;
      case T_EXEC_FIFO: p->exec_fifo = tlv_str(&t); break;
      case T_HOOK_CREATE_CONTAINER:
        p->create_container_hooks = append(p->create_container_hooks, &p->ncreate_hooks, sizeof(struct hook));
        bad = parse_hook(&t, &p->create_container_hooks[p->ncreate_hooks - 1]);
        break;
      case T_HOOK_START_CONTAINER:
        p->start_container_hooks = append(p->start_container_hooks, &p->nstart_hooks, sizeof(struct hook));
        bad = parse_hook(&t, &p->start_container_hooks[p->nstart_hooks - 1]);
        break;
      case T_NEW_KEYRING: p->keyring = tlv_str(&t); break;
      case T_PRESERVE_FDS: p->preserve_fds = tlv_u32(&t); break;
      case T_SECCOMP: p->seccomp = copy_bytes(&t, &p->seccomp_len); break;
      case T_SECCOMP_FLAGS: p->seccomp_flags = tlv_u32(&t); break;
      case T_SECCOMP_LISTENER: p->seccomp_listener = (int)tlv_u32(&t); break;
      default: break; /* unknown tags are skipped so old inits tolerate new parents */
    }
    if (bad) {
      snprintf(err, errlen, "malformed plan record (tag %u)", t.tag);
      return -1;
    }
  }
  if (r < 0) {
    snprintf(err, errlen, "truncated plan");
    return -1;
  }
  if (p->nargs == 0) {
    snprintf(err, errlen, "plan has no process args");
    return -1;
  }
  return 0;
}
