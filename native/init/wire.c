#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) {
      errno = 0;
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int wire_send(int sock, uint32_t type, const void *data, uint32_t len, const int *fds, int nfds) {
  uint32_t hdr[2] = {type, len};
  /* Header and payload in one sendmsg: the helper and the container's init share the socket and
   * may send at the same moment (INIT_PID and RUN_HOOKS); one small write to a unix stream
   * socket is queued whole, so frames never interleave. */
  struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof hdr}, {.iov_base = (void *)data, .iov_len = len}};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_MSG_FDS)];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
  if (nfds > 0) {
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t w;
  do w = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0) return -1;
  size_t done = (size_t)w;
  if (done < sizeof hdr) {
    if (write_all(sock, (char *)hdr + done, sizeof hdr - done) < 0) return -1;
    done = sizeof hdr;
  }
  if (done == sizeof hdr + len) return 0;
  return write_all(sock, (const char *)data + (done - sizeof hdr), sizeof hdr + len - done);
}

int send_with_fd(int sock, const void *data, size_t len, int fd) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int wire_recv(int sock, struct msg *m) {
  uint32_t hdr[2];
  struct iovec iov = {.iov_base = hdr, .iov_len = sizeof hdr};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_MSG_FDS)];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t r;
  do r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    if (r == 0) errno = 0;
    return -1;
  }
  m->nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      if (n > MAX_MSG_FDS) n = MAX_MSG_FDS;
      memcpy(m->fds, CMSG_DATA(c), sizeof(int) * n);
      m->nfds = n;
    }
  }
  if ((size_t)r < sizeof hdr && read_all(sock, (char *)hdr + r, sizeof hdr - (size_t)r) < 0) return -1;
  m->type = hdr[0];
  m->len = hdr[1];
  if (m->len > MAX_FRAME) {
    errno = EMSGSIZE;
    return -1;
  }
  m->data = malloc(m->len + 1);
  if (!m->data) return -1;
  if (read_all(sock, m->data, m->len) < 0) return -1;
  m->data[m->len] = 0;
  return 0;
}

void tlv_iter_init(struct tlv_iter *it, const char *data, size_t len) {
  it->p = data;
  it->end = data + len;
}

int tlv_next(struct tlv_iter *it, struct tlv *out) {
  if (it->p == it->end) return 0;
  if (it->end - it->p < 8) return -1;
  uint16_t tag;
  uint32_t len;
  memcpy(&tag, it->p, 2);
  memcpy(&len, it->p + 4, 4);
  if ((size_t)(it->end - it->p - 8) < len) return -1;
  out->tag = tag;
  out->len = len;
  out->val = it->p + 8;
  it->p += 8 + len;
  return 1;
}

uint32_t tlv_u32(const struct tlv *t) {
  uint32_t v = 0;
  if (t->len >= 4) memcpy(&v, t->val, 4);
  return v;
}

uint64_t tlv_u64(const struct tlv *t) {
  uint64_t v = 0;
  if (t->len >= 8) memcpy(&v, t->val, 8);
  return v;
}

char *tlv_str(const struct tlv *t) {
  char *s = malloc(t->len + 1);
  if (!s) abort();
  memcpy(s, t->val, t->len);
  s[t->len] = 0;
  return s;
}
