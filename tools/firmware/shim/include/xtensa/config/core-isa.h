/* firmware-check shim (environment only): the LX106 core configuration
 * (XCHAL_DEBUGLEVEL etc.) comes from picolibc's lx106 copy. */
#include <machine/core-isa.h>
