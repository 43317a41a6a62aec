/* firmware-check extra object (environment only): app/modules/net.c calls
 * stricmp, which the firmware's own toolchain libc provides and picolibc does
 * not. Case-insensitive comparison of two NUL-terminated strings. Built with
 * -mlongcalls and linked ahead of the libraries. */
#include <ctype.h>

int stricmp(const char *a, const char *b);

int stricmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (;;) {
        int d = tolower(*p) - tolower(*q);
        if (d != 0 || *p == 0)
            return d;
        p++;
        q++;
    }
}
