#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into
fuzz/seeds/<target>/ (checked in; scripts/fuzz copies them into the
gitignored fuzz/corpus/<target>/). Run from anywhere: python3 fuzz/seeds/generate.py

Sources: the update-qrcode request of the ChinaUMS doc page (as in
examples/update_qrcode.c, with fixed dates), the notification bodies of
tests/data/vectors.json, and the demo configuration of README.md.
"""
import hashlib
import json
import pathlib
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VECTORS = json.loads((ROOT / "tests/data/vectors.json").read_text(encoding="utf-8"))

APP_ID = "10037e6f66f2d0f901672aa27d690006"
APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde"
NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


UPDATE_QRCODE = {
    "subMchntInfo": "",
    "mid": "898340149000005",
    "tid": "00000001",
    "instMid": "QRPAYDEFAULT",
    "qrCodeId": "31942002267733902130410550",
    "msgId": "800000000010",
    "srcReserve": "test",
    "billNo": "8888",
    "billDate": "2026-01-01",
    "billDesc": "updateQRCode",
    "totalAmount": "26",
    "goods": compact([{"goodsId": "001", "goodsName": "鸡蛋", "quantity": "10", "price": "1",
                       "goodsCategory": "food meterial", "body": "two eggs"}]),
    "memberId": "20200226001",
    "counterNo": "06",
    "expireTime": "2026-01-02 08:00:00",
    "notifyUrl": "http://www.test.com/notify",
    "returnUrl": "http://www.test.com/return",
    "systemId": "31942002267733902130410550",
    "secureTransaction": "false",
    "walletOption": "SINGLE",
    "name": "张*三",
    "mobile": "131****3453",
    "certType": "IDENTITY_CARD",
    "certNo": "110101********9008",
    "fixBuyer": "false",
    "preauthTransaction": "false",
    "installmentNumber": "12",
    "retCommParams": compact({"foodOrderType": "pre_order", "brandId": "3421234", "storeId": "2412343",
                              "tableNo": "341", "parkId": "", "vehicleNo": ""}),
    "attachedData": "test",
    "clientIp": "1.1.1.1",
    "isEfrcPs": "",
    "psPpt": "",
}

REQUESTS = {
    "update_qrcode_doc_page.json": compact(UPDATE_QRCODE),
    "update_qrcode_minimal.json": compact({"qrCodeId": "31942002267733902130410550", "billNo": "31940001",
                                           "billDate": "2026-01-01", "totalAmount": 26}),
    "get_qrcode_one_off.json": compact({"billNo": "3194202601010800000001", "billDate": "2026-01-01",
                                        "totalAmount": "100", "walletOption": "MULTIPLE",
                                        "subMchntInfo": {"subMerId": "S1", "subMerName": "子商户"},
                                        "goods": [{"goodsId": "1", "price": 1, "quantity": "2"}]}),
    "refund.json": compact({"billNo": "31940001", "billDate": "2026-01-01", "refundAmount": "10",
                            "platformAmount": 0, "refundOrderId": "3194202601010800000002",
                            "subOrders": [{"mid": "898340149000005", "totalAmount": 10}]}),
    "data_envelope.json": compact({"data": {"merOrderId": "3194202601010800000003", "completedAmount": 5}}),
    "query_qrcode_info.json": compact({"qrCodeId": "31942002267733902130410550",
                                       "systemId": "31942002267733902130410550"}),
    "fix_buyer_real_name.json": compact({"qrCodeId": "1", "fixBuyer": "T", "name": "5bygKuS4iQ==",
                                         "certNo": "MTEwMTAx", "mobile": "MTMx", "isEfrcPs": True,
                                         "installmentNumber": 3}),
}


def notify_bodies():
    out = {}
    for i, v in enumerate(VECTORS["notify_sign"]):
        if "form_body" in v and v["key"] == NOTIFY_KEY:
            out[f"vector_{i}_form.txt"] = v["form_body"]
        elif "params" in v and "md5_upper" in v:
            sign = v["md5_upper"]
            out[f"vector_{i}_params_md5.txt"] = urllib.parse.urlencode(list(v["params"].items()) + [("sign", sign)])
            if "sha256_lower" in v:
                params = list(v["params"].items()) + [("signType", "SHA256")]
                s = "&".join(f"{k}={val}" for k, val in sorted(params) if val)
                digest = hashlib.sha256((s + NOTIFY_KEY).encode()).hexdigest().upper()
                out[f"vector_{i}_params_sha256.txt"] = urllib.parse.urlencode(params + [("sign", digest)])
    return out


CONFIG_DEMO = compact({"environment": "https://gateway.invalid", "appId": APP_ID, "appKey": APP_KEY,
                       "mid": "898340149000005", "tid": "00000001"})
CONFIGS = {
    "demo_gateway.json": CONFIG_DEMO,
    "full_production.json": compact({
        "appId": APP_ID, "appKey": APP_KEY, "environment": "production", "auth": "token",
        "mid": "898340149000005", "tid": "00000001", "instMid": "QRPAYDEFAULT", "msgSrc": "WWW.TEST.COM",
        "msgSrcId": "3194", "notifyKey": NOTIFY_KEY, "connectTimeoutMs": 5000, "timeoutMs": 30000,
        "proxy": "http://127.0.0.1:3128", "realNameInput": "base64", "maxResponseBytes": 1048576}),
    "sandbox_empty.json": "{}",
    "loopback_http.json": compact({"environment": "http://[::1]:8080/", "appId": "a", "appKey": "secret-key-value"}),
    "bad_key.json": compact({"appId": "a", "appKey": "secret-key-value", "environment": "test", "timeoutMs": "5"}),
}

ANSWERS = {
    "success.txt": "200" + compact({"errCode": "SUCCESS", "errMsg": "更新二维码成功",
                                    "billQRCode": "https://qr-test2.chinaums.com/bills/qrCode.do?id=1"}),
    "dup_order.txt": "200" + compact({"errCode": "DUP_ORDER", "errMsg": "账单号重复"}),
    "timeout.txt": "200" + compact({"errCode": "TIMEOUT"}),
    "bad_sign_401.txt": "401" + compact({"errCode": "BAD_SIGN", "errMsg": "认证失败"}),
    "html_502.txt": "502<html>Bad Gateway</html>",
    "token.txt": "200" + compact({"errCode": "0000", "errInfo": "正常", "accessToken": "t", "expiresIn": 3600}),
}


# ffi_entry_points: control bytes, then 0xFF-separated parts (see the target).
def ffi_seed(control, parts):
    data = bytes(control)
    for p in parts:
        data += b"\xff" + (p.encode() if isinstance(p, str) else p)
    return data


def ffi_seeds():
    bodies = [v["form_body"] for v in VECTORS["notify_sign"] if "form_body" in v]
    request = compact(UPDATE_QRCODE)
    # parts: 0 config, 1 op, 2 request, 3 timestamp, 4 nonce, 5 body, 6 notify key, 7 path
    parts = [CONFIG_DEMO, "update-qrcode", request, "20260101080000", "n0nce-1", bodies[0], NOTIFY_KEY,
             "/v1/netpay/bills/update-qrcode"]
    seeds = {}
    # verify: action 0, key = demo (0), mode raw (3), part 5, out BIG (7); then size query (1).
    seeds["verify_vector.bin"] = ffi_seed([0, 0, 3, 5, 7, 0, 0, 3, 5, 1], parts)
    # verify a body signed from the part's fields (mode 2), small buffer (4, 3).
    seeds["verify_signed.bin"] = ffi_seed([0, 1, 1, 6, 2, 5, 4, 3], parts)
    # client_new from part 0, prepare on it (client sel 3, idx 0) and on the default
    # client (1) with op name (1, idx 1 = update-qrcode), request part 2, fixed ts part 3
    # (3 -> text 1 part 3), nonce part 4 (3 -> text 1 part 4), BIG out.
    seeds["client_prepare.bin"] = ffi_seed(
        [1, 1, 1, 0, 1, 7,
         2, 3, 0, 1, 1, 1, 2, 3, 1, 3, 3, 1, 4, 7,
         2, 1, 3, 1, 1, 1, 2, 3, 1, 3, 3, 1, 4, 5, 40],
        parts)
    # sign_body (4) default client (1), body part 2 (mode 2), ts fixed (1 + 6 bytes), nonce hex (1 + 8), out cap 16*k (6, 3)
    seeds["sign_body.bin"] = ffi_seed([4, 1, 2, 2, 1, 26, 0, 0, 8, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 6, 3], parts)
    # token_request (5), new_id (6), a gateway call that fails validation (7), statics (8).
    seeds["misc.bin"] = ffi_seed(
        [5, 1, 3, 1, 3, 3, 1, 4, 7,
         6, 1, 7,
         7, 0, 3, 1, 7, 1, 8, 7,
         8, 4, 0, 0, 0],
        parts + ["{\"qrCodeId\":\"\"}"])
    return seeds


# libFuzzer dictionaries (fuzz/dicts/<target>.dict): the words the parsers look for.
FIELD_NAMES = sorted(set(
    list(UPDATE_QRCODE) + [
        "requestTimestamp", "refundAmount", "refundOrderId", "refundDesc", "platformAmount", "subOrders",
        "authedOrderId", "authIdRespCd", "authedDesc", "cancelOrderId", "merOrderId", "completedAmount",
        "attachRefund", "data", "goodsId", "goodsName", "goodsCategory", "body", "subMerchantId", "quantity",
        "price", "subOrderAmount", "foodOrderType", "subMerId", "subMerName"]))
VALUES = ["SINGLE", "MULTIPLE", "IDENTITY_CARD", "PASSPORT", "HOKOU", "true", "false", "T", "pre_order",
          "qr_order", "2026-01-01", "2026-02-29", "2026-01-01 08:00:00", "23:59:59", "null", "[]", "{}",
          "\\\"", "\\u0000", "1e400", "-0", "18446744073709551616", "9223372036854775807", "1.5"]
CONFIG_WORDS = ["appId", "appKey", "environment", "auth", "mid", "tid", "instMid", "msgSrc", "msgSrcId",
                "notifyKey", "connectTimeoutMs", "timeoutMs", "proxy", "caFile", "realNameInput",
                "maxResponseBytes", "production", "test", "sandbox", "https://", "http://", "socks5://",
                "localhost", "127.0.0.1", "[::1]", ":443", "token", "body-sig", "plain", "base64", "null"]
NOTIFY_WORDS = ["sign=", "&sign=", "signType=", "SHA256", "MD5", "&", "=", "+", "%25", "%3D", "%26", "%E6%B5",
                "billPayment=", "notifyId=", "%7B%22", "\r\n"]
ANSWER_WORDS = ["200", "401", "404", "500", "errCode", "errMsg", "errInfo", "SUCCESS", "TIMEOUT",
                "NET_ERROR", "ORDER_PROCESSING", "INTERNAL_ERROR", "BAD_REQUEST", "\\u0053UCCESS"]


def write_dict(target, words):
    """One libFuzzer dictionary entry per word: printable ASCII as is, the rest as \\xHH."""
    d = HERE.parent / "dicts"
    d.mkdir(exist_ok=True)
    lines = []
    for w in words:
        esc = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}" for b in (w if isinstance(w, bytes) else w.encode()))
        lines.append(f'"{esc}"')
    (d / f"{target}.dict").write_text("\n".join(lines) + "\n", encoding="ascii")


def write(target, files):
    d = HERE / target
    d.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (d / name).write_bytes(content if isinstance(content, bytes) else content.encode())


write("normalize_request", REQUESTS)
write("verify_notify", notify_bodies())
write("config_parse", CONFIGS)
write("answer_parse", ANSWERS)
write("ffi_entry_points", ffi_seeds())
write_dict("normalize_request", [f'"{n}"' for n in FIELD_NAMES] + VALUES)
write_dict("config_parse", CONFIG_WORDS)
write_dict("verify_notify", NOTIFY_WORDS)
write_dict("answer_parse", ANSWER_WORDS)
write_dict("ffi_entry_points", [b"\xff", "\x00", "update-qrcode", "refund", "/v1/netpay/bills/query", "/v1/",
                                 "{}", "{\"data\":{}}", "\"qrCodeId\"", "\"environment\"", "\"appKey\"",
                                 "sandbox", "20260101080000", "20260229080000", ",", "\"", "=", "%", "&sign=",
                                 b"\xc3\x28"])
