/* Host stand-in for lwIP 1.4's lwip/err.h as shipped with the ESP8266 SDK. */
#ifndef FAKE_SDK_LWIP_ERR_H
#define FAKE_SDK_LWIP_ERR_H
#include "lwip/arch.h"

typedef s8_t err_t;

#define ERR_OK 0
#define ERR_MEM -1
#define ERR_BUF -2
#define ERR_TIMEOUT -3
#define ERR_RTE -4
#define ERR_INPROGRESS -5
#define ERR_VAL -6
#define ERR_WOULDBLOCK -7
#define ERR_IS_FATAL(e) ((e) < ERR_WOULDBLOCK)
#define ERR_USE -8
#define ERR_ISCONN -9
#define ERR_ABRT -10
#define ERR_RST -11
#define ERR_CLSD -12
#define ERR_CONN -13
#define ERR_ARG -14
#define ERR_IF -15

#endif
