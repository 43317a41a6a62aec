/* Host stand-in: the runner registers every module that is linked in. */
