/* Shared by the C tests of the fake SDK and the port (sdk_test.c,
 * tests/c/host_port.c, tests/c/host_reconnect.c; define _GNU_SOURCE before
 * any include, for memmem): the CHECK counter macro and a plain TCP echo server
 * on 127.0.0.1 (one thread per connection) that closes a connection when a
 * read holds a marker string. Header-only (static), so each test program
 * stays one source file. */
#ifndef FAKE_SDK_TESTKIT_H
#define FAKE_SDK_TESTKIT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
    } else {                                                                   \
      failed++;                                                                \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                              \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

static const char *echo_marker;
static int echo_listen_fd;

static inline void *echo_conn(void *arg) {
  int c = (int)(intptr_t)arg;
  size_t ml = strlen(echo_marker);
  char buf[4096];
  for (;;) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0 || memmem(buf, (size_t)n, echo_marker, ml) != NULL)
      break;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = write(c, buf + off, (size_t)(n - off));
      if (w <= 0)
        break;
      off += w;
    }
  }
  close(c);
  return NULL;
}

static inline void *echo_accept(void *arg) {
  (void)arg;
  for (;;) {
    int c = accept(echo_listen_fd, NULL, NULL);
    if (c < 0)
      continue;
    pthread_t th;
    pthread_create(&th, NULL, echo_conn, (void *)(intptr_t)c);
    pthread_detach(th);
  }
  return NULL;
}

/* A TCP socket on 127.0.0.1 with a kernel-chosen port; listening unless
 * `backlog` is 0. Returns the fd (or -1) and sets *port. */
static inline int loopback_socket(int backlog, int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      (backlog > 0 && listen(fd, backlog) != 0) ||
      getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

/* A port nothing listens on (bound once, then released). */
static inline int free_port(void) {
  int port = 0, fd = loopback_socket(0, &port);
  if (fd >= 0)
    close(fd);
  return port;
}

/* Starts the echo server; returns its port (exits on failure). */
static inline int start_echo_server(const char *close_marker) {
  int port = 0;
  echo_marker = close_marker;
  echo_listen_fd = loopback_socket(16, &port);
  if (echo_listen_fd < 0) {
    perror("echo server");
    exit(2);
  }
  pthread_t th;
  pthread_create(&th, NULL, echo_accept, NULL);
  pthread_detach(th);
  return port;
}

#endif
