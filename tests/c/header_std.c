/*
 * header_std: include/ums.h under several language standards. `make
 * check-header-std` compiles this file as C89 (-pedantic-errors), C11 and
 * C++11 with every warning an error, links it with libums and runs it: the
 * header must be valid in each, every declaration must resolve, and the
 * version macros must match the library. Nothing here touches the network.
 */
#include <stdio.h>
#include <string.h>

#include "ums.h"

/* Every export, so that linking proves each declaration has a definition. */
typedef void (*AnyFunction)(void);
static const AnyFunction EXPORTS[] = {
    (AnyFunction)ums_version,          (AnyFunction)ums_status_str,       (AnyFunction)ums_client_new,
    (AnyFunction)ums_client_free,      (AnyFunction)ums_update_qrcode,    (AnyFunction)ums_call,
    (AnyFunction)ums_take_answer,      (AnyFunction)ums_get_qrcode,       (AnyFunction)ums_close_qrcode,
    (AnyFunction)ums_query_bill,       (AnyFunction)ums_refund,           (AnyFunction)ums_query_qrcode_info,
    (AnyFunction)ums_preauth_complete, (AnyFunction)ums_preauth_cancel,   (AnyFunction)ums_secure_cancel,
    (AnyFunction)ums_secure_complete,  (AnyFunction)ums_prepare,          (AnyFunction)ums_new_id,
    (AnyFunction)ums_notify_reply,     (AnyFunction)ums_verify_notify,    (AnyFunction)ums_client_verify_notify,
    (AnyFunction)ums_sign_body,        (AnyFunction)ums_token_request,    (AnyFunction)ums_set_log_callback};

static void on_log(void *userdata, int32_t level, const char *message) {
    (void)userdata;
    (void)level;
    (void)message;
}

int main(void) {
    UmsClient *client = NULL;
    UmsStatus status;
    UmsLogCallback callback = on_log;
    char buf[UMS_MIN_OUT_CAP * 4];
    char expected[64];
    size_t len = 0;
    size_t i;
    const char *standard;

#if defined(__cplusplus)
    standard = "C++";
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
    standard = "C11";
#else
    standard = "C89";
#endif
    for (i = 0; i < sizeof EXPORTS / sizeof EXPORTS[0]; i++) {
        if (EXPORTS[i] == NULL) return 1;
    }
    sprintf(expected, "%d.%d.%d", UMS_VERSION_MAJOR, UMS_VERSION_MINOR, UMS_VERSION_PATCH);
    if (strcmp(ums_version(), expected) != 0) {
        fprintf(stderr, "header_std (%s): header %s, library %s\n", standard, expected, ums_version());
        return 1;
    }
    status = ums_client_new("{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\"}", &client,
                            buf, sizeof buf, &len);
    if (status != UMS_OK || client == NULL) {
        fprintf(stderr, "header_std (%s): ums_client_new: %s %s\n", standard, ums_status_str(status), buf);
        return 1;
    }
    status = ums_set_log_callback(callback, NULL, UMS_LOG_ERROR);
    if (status == UMS_OK) status = ums_set_log_callback(NULL, NULL, 0);
    ums_client_free(client);
    if (status != UMS_OK) return 1;
    printf("header_std: %s ok, %u exports\n", standard, (unsigned)(sizeof EXPORTS / sizeof EXPORTS[0]));
    return 0;
}
