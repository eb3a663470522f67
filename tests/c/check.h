/*
 * check.h: the assertion of the C test programs. CHECK counts passes and
 * failures and prints each failure with its place; a test program ends with
 * CHECK_SUMMARY(), which prints "N passed, N failed" and gives the exit code.
 */
#ifndef UMS_TEST_CHECK_H
#define UMS_TEST_CHECK_H

#include <stdio.h>

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

#define CHECK_SUMMARY() (printf("%d passed, %d failed\n", passed, failed), failed == 0 ? 0 : 1)

#endif
