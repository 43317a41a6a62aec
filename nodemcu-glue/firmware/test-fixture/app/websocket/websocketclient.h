/* fixture placeholder for the old client header */
#ifndef OLD_WEBSOCKETCLIENT_H
#define OLD_WEBSOCKETCLIENT_H
#endif
