/*
 * What every *_linux.c file that talks to the kernel through libnl shares
 * (Linux only: include it from *_linux.c files): opening a socket, and
 * libnl's error codes as negative errno values, so that libnl's codes never
 * leave those files.
 */
#ifndef MANTA_TUN_NETLINK_H
#define MANTA_TUN_NETLINK_H

/* The inverse of libnl's nl_syserr2nlerr() where it is one to one; every
 * other code (libnl folds many errnos into NLE_FAILURE) becomes -EIO.
 * Takes libnl's code with either sign. */
int netlink_errno(int nlerr);

/* A connected rtnetlink socket (libnl), or NULL with a negative errno in
 * *err. */
struct nl_sock;
struct nl_sock *netlink_open(int *err);

#endif
