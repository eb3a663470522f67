//! The bills operations (docs/protocol.md §4): each one's path, field table,
//! cross-field rules, and whether it moves money (which decides what the
//! client may ever resend).

pub mod rules;

use crate::error::{Error, Result};
use rules::{is_absent, opt, req, Field, Rule};
use serde_json::{Map, Value};

/// One gateway operation.
#[derive(Debug)]
pub struct Operation {
    /// Short name used by the CLI and bindings (`update-qrcode`).
    pub name: &'static str,
    /// Service path below the base URL (`/v1/netpay/bills/update-qrcode`).
    pub path: &'static str,
    /// Every field the client checks; others pass through untouched.
    pub fields: &'static [Field],
    /// Rules that involve more than one field.
    pub cross_check: fn(&Map<String, Value>) -> Result<()>,
    /// Whether the call can move money or change a bill: such a call is never
    /// resent once it may have reached the gateway.
    pub money_moving: bool,
    /// Where a successful answer says whether the effect is final; `None`
    /// when `errCode` SUCCESS alone means done.
    pub settlement: Option<Settlement>,
}

/// How a successful answer (`errCode` SUCCESS) tells whether the operation's
/// effect is final (docs/protocol.md §6, end): the state at `path` is *done* when
/// it is one of `done`, *failed* (final, nothing moved) when one of
/// `failed`, and *pending* otherwise, absent included: "query until final"
/// is the only safe reading of a state the client does not know.
#[derive(Debug)]
pub struct Settlement {
    /// The state field: a top-level name, or an object field then its member.
    pub path: &'static [&'static str],
    pub done: &'static [&'static str],
    pub failed: &'static [&'static str],
}

/// What a successful answer says about the operation's effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Final and done (or the operation has no state to read).
    Done,
    /// Final and not done; the state read.
    Failed(String),
    /// Not final: query until it is; the state read (empty when absent).
    Pending(String),
}

impl Settlement {
    /// The state field's name as shown to callers (`authedBillPayment.status`).
    pub fn field_name(&self) -> String {
        self.path.join(".")
    }

    /// Reads the state from a successful answer.
    pub fn read(&self, answer: &Value) -> Settled {
        let state = self
            .path
            .iter()
            .try_fold(answer, |v, key| v.get(key))
            .and_then(Value::as_str)
            .unwrap_or("");
        if self.done.contains(&state) {
            Settled::Done
        } else if self.failed.contains(&state) {
            Settled::Failed(state.to_string())
        } else {
            Settled::Pending(state.to_string())
        }
    }
}

impl Operation {
    /// Whether `field` is one of this operation's fields (so a default applies).
    pub fn has_field(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f.name == field)
    }
}

const CERT_TYPES: &[&str] = &[
    "IDENTITY_CARD",
    "PASSPORT",
    "OFFICER_CARD",
    "SOLDIER_CARD",
    "HOKOU",
];
const WALLET_OPTIONS: &[&str] = &["SINGLE", "MULTIPLE"];
const INSTALLMENTS: &[i64] = &[3, 6, 12];

/// Amount limit of get-qrcode and refunds (the 2020 PDF).
const MAX_AMOUNT: i64 = 100_000_000;
/// Amount limit of update-qrcode (the seed page).
const MAX_UPDATE_AMOUNT: i64 = 1_000_000;

macro_rules! common_fields {
    () => {
        [
            req("requestTimestamp", Rule::DateTime),
            req("mid", Rule::Exact(15)),
            req("tid", Rule::Exact(8)),
            req("instMid", Rule::Text { min: 1, max: 32 }),
            opt("msgId", Rule::Text { min: 1, max: 64 }),
            opt("srcReserve", Rule::Text { min: 1, max: 255 }),
        ]
    };
}

/// The fields a bill carries in get-qrcode and update-qrcode.
macro_rules! bill_fields {
    ($bill_no_min:expr, $max_amount:expr) => {
        [
            opt(
                "billNo",
                Rule::Text {
                    min: $bill_no_min,
                    max: 31,
                },
            ),
            opt("billDate", Rule::Date),
            opt("billDesc", Rule::Wide { max: 255 }),
            opt(
                "totalAmount",
                Rule::Amount {
                    min: 1,
                    max: $max_amount,
                },
            ),
            opt("goods", Rule::Goods),
            opt("memberId", Rule::Text { min: 1, max: 32 }),
            opt("counterNo", Rule::Text { min: 1, max: 32 }),
            opt("expireTime", Rule::DateTime),
            opt("notifyUrl", Rule::Text { min: 1, max: 256 }),
            opt("returnUrl", Rule::Text { min: 1, max: 256 }),
            opt("systemId", Rule::Text { min: 1, max: 32 }),
            opt("secureTransaction", Rule::BoolText),
            opt("preauthTransaction", Rule::BoolText),
            opt("walletOption", Rule::OneOf(WALLET_OPTIONS)),
            opt("name", Rule::RealName { max: 32 }),
            opt("mobile", Rule::RealName { max: 20 }),
            opt("certType", Rule::OneOf(CERT_TYPES)),
            opt("certNo", Rule::RealName { max: 32 }),
            opt("fixBuyer", Rule::Text { min: 1, max: 32 }),
            opt("installmentNumber", Rule::IntOneOf(INSTALLMENTS)),
            opt("retCommParams", Rule::RetCommParams),
            opt("attachedData", Rule::Text { min: 1, max: 255 }),
            opt("clientIp", Rule::Text { min: 1, max: 64 }),
            opt("isEfrcPs", Rule::Bool),
            opt("psPpt", Rule::Text { min: 1, max: 60 }),
            opt("subMchntInfo", Rule::SubMchntInfo),
        ]
    };
}

const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [Field; A],
    b: [Field; B],
) -> [Field; C] {
    assert!(A + B == C);
    let mut out = [a[0]; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

static UPDATE_QRCODE_FIELDS: [Field; 33] = concat(
    common_fields!(),
    concat::<1, 26, 27>(
        [req("qrCodeId", Rule::Text { min: 1, max: 32 })],
        bill_fields!(1, MAX_UPDATE_AMOUNT),
    ),
);

static GET_QRCODE_FIELDS: [Field; 33] = concat(
    common_fields!(),
    concat::<1, 26, 27>(
        [opt("qrCodeId", Rule::Text { min: 1, max: 32 })],
        bill_fields!(6, MAX_AMOUNT),
    ),
);

/// `bills/update-qrcode`: bind a new bill to an existing QR code.
pub static UPDATE_QRCODE: Operation = Operation {
    name: "update-qrcode",
    path: "/v1/netpay/bills/update-qrcode",
    fields: &UPDATE_QRCODE_FIELDS,
    cross_check: check_bill,
    money_moving: true,
    settlement: None,
};

/// `bills/get-qrcode`: create a one-off or fixed QR code.
pub static GET_QRCODE: Operation = Operation {
    name: "get-qrcode",
    path: "/v1/netpay/bills/get-qrcode",
    fields: &GET_QRCODE_FIELDS,
    cross_check: check_get_qrcode,
    money_moving: true,
    settlement: None,
};

static CLOSE_QRCODE_FIELDS: [Field; 9] = concat(
    common_fields!(),
    [
        req("qrCodeId", Rule::Text { min: 1, max: 32 }),
        opt("attachRefund", Rule::Bool),
        opt("systemId", Rule::Text { min: 1, max: 32 }),
    ],
);

static QUERY_BILL_FIELDS: [Field; 10] = concat(
    common_fields!(),
    [
        req("billNo", Rule::Text { min: 1, max: 32 }),
        req("billDate", Rule::Date),
        opt("refundOrderId", Rule::Text { min: 6, max: 32 }),
        opt("authedOrderId", Rule::Text { min: 1, max: 32 }),
    ],
);

static REFUND_FIELDS: [Field; 13] = concat(
    common_fields!(),
    [
        req("billNo", Rule::Text { min: 1, max: 32 }),
        req("billDate", Rule::Date),
        req(
            "refundAmount",
            Rule::Amount {
                min: 1,
                max: MAX_AMOUNT,
            },
        ),
        opt("refundOrderId", Rule::Text { min: 6, max: 32 }),
        opt("refundDesc", Rule::Wide { max: 255 }),
        opt(
            "platformAmount",
            Rule::Amount {
                min: 0,
                max: MAX_AMOUNT,
            },
        ),
        opt("subOrders", Rule::SubOrders),
    ],
);

/// query-qrcode-info has no `tid` (docs/protocol.md §4).
static QUERY_QRCODE_INFO_FIELDS: [Field; 7] = [
    req("requestTimestamp", Rule::DateTime),
    req("mid", Rule::Exact(15)),
    req("instMid", Rule::Text { min: 1, max: 32 }),
    opt("msgId", Rule::Text { min: 1, max: 64 }),
    opt("srcReserve", Rule::Text { min: 1, max: 255 }),
    req("qrCodeId", Rule::Text { min: 1, max: 32 }),
    req("systemId", Rule::Text { min: 1, max: 32 }),
];

static PREAUTH_COMPLETE_FIELDS: [Field; 12] = concat(
    common_fields!(),
    [
        req("billNo", Rule::Text { min: 1, max: 32 }),
        req("billDate", Rule::Date),
        req("authedOrderId", Rule::Text { min: 1, max: 32 }),
        req("authIdRespCd", Rule::Text { min: 1, max: 32 }),
        req(
            "totalAmount",
            Rule::Amount {
                min: 1,
                max: MAX_AMOUNT,
            },
        ),
        req("authedDesc", Rule::Wide { max: 255 }),
    ],
);

static PREAUTH_CANCEL_FIELDS: [Field; 10] = concat(
    common_fields!(),
    [
        req("billNo", Rule::Text { min: 1, max: 32 }),
        req("billDate", Rule::Date),
        req("cancelOrderId", Rule::Text { min: 1, max: 32 }),
        req("authIdRespCd", Rule::Text { min: 1, max: 32 }),
    ],
);

static SECURE_CANCEL_FIELDS: [Field; 7] = concat(
    common_fields!(),
    [req("merOrderId", Rule::Text { min: 6, max: 32 })],
);

static SECURE_COMPLETE_FIELDS: [Field; 8] = concat(
    common_fields!(),
    [
        req("merOrderId", Rule::Text { min: 6, max: 32 }),
        req(
            "completedAmount",
            Rule::Amount {
                min: 1,
                max: MAX_AMOUNT,
            },
        ),
    ],
);

fn no_cross_check(_: &Map<String, Value>) -> Result<()> {
    Ok(())
}

/// `bills/close-qrcode`: close a code (optionally refunding a paid one-off code).
pub static CLOSE_QRCODE: Operation = Operation {
    name: "close-qrcode",
    path: "/v1/netpay/bills/close-qrcode",
    fields: &CLOSE_QRCODE_FIELDS,
    cross_check: no_cross_check,
    money_moving: true,
    settlement: None,
};

/// `bills/query`: a bill's status and payment; with `refundOrderId`, that refund.
pub static QUERY_BILL: Operation = Operation {
    name: "query-bill",
    path: "/v1/netpay/bills/query",
    fields: &QUERY_BILL_FIELDS,
    cross_check: no_cross_check,
    money_moving: false,
    settlement: None,
};

/// `bills/refund`: refund part or all of a paid bill.
pub static REFUND: Operation = Operation {
    name: "refund",
    path: "/v1/netpay/bills/refund",
    fields: &REFUND_FIELDS,
    cross_check: check_refund,
    money_moving: true,
    settlement: Some(Settlement {
        path: &["refundStatus"],
        done: &["SUCCESS"],
        failed: &["FAIL"],
    }),
};

/// `bills/query-qrcode-info`: the bill a code currently carries.
pub static QUERY_QRCODE_INFO: Operation = Operation {
    name: "query-qrcode-info",
    path: "/v1/netpay/bills/query-qrcode-info",
    fields: &QUERY_QRCODE_INFO_FIELDS,
    cross_check: no_cross_check,
    money_moving: false,
    settlement: None,
};

/// `bills/preauthed`: complete a pre-authorisation.
pub static PREAUTH_COMPLETE: Operation = Operation {
    name: "preauth-complete",
    path: "/v1/netpay/bills/preauthed",
    fields: &PREAUTH_COMPLETE_FIELDS,
    cross_check: no_cross_check,
    money_moving: true,
    settlement: Some(Settlement {
        path: &["authedBillPayment", "status"],
        done: &["TRADE_SUCCESS"],
        failed: &["TRADE_CLOSED"],
    }),
};

/// `bills/preauth-cancel`: cancel a pre-authorisation.
pub static PREAUTH_CANCEL: Operation = Operation {
    name: "preauth-cancel",
    path: "/v1/netpay/bills/preauth-cancel",
    fields: &PREAUTH_CANCEL_FIELDS,
    cross_check: no_cross_check,
    money_moving: true,
    settlement: Some(Settlement {
        path: &["cancelBillPayment", "status"],
        done: &["TRADE_CLOSED"],
        failed: &[],
    }),
};

/// `secure-cancel`: cancel a guaranteed trade.
pub static SECURE_CANCEL: Operation = Operation {
    name: "secure-cancel",
    path: "/v1/netpay/secure-cancel",
    fields: &SECURE_CANCEL_FIELDS,
    cross_check: no_cross_check,
    money_moving: true,
    settlement: Some(Settlement {
        path: &["secureStatus"],
        done: &["CANCELED"],
        failed: &[],
    }),
};

/// `secure-complete`: complete (release) a guaranteed trade.
pub static SECURE_COMPLETE: Operation = Operation {
    name: "secure-complete",
    path: "/v1/netpay/secure-complete",
    fields: &SECURE_COMPLETE_FIELDS,
    cross_check: no_cross_check,
    money_moving: true,
    settlement: Some(Settlement {
        path: &["secureStatus"],
        done: &["PARTLY_COMPLETED", "ALL_COMPLETED"],
        failed: &["CANCELED"],
    }),
};

/// Every operation the client knows, for lookup by name or path.
pub static ALL: &[&Operation] = &[
    &GET_QRCODE,
    &UPDATE_QRCODE,
    &CLOSE_QRCODE,
    &QUERY_BILL,
    &REFUND,
    &QUERY_QRCODE_INFO,
    &PREAUTH_COMPLETE,
    &PREAUTH_CANCEL,
    &SECURE_CANCEL,
    &SECURE_COMPLETE,
];

/// The operation for a short name (`update-qrcode`) or a service path.
pub fn find(name_or_path: &str) -> Option<&'static Operation> {
    ALL.iter()
        .copied()
        .find(|op| op.name == name_or_path || op.path == name_or_path)
}

fn present(request: &Map<String, Value>, field: &str) -> bool {
    !is_absent(request.get(field))
}

/// Rules between bill fields: a bill number is dated, and the real-name
/// checks of docs/protocol.md §4.1.
fn check_bill(request: &Map<String, Value>) -> Result<()> {
    if present(request, "billNo") && !present(request, "billDate") {
        return Err(Error::validation(
            "billDate",
            "is required with billNo (yyyy-MM-dd)",
        ));
    }
    if request.get("fixBuyer").and_then(Value::as_str) == Some("T") {
        for field in ["name", "certNo"] {
            if !present(request, field) {
                return Err(Error::validation(
                    field,
                    "is required when fixBuyer is \"T\" (real-name check)",
                ));
            }
        }
    }
    Ok(())
}

/// A one-off code needs `billNo`, `billDate` and `totalAmount` together.
fn check_get_qrcode(request: &Map<String, Value>) -> Result<()> {
    check_bill(request)?;
    let one_off = ["billNo", "billDate"];
    if one_off.iter().any(|f| present(request, f)) {
        for field in ["billNo", "billDate", "totalAmount"] {
            if !present(request, field) {
                return Err(Error::validation(
                    field,
                    "is required for a one-off code (billNo, billDate and totalAmount go together)",
                ));
            }
        }
    }
    if present(request, "walletOption") && !present(request, "billNo") {
        return Err(Error::validation(
            "walletOption",
            "applies to one-off codes only (with billNo)",
        ));
    }
    Ok(())
}

/// A platform share cannot exceed the refund it is part of.
fn check_refund(request: &Map<String, Value>) -> Result<()> {
    let refund = request.get("refundAmount").and_then(Value::as_i64);
    let platform = request.get("platformAmount").and_then(Value::as_i64);
    if let (Some(refund), Some(platform)) = (refund, platform) {
        if platform > refund {
            return Err(Error::validation(
                "platformAmount",
                "must not exceed refundAmount",
            ));
        }
    }
    Ok(())
}
