/*
 * respond_fw.h - the firewall block: addresses added to nftables sets with
 * a timeout, by a small helper process.
 *
 * DESIGN.md, privilege separation: the process that parses untrusted input
 * and serves HTTP should not be the one that changes the firewall.  So
 * respond_fw_start() forks a helper before any thread starts; the helper
 * keeps only its end of a SOCK_SEQPACKET socketpair (every other descriptor
 * closed), and answers fixed-size binary requests: add an address to the
 * IPv4 or IPv6 set with a timeout, delete it, check the sets.  It takes no
 * text from the daemon: the address comes as 4 or 16 bytes and the helper
 * writes the nft command itself, so nothing the attacker wrote can reach
 * the nftables parser.  A request of the wrong size, an unknown operation,
 * family or a timeout out of range is answered -EINVAL and changes nothing.
 * The helper ends when its socket closes (the daemon exited or called
 * respond_fw_stop) or the daemon dies (PR_SET_PDEATHSIG).
 *
 * Kernel side: with `create`, the helper makes (idempotently)
 *
 *   table <family> <table> {
 *     set <set4> { type ipv4_addr; flags timeout; }
 *     set <set6> { type ipv6_addr; flags timeout; }
 *     chain input { type filter hook input priority -10; policy accept;
 *                   ct state established,related accept;
 *                   ip saddr @<set4> drop; ip6 saddr @<set6> drop; }
 *   }
 *
 * A block stops new connections and stray packets from the address; a
 * session already established (an administrator's SSH) survives it.
 *
 * Never-block list: the helper gets its own copy of the daemon's list at
 * fork time (conf.never) and re-reads this host's addresses, gateways and
 * resolvers before every add; a request to block any of them is answered
 * -EACCES and changes nothing, whatever the daemon's policy decided.
 *
 * (for family ip or ip6 only the matching set and rule); without it, the
 * sets must exist already, referenced from the administrator's own
 * ruleset, and respond_fw_start checks that they do.
 */
#ifndef HIKESHI_RESPOND_FW_H
#define HIKESHI_RESPOND_FW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* nftables names: 1..RESPOND_FW_NAME_MAX-1 bytes of [A-Za-z0-9_], not
 * starting with a digit. */
#define RESPOND_FW_NAME_MAX 32
/* Longest timeout of one element: nftables takes ms in 64 bits, but a
 * block longer than a year is a configuration mistake. */
#define RESPOND_FW_TIMEOUT_MAX_S (366u * 24u * 3600u)

struct respond_fw_conf {
    char family[8];                /* "inet" (default when empty), "ip" or "ip6" */
    char table[RESPOND_FW_NAME_MAX]; /* default "hikeshi" */
    char set4[RESPOND_FW_NAME_MAX];  /* default "block4" */
    char set6[RESPOND_FW_NAME_MAX];  /* default "block6" */
    int create; /* 1: create table, sets and the drop chain if missing */
    /* Addresses the helper refuses to block (respond_never.h); borrowed,
     * copied by respond_fw_start for the helper.  NULL: only the host's
     * own state, read before each add. */
    const struct respond_never *never;
};
struct respond_never;
struct respond_never_src;

/*
 * Checks the names and family of `c` (empty ones take their defaults in
 * the copy the helper uses).  0, or -EINVAL with *reterr_why a static
 * sentence.
 */
int respond_fw_conf_check(const struct respond_fw_conf *c, const char **reterr_why);

struct respond_fw;

/*
 * Forks the helper.  Call before any thread is started (fork in a threaded
 * process copies only the caller).  The helper opens libnftables, and with
 * c->create makes the table/sets/chain, else checks the sets exist; then it
 * answers requests.  Returns 0 and a handle; -EINVAL for a bad conf;
 * -EPERM when the helper cannot change the firewall (not root, no
 * CAP_NET_ADMIN); -ENOENT when the sets are missing and create is off;
 * -EIO for another nftables error; errbuf holds a sentence with nft's own
 * message.  The handle is for one thread at a time.
 */
int respond_fw_start(const struct respond_fw_conf *c, struct respond_fw **ret, char *errbuf,
                     size_t errlen);

/*
 * Adds `address` (IPv4 or IPv6 text, one address) to its family's set for
 * `timeout_s` seconds (1..RESPOND_FW_TIMEOUT_MAX_S).  An element already
 * there has its timeout replaced.  0; -EINVAL for a bad address (or an IPv6
 * address under family ip, and the converse) or timeout; -EPIPE when the
 * helper is gone; -EIO with nft's message in errbuf otherwise.
 */
int respond_fw_block(struct respond_fw *fw, const char *address, uint32_t timeout_s, char *errbuf,
                     size_t errlen);
/* Removes `address` from its set.  0, -ENOENT when it was not there, and the
 * errors of respond_fw_block. */
int respond_fw_unblock(struct respond_fw *fw, const char *address, char *errbuf, size_t errlen);
/* 1 when `address` is in its set now, 0 when not, or a negative errno. */
int respond_fw_is_blocked(struct respond_fw *fw, const char *address, char *errbuf,
                          size_t errlen);

/* Closes the socket, waits for the helper (SIGKILL after 2 s) and frees.
 * The sets and their elements stay in the kernel (blocks run out by their
 * timeout).  NULL is a no-op. */
void respond_fw_stop(struct respond_fw *fw);

/*
 * The helper's side of one request, for the fuzz target and tests: checks
 * `req` (`len` bytes as received) and writes the nft command it would run
 * into cmd (NUL-terminated).  0, or -EINVAL when the request is refused
 * (wrong size, magic, operation, family, timeout; *reterr_why a static
 * sentence).  Never reads past len.
 */
int respond_fw_request_render(const struct respond_fw_conf *c, const void *req, size_t len,
                              char *cmd, size_t cmdlen, const char **reterr_why);

/*
 * The helper's never-block check of one request, for tests: 1 when `req`
 * adds an address that c->never holds or that is this host's address,
 * gateway or resolver as read from `host` (NULL: the system's), with a
 * sentence in why; 0 when it may go on (or is not an add); -ENOMEM.
 */
int respond_fw_request_never(const struct respond_fw_conf *c, const void *req, size_t len,
                             const struct respond_never_src *host, char *why, size_t whylen);

/* Operations of a request. */
#define RESPOND_FW_OP_ADD 1
#define RESPOND_FW_OP_DEL 2
#define RESPOND_FW_OP_TEST 3
/* Bytes of a request. */
#define RESPOND_FW_REQUEST_SIZE 28

/*
 * Writes a request as the daemon sends it (op, family 4 or 6, the address
 * as 4 or 16 bytes in network order, timeout in seconds) into buf: its
 * size, or -ENOSPC.  No check: for tests and the fuzz target's seeds.
 */
int respond_fw_request_encode(int op, int family, const unsigned char *addr, uint32_t timeout_s,
                              void *buf, size_t len);
/* The helper's pid (tests, logs); 0 for NULL. */
pid_t respond_fw_pid(const struct respond_fw *fw);

#endif
