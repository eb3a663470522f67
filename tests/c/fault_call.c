/*
 * fault_call: one money-moving call through the C ABI, for the fault matrix
 * (tests/fault_matrix.rs), which runs it under the fault_shim.c LD_PRELOAD.
 *
 *   fault_call OPERATION CONFIG_FILE REQUEST_FILE
 *
 * OPERATION is the CLI name (update-qrcode, get-qrcode, close-qrcode, refund,
 * preauth-complete, preauth-cancel, secure-cancel, secure-complete). The
 * files hold the client configuration and the request, JSON each. Prints
 * the status integer on the first line and the document (the gateway's
 * answer or the error document) on the second; exits 0 whenever the call
 * was made, 2 for a usage or set-up error.
 *
 * The output buffer is 64 KiB, far larger than any answer of these
 * operations, so UMS_ERR_BUFFER_TOO_SMALL never enters the picture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ums.h"

typedef UmsStatus (*Export)(const struct UmsClient *, const char *, char *, size_t, size_t *);

static const struct {
    const char *name;
    Export call;
} OPERATIONS[] = {
    {"update-qrcode", ums_update_qrcode},
    {"get-qrcode", ums_get_qrcode},
    {"close-qrcode", ums_close_qrcode},
    {"refund", ums_refund},
    {"preauth-complete", ums_preauth_complete},
    {"preauth-cancel", ums_preauth_cancel},
    {"secure-cancel", ums_secure_cancel},
    {"secure-complete", ums_secure_complete},
};

#define OUT_CAP (64 * 1024)
static char out[OUT_CAP];

/* The whole file as a NUL-terminated string (malloc'd), or NULL. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    while (text != NULL) {
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap * 2);
            if (bigger == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (text == NULL || failed) {
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fault_call OPERATION CONFIG_FILE REQUEST_FILE\n");
        return 2;
    }
    Export call = NULL;
    for (size_t i = 0; i < sizeof OPERATIONS / sizeof OPERATIONS[0]; i++) {
        if (strcmp(argv[1], OPERATIONS[i].name) == 0) call = OPERATIONS[i].call;
    }
    if (call == NULL) {
        fprintf(stderr, "fault_call: unknown operation `%s`\n", argv[1]);
        return 2;
    }
    char *config = slurp(argv[2]);
    char *request = slurp(argv[3]);
    if (config == NULL || request == NULL) {
        fprintf(stderr, "fault_call: cannot read %s or %s\n", argv[2], argv[3]);
        free(config);
        free(request);
        return 2;
    }
    struct UmsClient *client = NULL;
    size_t len = 0;
    UmsStatus status = ums_client_new(config, &client, out, OUT_CAP, &len);
    if (status != UMS_OK) {
        fprintf(stderr, "fault_call: ums_client_new: %d %s\n", (int)status, out);
        free(config);
        free(request);
        return 2;
    }
    status = call(client, request, out, OUT_CAP, &len);
    if (len >= OUT_CAP) { /* cannot happen here; print what the buffer holds */
        out[OUT_CAP - 1] = '\0';
        len = strlen(out);
    }
    printf("%d\n%.*s\n", (int)status, (int)len, out);
    ums_client_free(client);
    free(config);
    free(request);
    return fflush(stdout) == 0 ? 0 : 2;
}
