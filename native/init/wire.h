/*
 * The parent <-> init protocol (see native/PROTOCOL.md). Frames on a SOCK_STREAM socketpair:
 * [u32 type][u32 length][payload], with any passed fds attached (SCM_RIGHTS) to the header.
 * The plan itself is a flat list of TLV records: [u16 tag][u16 0][u32 length][value].
 */
#ifndef TSRUN_WIRE_H
#define TSRUN_WIRE_H
#include <stddef.h>
#include <stdint.h>

enum msg_type {
  /* parent -> init */
  MSG_PLAN = 1,       /* payload: plan TLVs; fds: [console socket] */
  MSG_MAPS_DONE = 2,  /* id maps written */
  MSG_HOOKS_DONE = 3, /* prestart/createRuntime ran; payload: state JSON for container hooks */
  MSG_MOUNT_TREE = 4, /* right after the PLAN, one per T_M_IDMAP mount in order; fds: [tree] */
  /* init -> parent */
  MSG_NEED_MAPS = 10, /* user namespace made; write uid_map/gid_map of the sender */
  MSG_INIT_PID = 11,  /* payload: u32 host pid of the container init */
  MSG_RUN_HOOKS = 12, /* namespaces and mounts ready, before pivot_root */
  MSG_READY = 13,     /* waiting on exec.fifo for start */
  MSG_ERROR = 14,     /* payload: one-line message; init exits after sending */
  MSG_PTY_MASTER = 15 /* fds: [pty master] for a foreground terminal */
};

#define MAX_MSG_FDS 4
#define MAX_FRAME (16u << 20)

struct msg {
  uint32_t type;
  uint32_t len;
  char *data; /* malloc'd, NUL-terminated for convenience */
  int fds[MAX_MSG_FDS];
  int nfds;
};

/* One raw message (no frame header): `len` bytes with exactly one fd attached, as the console
 * socket and seccomp listener protocols expect. */
int send_with_fd(int sock, const void *data, size_t len, int fd);

int wire_send(int sock, uint32_t type, const void *data, uint32_t len, const int *fds, int nfds);
/* Returns 0 on success, -1 on error or EOF (errno 0 on EOF). */
int wire_recv(int sock, struct msg *m);

struct tlv {
  uint16_t tag;
  uint32_t len;
  const char *val;
};

struct tlv_iter {
  const char *p, *end;
};

void tlv_iter_init(struct tlv_iter *it, const char *data, size_t len);
int tlv_next(struct tlv_iter *it, struct tlv *out); /* 1: got one, 0: end, -1: malformed */
uint32_t tlv_u32(const struct tlv *t);
uint64_t tlv_u64(const struct tlv *t);
char *tlv_str(const struct tlv *t); /* malloc'd copy with NUL */

#endif
