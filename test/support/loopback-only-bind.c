/*
 * LD_PRELOAD shim for Chromium in tests: bind() to an address that is neither loopback nor the
 * wildcard fails with EADDRNOTAVAIL, so WebRTC opens no socket on eth0's addresses.
 *
 * Why: Chromium (with microphone permission) binds one UDP socket per interface address and pairs
 * each with every remote candidate of the same family. Dropping non-loopback candidates from the
 * signalling is not enough: a socket bound to the machine's own 192.0.2.2 or fd00:: address still
 * sends checks to the peer's 127.0.0.1/::1 candidate, the peer learns that address as
 * peer-reflexive and answers (and may send media) to it. Without such sockets every ICE packet
 * is from and to loopback. Built by loopback-only-bind.ts.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int allowed(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET) {
    in_addr_t ip = ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr);
    return ip == INADDR_ANY || (ip >> 24) == 127;
  }
  if (addr->sa_family == AF_INET6) {
    const struct in6_addr *ip = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(ip) || IN6_IS_ADDR_LOOPBACK(ip)) return 1;
    return IN6_IS_ADDR_V4MAPPED(ip) && ip->s6_addr[12] == 127;
  }
  return 1; /* Unix sockets, netlink, ... */
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real_bind)(int, const struct sockaddr *, socklen_t);
  if (!real_bind) real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
  if (addr && len >= sizeof(sa_family_t) && !allowed(addr)) {
    errno = EADDRNOTAVAIL;
    return -1;
  }
  return real_bind(fd, addr, len);
}
