/* Host stand-in for NodeMCU's sdk-overrides/include/stdbool.h: in the
 * firmware `bool` is an unsigned char typedef, not C99's _Bool, so the host
 * build uses the same (a value like 256 or a pointer does not become 1). */
#ifndef FAKE_SDK_STDBOOL_H
#define FAKE_SDK_STDBOOL_H

typedef unsigned char bool;
#define BOOL bool
#define true (1)
#define false (0)
#define TRUE true
#define FALSE false

#endif
