/*
 * One worker process of the fleet test (tests/fleet/run.py), through the C
 * ABI of libums. The Python (worker.py) and PHP (worker.php) workers speak
 * the same protocol:
 *
 *   fleet_worker ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT
 *   environment: FLEET_CONFIG = the client configuration (JSON text)
 *
 * It creates one client and prints "ready". Then, for each line
 * "phase K" read on stdin, it makes CALLS_PER_PHASE calls: the first call
 * of the run is get-qrcode of a one-off bill (BILL_NO, BILL_DATE, AMOUNT
 * fen), every later one bills/query of that bill. After the phase it prints
 *
 *   done K ok=N failed=N unauthorized=N err=<first error document or ->
 *
 * ("unauthorized": failed calls whose error document says HTTP 401, that
 * is a 401 that reached the caller instead of being handled by the
 * library). At the end of stdin it frees the client and exits 0. Any other
 * input, or a client that cannot be made, prints "fatal <why>" and exits 1.
 * The worker never waits on a clock: it blocks reading stdin only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ums.h"

#define OUT_CAP 8192

/* The error document on one line, at most 400 bytes (JSON has no raw newlines). */
static void keep_first_error(char *dst, size_t cap, UmsStatus status, const char *doc) {
    if (dst[0] != '\0') return;
    snprintf(dst, cap, "status=%d %.400s", (int)status, doc);
    for (char *p = dst; *p; p++) {
        if (*p == '\n' || *p == '\r') *p = ' ';
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: fleet_worker ID CALLS_PER_PHASE BILL_NO BILL_DATE AMOUNT\n");
        printf("fatal usage\n");
        return 1;
    }
    const char *id = argv[1];
    int calls = atoi(argv[2]);
    const char *bill_no = argv[3];
    const char *bill_date = argv[4];
    long amount = atol(argv[5]);
    const char *config = getenv("FLEET_CONFIG");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (config == NULL || calls < 1 || calls > 1000 || amount < 1) {
        printf("fatal bad arguments or no FLEET_CONFIG\n");
        return 1;
    }

    static char out[OUT_CAP];
    size_t len = 0;
    UmsClient *client = NULL;
    UmsStatus status = ums_client_new(config, &client, out, sizeof out, &len);
    if (status != UMS_OK) {
        printf("fatal client %d %.400s\n", (int)status, out);
        return 1;
    }
    printf("ready %s\n", id);

    char create[512], query[256];
    snprintf(create, sizeof create,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"totalAmount\":%ld,\"billDesc\":\"fleet worker %s\"}",
             bill_no, bill_date, amount, id);
    snprintf(query, sizeof query, "{\"billNo\":\"%s\",\"billDate\":\"%s\"}", bill_no, bill_date);

    int have_bill = 0;
    char line[128];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "phase ", 6) != 0) {
            printf("fatal unknown command\n");
            ums_client_free(client);
            return 1;
        }
        int ok = 0, failed = 0, unauthorized = 0;
        char first_error[512] = "";
        for (int i = 0; i < calls; i++) {
            int creating = !have_bill;
            status = creating ? ums_get_qrcode(client, create, out, sizeof out, &len)
                              : ums_query_bill(client, query, out, sizeof out, &len);
            if (status == UMS_OK && strstr(out, "\"errCode\":\"SUCCESS\"") != NULL) {
                ok++;
                if (creating) have_bill = 1;
            } else {
                failed++;
                if (strstr(out, "\"httpStatus\":401") != NULL) unauthorized++;
                keep_first_error(first_error, sizeof first_error, status, out);
                /* Made by an earlier attempt whose answer was lost: query it from now on. */
                if (creating && strstr(out, "\"errCode\":\"DUP_ORDER\"") != NULL) have_bill = 1;
            }
        }
        printf("done %s ok=%d failed=%d unauthorized=%d err=%s\n", line + 6, ok, failed, unauthorized,
               first_error[0] ? first_error : "-");
    }
    ums_client_free(client);
    return 0;
}
