/* layout_check.c -- compile-time pins of the C ABI in include/websocketclient.h.
 *
 * The NodeMCU glue (nodemcu-glue/websocket.c, ws_port_espconn.c) and any
 * other C user are compiled against the header, the library against the Rust
 * definitions in src/; the two meet only in memory. This file pins, for the
 * two data models the library is built for, the size, alignment and offset of
 * every field of every struct in the header, and the C type of every field,
 * callback typedef and function (_Generic), so that a reordered field, a changed type
 * or a changed callback signature fails the build instead of corrupting
 * memory at run time. tests/layout/ (bindgen) checks that the Rust structs
 * have the same layout as this header on i686, x86_64 and thumbv7em; this
 * file checks the header itself on every C compiler we have (host gcc, -m32,
 * arm-none-eabi, riscv32 and the ESP8266's xtensa-lx106-elf).
 *
 * A deliberate ABI change (a field added at the end of ws_options, say)
 * updates the tables below in the same commit.
 *
 * Build: tests/layout/run.sh (make layout-test), C11 for _Static_assert and
 * _Generic: cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c.
 */
#include <stddef.h>
#include <stdint.h>

#include "websocketclient.h"

#if defined(__STDC_VERSION__) && __STDC_VERSION__ < 201112L
#error "layout_check.c needs C11 (_Static_assert, _Generic)"
#endif

#define PIN_SIZE(T, ilp32, lp64) \
  _Static_assert(sizeof(T) == (WS_LP64 ? (lp64) : (ilp32)), "sizeof(" #T ") changed")
#define PIN_ALIGN(T, ilp32, lp64) \
  _Static_assert(_Alignof(T) == (WS_LP64 ? (lp64) : (ilp32)), "_Alignof(" #T ") changed")
#define PIN_OFF(T, f, ilp32, lp64) \
  _Static_assert(offsetof(T, f) == (WS_LP64 ? (lp64) : (ilp32)), "offsetof(" #T ", " #f ") changed")
/* The field has exactly type TY (no conversion: _Generic compares types). */
#define PIN_TYPE(T, f, TY) \
  _Static_assert(_Generic(((T *)0)->f, TY: 1, default: 0), #T "." #f " is no longer " #TY)
/* One field: its offset in both data models and its exact type. */
#define PIN_FIELD(T, f, TY, ilp32, lp64) \
  PIN_OFF(T, f, ilp32, lp64);            \
  PIN_TYPE(T, f, TY)

/* The two data models: ILP32 (ESP8266 xtensa, Cortex-M, riscv32, i686) and
 * LP64 (the x86_64 test host). Anything else is not a target of the library. */
_Static_assert(sizeof(int) == 4, "the C API assumes a 32-bit int");
_Static_assert(sizeof(void *) == 4 || (sizeof(void *) == 8 && sizeof(size_t) == 8),
               "neither ILP32 nor LP64");
#define WS_LP64 (sizeof(void *) == 8)

/* Callback signatures as the glue and the library call them. */
typedef void (*conn_fn)(struct ws_info *);
typedef void (*recv_fn)(struct ws_info *, int, char *, int);
typedef void (*fail_fn)(struct ws_info *, int);
typedef void (*close_fn)(struct ws_info *, int, int, const char *, int);
typedef void (*frag_fn)(struct ws_info *, const char *, int, int, int);
typedef void (*pong_fn)(struct ws_info *, const char *, int, int);
typedef uint32_t (*clock_fn)(void);
_Static_assert(_Generic((ws_onConnectionCallback)0, conn_fn: 1, default: 0), "ws_onConnectionCallback changed");
_Static_assert(_Generic((ws_onReceiveCallback)0, recv_fn: 1, default: 0), "ws_onReceiveCallback changed");
_Static_assert(_Generic((ws_onFailureCallback)0, fail_fn: 1, default: 0), "ws_onFailureCallback changed");
_Static_assert(_Generic((ws_onCloseCallback)0, close_fn: 1, default: 0), "ws_onCloseCallback changed");
_Static_assert(_Generic((ws_onFragmentCallback)0, frag_fn: 1, default: 0), "ws_onFragmentCallback changed");
_Static_assert(_Generic((ws_onPongCallback)0, pong_fn: 1, default: 0), "ws_onPongCallback changed");
_Static_assert(_Generic((ws_clockCallback)0, clock_fn: 1, default: 0), "ws_clockCallback changed");

/* header_t: the extra request headers, an array ending with {NULL, NULL}. */
PIN_SIZE(header_t, 8, 16);
PIN_ALIGN(header_t, 4, 8);
PIN_FIELD(header_t, key, char *, 0, 0);
PIN_FIELD(header_t, value, char *, 4, 8);

/* ws_info: allocated by the caller (the Lua userdata in the NodeMCU module). */
PIN_SIZE(ws_info, 32, 64);
PIN_ALIGN(ws_info, 4, 8);
PIN_FIELD(ws_info, connectionState, int, 0, 0);
PIN_FIELD(ws_info, extraHeaders, struct header_t *, 4, 8);
PIN_FIELD(ws_info, reservedData, void *, 8, 16);
PIN_FIELD(ws_info, onConnection, conn_fn, 12, 24);
PIN_FIELD(ws_info, onReceive, recv_fn, 16, 32);
PIN_FIELD(ws_info, onFailure, fail_fn, 20, 40);
PIN_FIELD(ws_info, engine, void *, 24, 48);
PIN_FIELD(ws_info, port, void *, 28, 56);

/* ws_options: filled by ws_options_init; fields may only be added at the end. */
PIN_SIZE(ws_options, 48, 72);
PIN_ALIGN(ws_options, 4, 8);
PIN_FIELD(ws_options, max_message, uint32_t, 0, 0);
PIN_FIELD(ws_options, connect_timeout_ms, uint32_t, 4, 4);
PIN_FIELD(ws_options, ping_interval_ms, uint32_t, 8, 8);
PIN_FIELD(ws_options, pong_timeout_ms, uint32_t, 12, 12);
PIN_FIELD(ws_options, close_timeout_ms, uint32_t, 16, 16);
PIN_FIELD(ws_options, protocols, const char *, 20, 24);
PIN_FIELD(ws_options, onClose, close_fn, 24, 32);
PIN_FIELD(ws_options, onFragment, frag_fn, 28, 40);
PIN_FIELD(ws_options, onPong, pong_fn, 32, 48);
PIN_FIELD(ws_options, clock_us, clock_fn, 36, 56);
PIN_FIELD(ws_options, reconnect_initial_ms, uint32_t, 40, 64);
PIN_FIELD(ws_options, reconnect_max_ms, uint32_t, 44, 68);

/* Every function of the API and of the port, with its exact C type. */
#define PIN_FN(f, TY) _Static_assert(_Generic(&f, TY: 1, default: 0), #f " changed its signature")
PIN_FN(ws_port_resolve, int (*)(struct ws_info *, const char *));
PIN_FN(ws_port_connect, int (*)(struct ws_info *, uint16_t, int));
PIN_FN(ws_port_send, int (*)(struct ws_info *, const uint8_t *, uint16_t));
PIN_FN(ws_port_close, void (*)(struct ws_info *));
PIN_FN(ws_port_timer_arm, void (*)(struct ws_info *, uint32_t));
PIN_FN(ws_port_timer_disarm, void (*)(struct ws_info *));
PIN_FN(ws_port_random, void (*)(uint8_t *, size_t));
PIN_FN(ws_port_sha1, void (*)(const uint8_t *, size_t, uint8_t *));
PIN_FN(ws_options_init, void (*)(struct ws_options *));
PIN_FN(ws_connect, void (*)(struct ws_info *, const char *));
PIN_FN(ws_connect_with, void (*)(struct ws_info *, const char *, const struct ws_options *));
PIN_FN(ws_send, void (*)(struct ws_info *, int, const char *, unsigned short));
PIN_FN(ws_send_long, int (*)(struct ws_info *, int, const char *, size_t));
PIN_FN(ws_close, void (*)(struct ws_info *));
PIN_FN(ws_close_with, void (*)(struct ws_info *, int, const char *, size_t));
PIN_FN(ws_protocol, const char *(*)(struct ws_info *));
PIN_FN(ws_http_status, int (*)(struct ws_info *));
PIN_FN(ws_ping, int (*)(struct ws_info *, const char *, size_t));
PIN_FN(ws_release, void (*)(struct ws_info *));
PIN_FN(ws_event_resolved, void (*)(struct ws_info *, int));
PIN_FN(ws_event_connected, void (*)(struct ws_info *));
PIN_FN(ws_event_received, void (*)(struct ws_info *, uint8_t *, size_t));
PIN_FN(ws_event_sent, void (*)(struct ws_info *));
PIN_FN(ws_event_disconnected, void (*)(struct ws_info *, int));
PIN_FN(ws_event_timer, void (*)(struct ws_info *));

/* An object file with no symbols is fine; this keeps -pedantic quiet about an
 * empty translation unit. */
typedef int layout_check_ok;
