/* Found through -I tools/oldclient/shim as "../crypto/digests.h", the path the
 * old client includes. */
/* The old client includes the firmware's crypto/digests.h but calls only the
 * ROM's SHA-1 (declared in the fake SDK's rom.h, through osapi.h); nothing else is needed. */
