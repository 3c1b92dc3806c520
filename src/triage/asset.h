/*
 * asset.h - the asset inventory: which hosts and networks we protect, who
 * owns them, how much they matter.
 *
 * The inventory is read from YAML or CSV files written by people (see
 * etc/assets.example.yaml and docs/triage.md).  A malformed row never aborts
 * a load: it is recorded as an issue (file, line, reason) and the other rows
 * load.  Lookups are by host name (case-insensitive, then the short name
 * before the first dot) and by IP address, where the entry with the longest
 * matching prefix wins.  An address that matches nothing is "unknown": the
 * caller (triage) applies its configured defaults.
 */
#ifndef HIKESHI_TRIAGE_ASSET_H
#define HIKESHI_TRIAGE_ASSET_H

#include <stddef.h>
#include <stdint.h>

/* Caps: entries in one inventory, issues kept (further ones are counted
 * only), bytes of one inventory file, tags on one entry. */
#define ASSET_MAX_ENTRIES 65536
#define ASSET_MAX_ISSUES 256
#define ASSET_MAX_FILE_BYTES (16 * 1024 * 1024)
#define ASSET_MAX_TAGS 16

/* MISSION.md section 3.  D (scandal) is not an asset category, but files
 * may say it and it is kept as given. */
enum asset_category {
    ASSET_CAT_NONE = 0,
    ASSET_CAT_A, /* business infrastructure */
    ASSET_CAT_B, /* client environment */
    ASSET_CAT_C, /* organisational core */
    ASSET_CAT_D, /* scandal */
};

enum asset_crit {
    ASSET_CRIT_NONE = 0,
    ASSET_CRIT_LOW,
    ASSET_CRIT_MEDIUM,
    ASSET_CRIT_HIGH,
    ASSET_CRIT_CRITICAL,
};
#define ASSET_CRIT_COUNT 5

/* An IP address (prefix 32 or 128) or network.  IPv4-mapped IPv6 addresses
 * are stored as IPv4 so that ::ffff:10.0.0.1 finds 10.0.0.0/8. */
struct asset_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned prefix;
    unsigned char addr[16]; /* network order; bits past prefix are zero */
};

struct asset {
    char *name;  /* owned; host or network name; may be NULL for bare networks */
    char *owner; /* owned; may be NULL */
    int has_net; /* 1 when `net` is set */
    struct asset_net net;
    enum asset_crit crit;
    enum asset_category cat;
    char *tags[ASSET_MAX_TAGS]; /* owned */
    size_t ntags;
    unsigned line; /* where it was defined, for messages */
};

/* A row that did not load.  `reason` is a static string. */
struct asset_issue {
    char *file; /* owned */
    unsigned line;
    const char *reason;
};

struct asset_inv {
    struct asset *v; /* owned array of n entries */
    size_t n, cap;
    struct asset_issue issues[ASSET_MAX_ISSUES];
    size_t nissues;       /* kept in issues[] */
    size_t issues_total;  /* including those past the cap */
    size_t rows_loaded;   /* entries added by all loads */
};

/* Parses "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length
 * prefix) from s[0..len).  Host bits past the prefix are cleared.  Returns 0
 * or -EINVAL.  Needs no NUL. */
int asset_net_parse(const char *s, size_t len, struct asset_net *ret);
/* 1 when address `ip` lies in network `net` (same family), else 0. */
int asset_net_contains(const struct asset_net *net, const struct asset_net *ip);

/* "low".."critical" / "A".."D" (case-insensitive) to the enum; NONE when
 * the text is not one of them. */
enum asset_crit asset_crit_parse(const char *s, size_t len);
enum asset_category asset_category_parse(const char *s, size_t len);
/* Names for display: "low".., "A"..; "unknown" for NONE. */
const char *asset_crit_name(enum asset_crit c);
const char *asset_category_name(enum asset_category c);

/* Embeds an empty inventory. */
void asset_inv_init(struct asset_inv *inv);
/* Frees every entry and issue; the inventory is empty (and reusable). */
void asset_inv_done(struct asset_inv *inv);

/*
 * Adds the entries of a YAML text (a sequence of mappings, or a mapping whose
 * `assets` key holds one) or a CSV text (a header row naming the columns
 * name, address, owner, criticality, category, tags; tags separated by `;`).
 * `file` names the source in issues.  Bad rows become issues and the rest
 * load; a YAML syntax error makes the whole text one issue.  Returns the
 * number of entries added (>= 0), or -ENOMEM (the inventory then holds what
 * loaded before).  Never reads past `len`; needs no NUL.
 */
int asset_inv_load_yaml(struct asset_inv *inv, const char *text, size_t len, const char *file);
int asset_inv_load_csv(struct asset_inv *inv, const char *text, size_t len, const char *file);
/* Reads `path` (".csv" → CSV, anything else YAML).  Returns entries added,
 * or -errno when the file cannot be read (recorded as an issue too). */
int asset_inv_load_file(struct asset_inv *inv, const char *path);

/* The entry for a host name (exact, case-insensitive; then its short name),
 * or NULL.  `len` bytes of `name`; no NUL needed. */
const struct asset *asset_inv_by_name(const struct asset_inv *inv, const char *name, size_t len);
/* The entry whose network holds the address, longest prefix first, or NULL
 * when no entry holds it or the text is not an address. */
const struct asset *asset_inv_by_ip(const struct asset_inv *inv, const char *ip, size_t len);

#endif
