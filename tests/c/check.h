/*
 * check.h: the assertion of the C test programs. CHECK counts passes and
 * failures and prints each failure with its place; a test program ends with
 * CHECK_SUMMARY(), which prints "N passed, N failed" and gives the exit code.
 * guarded() and past_cap() catch writes beyond an output buffer's capacity.
 */
#ifndef UMS_TEST_CHECK_H
#define UMS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (cond) {                                              \
            passed++;                                            \
        } else {                                                 \
            failed++;                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
        }                                                        \
    } while (0)

/* A guarded buffer: `cap` bytes followed by GUARD bytes, all GUARD_BYTE
   (malloc'd; free it). past_cap() counts the guard bytes written since. */
#define GUARD 64
#define GUARD_BYTE 0xAB

static __attribute__((unused)) unsigned char *guarded(size_t cap) {
    unsigned char *g = malloc(cap + GUARD);
    if (g == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(g, GUARD_BYTE, cap + GUARD);
    return g;
}

/* How many of the GUARD bytes after the first `cap` bytes of g were written. */
static __attribute__((unused)) int past_cap(const unsigned char *g, size_t cap) {
    int bad = 0;
    for (size_t j = cap; j < cap + GUARD; j++) bad += g[j] != GUARD_BYTE;
    return bad;
}

#define CHECK_SUMMARY() (printf("%d passed, %d failed\n", passed, failed), failed == 0 ? 0 : 1)

#endif
