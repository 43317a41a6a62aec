/* The firmware forbids this header: NodeMCU's sdk-overrides/include/c_types.h
 * is an #error and the SDK's own copy is switched off with -D_C_TYPES_H_.
 * The fake SDK does the same, so code that includes it fails on the host
 * exactly as it would in the firmware build. The SDK's integer names
 * (uint8, sint8, ...) come from <stdint.h> (sdk/stdint.h here). */
#ifndef FAKE_SDK_C_TYPES_H
#define FAKE_SDK_C_TYPES_H
#error "c_types.h is not available in NodeMCU builds: include <stdint.h> instead"
#endif
