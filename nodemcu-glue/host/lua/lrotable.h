/* Host stand-in: NodeMCU's rotable macros live in module.h here. */
#include "module.h"
