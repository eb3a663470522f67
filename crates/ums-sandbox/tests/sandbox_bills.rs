//! bills/get-qrcode and bills/update-qrcode against the simulator.

#[path = "sandbox_support.rs"]
mod support;

use serde_json::{json, Value};
use support::*;
use ums_sandbox::{demo, Sandbox};

/// The seed page's update-qrcode request, with the values the gateway
/// actually wants: totalAmount a JSON integer, goods a JSON array,
/// retCommParams a JSON object, real-name fields Base64, installmentNumber
/// one of 3/6/12.
fn seed_update() -> Value {
    json!({
        "subMchntInfo": "",
        "requestTimestamp": "2020-02-26 13:36:00",
        "mid": "898340149000005",
        "tid": "00000001",
        "instMid": "QRPAYDEFAULT",
        "qrCodeId": "31942002267733902130410550",
        "msgId": "800000000010",
        "srcReserve": "test",
        "billNo": "8888",
        "billDate": "2020-02-26",
        "billDesc": "updateQRCode",
        "totalAmount": 26,
        "goods": [{"goodsId": "001", "goodsName": "鸡蛋", "quantity": "10", "price": "1",
                   "goodsCategory": "food meterial", "body": "two eggs"}],
        "memberId": "20200226001",
        "counterNo": "06",
        "expireTime": "2022-02-26 13:31:59",
        "notifyUrl": "http://www.test.com/notify",
        "returnUrl": "http://www.test.com/return",
        "systemId": "31942002267733902130410550",
        "secureTransaction": "false",
        "walletOption": "SINGLE",
        "name": "5bygKuS4iQ==",
        "mobile": "MTMxKioqKjM0NTM=",
        "certType": "IDENTITY_CARD",
        "certNo": "MTEwMTAxKioqKioqKio5MDA4",
        "fixBuyer": "false",
        "preauthTransaction": "false",
        "installmentNumber": 3,
        "retCommParams": {"foodOrderType": "pre_order", "brandId": "3421234", "storeId": "2412343",
                          "tableNo": "341", "parkId": "", "vehicleNo": ""},
        "attachedData": "test",
        "clientIp": "1.1.1.1",
        "isEfrcPs": "",
        "psPpt": ""
    })
}

fn call(sandbox: &Sandbox, path: &str, body: &Value) -> Value {
    let reply = post_signed(&agent(), sandbox, path, &body.to_string(), NOW);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json
}

fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

fn common(extra: Value) -> Value {
    serde_json::from_str(&bills_body(NOW, extra)).unwrap()
}

fn err_msg(v: &Value) -> &str {
    v["errMsg"].as_str().unwrap_or("")
}

#[test]
fn seed_update_succeeds_once_then_is_a_duplicate() {
    let sandbox = fixed_sandbox();
    let ok = call(&sandbox, UPDATE_QRCODE, &seed_update());
    let expected = json!({
        "errCode": "SUCCESS",
        "errMsg": "更新二维码成功",
        "responseTimeStamp": "2020-02-26 13:36:00",
        "billQRCode": "https://qr-test2.chinaums.com/bills/qrCode.do?id=31942002267733902130410550",
        "systemId": "31942002267733902130410550",
        "msgId": "800000000010",
        "srcReserve": "test",
        "mid": "898340149000005",
        "tid": "00000001",
        "instMid": "QRPAYDEFAULT",
        "billNo": "8888",
        "billDate": "2020-02-26"
    });
    assert_eq!(ok, expected);
    // Same keys in the seed page's order.
    let keys: Vec<&String> = ok.as_object().unwrap().keys().collect();
    let want: Vec<&String> = expected.as_object().unwrap().keys().collect();
    assert_eq!(keys, want);

    let dup = call(&sandbox, UPDATE_QRCODE, &seed_update());
    assert_eq!(dup["errCode"], "DUP_ORDER");
    assert_eq!(dup["errMsg"], "账单号重复");
    assert_eq!(dup["msgId"], "800000000010");

    // A new bill number is fine.
    let next = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"billNo": "8889"})),
    );
    assert_eq!(next["errCode"], "SUCCESS", "{next}");
    assert_eq!(next["billNo"], "8889");
    // ... and the old one stays used.
    let back = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"billNo": "8888"})),
    );
    assert_eq!(back["errCode"], "DUP_ORDER");
}

#[test]
fn the_seed_samples_as_written_are_refused_naming_the_field() {
    let sandbox = fixed_sandbox();
    let cases = [
        // "26" is accepted (see amounts_as_digit_strings...); "26.0" is not.
        (json!({"totalAmount": "26.0"}), "totalAmount"),
        (json!({"goods": "[{\"goodsId\":\"001\"}]"}), "goods"),
        (
            json!({"retCommParams": "{\"foodOrderType\":\"pre_order\"}"}),
            "retCommParams",
        ),
        (json!({"name": "张*三"}), "name"),
        (json!({"mobile": "131****3453"}), "mobile"),
        (json!({"installmentNumber": "10"}), "installmentNumber"),
        (json!({"billDate": "2020/02/26"}), "billDate"),
        (json!({"expireTime": "2022-02-26"}), "expireTime"),
        (json!({"walletOption": "BOTH"}), "walletOption"),
        (json!({"certType": "DRIVER"}), "certType"),
        (json!({"billNo": "x".repeat(32)}), "billNo"),
        (json!({"msgId": "m".repeat(65)}), "msgId"),
        (json!({"qrCodeId": null}), "qrCodeId"),
        (json!({"qrCodeId": "q".repeat(33)}), "qrCodeId"),
        (json!({"totalAmount": 1_000_001}), "totalAmount"),
        (json!({"notifyUrl": "www.test.com/notify"}), "notifyUrl"),
        (json!({"fixBuyer": "T", "certNo": null}), "certNo"),
    ];
    for (change, field) in cases {
        let reply = call(
            &sandbox,
            UPDATE_QRCODE,
            &with(seed_update(), change.clone()),
        );
        assert_eq!(reply["errCode"], "BAD_REQUEST", "{change}: {reply}");
        assert!(err_msg(&reply).contains(field), "{change}: {reply}");
        assert!(
            !err_msg(&reply).contains("张"),
            "real-name values are not echoed"
        );
    }
    // None of them changed anything: the seed update still succeeds.
    assert_eq!(
        call(&sandbox, UPDATE_QRCODE, &seed_update())["errCode"],
        "SUCCESS"
    );
}

#[test]
fn unknown_qr_code_is_no_order() {
    let sandbox = fixed_sandbox();
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(
            seed_update(),
            json!({"qrCodeId": "31940000000000000000000000"}),
        ),
    );
    assert_eq!(reply["errCode"], "NO_ORDER");
    assert_eq!(reply["errMsg"], "二维码不存在");
}

#[test]
fn another_merchant_may_not_update_the_code() {
    let sandbox = fixed_sandbox();
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"mid": demo::SECOND_MID})),
    );
    assert_eq!(reply["errCode"], "OPERATION_NOT_ALLOWED");
    assert!(err_msg(&reply).contains("mid"), "{reply}");
    assert_eq!(reply["mid"], demo::SECOND_MID);
    // An unknown merchant is NO_MERCHANT.
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"mid": "898340149009999"})),
    );
    assert_eq!(reply["errCode"], "NO_MERCHANT");
    // The other official terminal number is accepted for the demo merchant.
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"tid": demo::TID_ALT})),
    );
    assert_eq!(reply["errCode"], "SUCCESS", "{reply}");
}

#[test]
fn common_fields_are_checked() {
    let sandbox = fixed_sandbox();
    let cases = [
        (
            json!({"requestTimestamp": null}),
            "BAD_REQUEST",
            "requestTimestamp",
        ),
        (
            json!({"requestTimestamp": "20200226133600"}),
            "BAD_REQUEST",
            "requestTimestamp",
        ),
        (
            json!({"requestTimestamp": "2020-02-26 05:36:00"}),
            "ABNORMAL_REQUEST_TIME",
            "requestTimestamp",
        ),
        (json!({"mid": "89834014900000"}), "BAD_REQUEST", "mid"),
        (json!({"mid": null}), "BAD_REQUEST", "mid"),
        (json!({"tid": "0000001"}), "BAD_REQUEST", "tid"),
        (json!({"tid": "00000002"}), "NO_MERCHANT", "tid"),
        (json!({"instMid": "H5DEFAULT"}), "BAD_REQUEST", "instMid"),
        (json!({"mid": 898340149000005u64}), "BAD_REQUEST", "mid"),
    ];
    for (change, code, field) in cases {
        let reply = call(
            &sandbox,
            GET_QRCODE,
            &with(common(json!({})), change.clone()),
        );
        assert_eq!(reply["errCode"], code, "{change}: {reply}");
        assert!(err_msg(&reply).contains(field), "{change}: {reply}");
        assert!(reply["responseTimeStamp"].is_string());
    }
}

#[test]
fn get_qrcode_makes_the_three_kinds_of_code() {
    let sandbox = fixed_sandbox();
    let id_ok = |id: &str| {
        id.len() == 26 && id.starts_with("3194") && id.bytes().all(|b| b.is_ascii_digit())
    };

    let fixed = call(
        &sandbox,
        GET_QRCODE,
        &common(json!({"msgId": "m1", "srcReserve": "r"})),
    );
    assert_eq!(fixed["errCode"], "SUCCESS", "{fixed}");
    let id = fixed["qrCodeId"].as_str().unwrap();
    assert!(id_ok(id), "{id}");
    assert_eq!(
        fixed["billQRCode"],
        format!("https://qr-test2.chinaums.com/bills/qrCode.do?id={id}")
    );
    assert_eq!(fixed["systemId"], id);
    assert_eq!(
        (fixed["msgId"].as_str(), fixed["srcReserve"].as_str()),
        (Some("m1"), Some("r"))
    );
    assert_eq!(fixed["mid"], demo::MID);
    assert!(fixed.get("billNo").is_none());

    let with_amount = call(
        &sandbox,
        GET_QRCODE,
        &common(json!({"totalAmount": 100_000_000, "systemId": "SYS1"})),
    );
    assert_eq!(with_amount["errCode"], "SUCCESS", "{with_amount}");
    assert_eq!(with_amount["systemId"], "SYS1");
    assert_ne!(with_amount["qrCodeId"], fixed["qrCodeId"]);

    let one_off = call(
        &sandbox,
        GET_QRCODE,
        &common(
            json!({"billNo": "31942020022600001", "billDate": "2020-02-26", "totalAmount": 1,
                       "expireTime": "2020-05-25 13:36:00", "goods": [{"goodsId": "1", "price": 1}]}),
        ),
    );
    assert_eq!(one_off["errCode"], "SUCCESS", "{one_off}");
    assert_eq!(one_off["billNo"], "31942020022600001");
    assert_eq!(one_off["billDate"], "2020-02-26");
    assert!(id_ok(one_off["qrCodeId"].as_str().unwrap()));

    let dup = call(
        &sandbox,
        GET_QRCODE,
        &common(json!({"billNo": "31942020022600001", "billDate": "2020-02-27", "totalAmount": 5})),
    );
    assert_eq!(
        (dup["errCode"].as_str(), dup["errMsg"].as_str()),
        (Some("DUP_ORDER"), Some("账单号重复"))
    );

    // A bill number already used by another code is a duplicate on update too.
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &with(seed_update(), json!({"billNo": "31942020022600001"})),
    );
    assert_eq!(reply["errCode"], "DUP_ORDER");

    // Codes made by get-qrcode can be updated.
    let reply = call(
        &sandbox,
        UPDATE_QRCODE,
        &common(
            json!({"qrCodeId": fixed["qrCodeId"], "billNo": "B2", "billDate": "2020-02-26", "totalAmount": 7}),
        ),
    );
    assert_eq!(reply["errCode"], "SUCCESS", "{reply}");
    assert_eq!(reply["systemId"], fixed["qrCodeId"]);
}

#[test]
fn get_qrcode_refusals() {
    let sandbox = fixed_sandbox();
    let cases = [
        (
            json!({"billNo": "B1", "billDate": "2020-02-26"}),
            "totalAmount",
        ),
        (json!({"billNo": "B1", "totalAmount": 1}), "billDate"),
        (
            json!({"billDate": "2020-02-26", "totalAmount": 1}),
            "billNo",
        ),
        (json!({"totalAmount": 0}), "totalAmount"),
        (json!({"totalAmount": 100_000_001}), "totalAmount"),
        (json!({"totalAmount": 1.5}), "totalAmount"),
        (
            json!({"billNo": "B1", "billDate": "2020-02-26", "totalAmount": 1, "expireTime": "2020-05-26 13:36:01"}),
            "90",
        ),
        (
            json!({"totalAmount": 1, "expireTime": "2020-02-26 13:36:00"}),
            "expireTime",
        ),
        (json!({"goods": {"goodsId": "1"}}), "goods"),
        (json!({"clientIp": "1.1.1"}), "clientIp"),
        (json!({"isEfrcPs": "yes"}), "isEfrcPs"),
        (
            json!({"subMchntInfo": "{\"subMerId\":\"123456789012345678901\"}"}),
            "subMchntInfo",
        ),
        (json!({"billDesc": "汉".repeat(129)}), "billDesc"),
    ];
    for (change, needle) in cases {
        let reply = call(&sandbox, GET_QRCODE, &common(change.clone()));
        assert_eq!(reply["errCode"], "BAD_REQUEST", "{change}: {reply}");
        assert!(err_msg(&reply).contains(needle), "{change}: {reply}");
    }
    // Fixed codes may live longer than 90 days.
    let reply = call(
        &sandbox,
        GET_QRCODE,
        &common(json!({"totalAmount": 1, "expireTime": "2025-01-01 00:00:00"})),
    );
    assert_eq!(reply["errCode"], "SUCCESS", "{reply}");
}

/// update-qrcode with a new billNo puts a NEW bill on the code: optional
/// fields the new request leaves out are not carried over from the previous
/// bill (before the fix, the new bill inherited billDesc, memberId, goods,
/// notifyUrl ... and its payment notification echoed the old memberId).
#[test]
fn a_new_bill_does_not_inherit_the_previous_bills_optional_fields() {
    let sandbox = fixed_sandbox();
    let first = with(
        seed_update(),
        json!({"billNo": "31940001", "billDesc": "first bill", "memberId": "M1"}),
    );
    assert_eq!(call(&sandbox, UPDATE_QRCODE, &first)["errCode"], "SUCCESS");
    let second = common(json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": "31940002",
        "billDate": "2020-02-26",
        "totalAmount": 7,
    }));
    assert_eq!(call(&sandbox, UPDATE_QRCODE, &second)["errCode"], "SUCCESS");
    let bill = call(
        &sandbox,
        "/v1/netpay/bills/query",
        &common(json!({"billNo": "31940002", "billDate": "2020-02-26"})),
    );
    assert_eq!(bill["errCode"], "SUCCESS", "{bill}");
    assert_eq!(bill["totalAmount"], 7);
    assert!(bill.get("billDesc").is_none(), "inherited: {bill}");
    let info = call(
        &sandbox,
        "/v1/netpay/bills/query-qrcode-info",
        &with(
            common(json!({
                "qrCodeId": demo::SEED_QR_CODE_ID,
                "systemId": demo::SEED_QR_CODE_ID,
            })),
            json!({"tid": null}),
        ),
    );
    assert_eq!(info["errCode"], "SUCCESS", "{info}");
    for field in ["billDesc", "memberId", "goods", "notifyUrl", "counterNo"] {
        assert!(info.get(field).is_none(), "{field} inherited: {info}");
    }
    // Its payment notification does not echo the first bill's memberId or
    // billDesc either (a third bill with its own notifyUrl: not loopback,
    // so recorded with its signed body and never sent).
    let third = common(json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": "31940003",
        "billDate": "2020-02-26",
        "totalAmount": 8,
        "notifyUrl": "http://www.test.com/third",
    }));
    assert_eq!(call(&sandbox, UPDATE_QRCODE, &third)["errCode"], "SUCCESS");
    let paid = post(
        &agent(),
        &format!("{}/_sandbox/pay", sandbox.base_url()),
        &[],
        &json!({"qrCodeId": demo::SEED_QR_CODE_ID}).to_string(),
    );
    assert_eq!(paid.json["billNo"], "31940003", "{}", paid.text);
    let body = &sandbox.notifications()[0].body;
    let note = chinaums::notify::verify(demo::NOTIFY_KEY, body.as_bytes()).expect("verifies");
    assert_eq!(note.get("billNo"), Some("31940003"));
    for field in ["memberId", "billDesc"] {
        assert_eq!(note.get(field), Some(""), "{field} inherited: {body}");
    }
}

/// The official samples send `totalAmount` as a string ("26"): the gateway
/// takes it (docs/protocol.md §4.1), and so does the simulator by default;
/// `--strict` (SandboxConfig::strict_types) wants the documented JSON
/// integer. Anything but plain digits is refused in both modes.
#[test]
fn amounts_as_digit_strings_are_accepted_unless_strict() {
    let lenient = fixed_sandbox();
    let strict = Sandbox::start(ums_sandbox::SandboxConfig {
        clock: std::sync::Arc::new(chinaums::clock::FixedClock(NOW)),
        strict_types: true,
        ..ums_sandbox::SandboxConfig::default()
    })
    .expect("sandbox starts");
    let sample = with(seed_update(), json!({"totalAmount": "26"}));
    let ok = call(&lenient, UPDATE_QRCODE, &sample);
    assert_eq!(ok["errCode"], "SUCCESS", "{ok}");
    let bill = call(
        &lenient,
        "/v1/netpay/bills/query",
        &common(json!({"billNo": "8888", "billDate": "2020-02-26"})),
    );
    assert_eq!(bill["totalAmount"], 26, "stored as the integer: {bill}");
    let refused = call(&strict, UPDATE_QRCODE, &sample);
    assert_eq!(refused["errCode"], "BAD_REQUEST", "{refused}");
    assert!(err_msg(&refused).contains("totalAmount"), "{refused}");
    for bad in ["26.0", "-1", " 26", "0x1A", "", "99999999999999999999"] {
        for sandbox in [&lenient, &strict] {
            let body = common(json!({"totalAmount": bad}));
            let reply = call(sandbox, GET_QRCODE, &body);
            if bad.is_empty() {
                // An empty optional value counts as absent: a fixed code.
                assert_eq!(reply["errCode"], "SUCCESS", "{bad:?}: {reply}");
                continue;
            }
            assert_eq!(reply["errCode"], "BAD_REQUEST", "{bad:?}: {reply}");
            assert!(err_msg(&reply).contains("totalAmount"), "{bad:?}: {reply}");
        }
    }
    // get-qrcode of a one-off code with the amount as digits.
    let one_off = call(
        &lenient,
        GET_QRCODE,
        &common(json!({"billNo": "S1", "billDate": "2020-02-26", "totalAmount": "7"})),
    );
    assert_eq!(one_off["errCode"], "SUCCESS", "{one_off}");
}
