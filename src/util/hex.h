/*
 * hex.h - the value of one hexadecimal digit, for the parsers that read
 * escapes (\u00e9, %41, \x41), fingerprints and hashes.  Inline: the JSON
 * and URL decoders call it on the hot path.
 */
#ifndef HIKESHI_UTIL_HEX_H
#define HIKESHI_UTIL_HEX_H

/* 0..15 for [0-9a-fA-F], -1 for any other byte (including those >= 0x80). */
static inline int hex_value(char ch)
{
    unsigned char c = (unsigned char)ch;

    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
