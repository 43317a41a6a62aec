/* See digests.h: the old client includes it and uses nothing from it. */
