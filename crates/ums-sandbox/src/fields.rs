//! Field checks of business requests (docs/protocol.md §4, §4.1).
//!
//! Every failure is a [`Reject`] whose message names the field and the rule.
//! An optional field that is absent, `null` or the empty string counts as
//! absent. Lengths count Unicode characters unless a rule says bytes.

use base64::Engine as _;
use chinaums::clock::BeijingTime;
use serde_json::{Map, Value};

/// The amount fields (fen) of business requests.
pub(crate) const AMOUNT_FIELDS: [&str; 4] = [
    "totalAmount",
    "refundAmount",
    "platformAmount",
    "completedAmount",
];

/// Turns amounts sent as strings of decimal digits (`"26"`, as the official
/// samples send `totalAmount`) into JSON integers, as the gateway accepts
/// them (docs/protocol.md §4.1: typed as a number, sent as a string by the
/// de facto clients). Anything else (`"26.0"`, `" 26"`, `"-1"`, `"abc"`,
/// more than 18 digits) is left as it is and refused by the field check
/// with its usual message. Not applied in strict mode (`--strict`).
pub(crate) fn accept_digit_string_amounts(body: &mut Map<String, Value>) {
    for key in AMOUNT_FIELDS {
        let Some(Value::String(text)) = body.get(key) else {
            continue;
        };
        let digits =
            !text.is_empty() && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit());
        if let Some(amount) = digits.then(|| text.parse::<u64>().ok()).flatten() {
            body.insert(key.to_string(), Value::from(amount));
        }
    }
}

/// A business refusal: HTTP 200 with this `errCode` and `errMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub code: &'static str,
    pub message: String,
}

impl Reject {
    pub fn new(code: &'static str, message: impl Into<String>) -> Reject {
        Reject {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Reject {
        Reject::new("BAD_REQUEST", message)
    }
}

pub(crate) type Checked<T> = Result<T, Reject>;

/// Read access to the request object with the checks above.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The raw value, `None` when absent, null or "".
    pub fn present(&self, name: &str) -> Option<&'a Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(v) => Some(v),
        }
    }

    pub fn opt_str(&self, name: &str, max_chars: usize) -> Checked<Option<&'a str>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let Value::String(s) = value else {
            return Err(Reject::bad_request(format!("{name} 必须是字符串")));
        };
        if s.chars().count() > max_chars {
            return Err(Reject::bad_request(format!(
                "{name} 超过最大长度 {max_chars}"
            )));
        }
        Ok(Some(s.as_str()))
    }

    pub fn req_str(&self, name: &str, max_chars: usize) -> Checked<&'a str> {
        self.opt_str(name, max_chars)?
            .ok_or_else(|| Reject::bad_request(format!("缺少必填字段 {name}")))
    }

    /// A string of exactly `len` characters (mid: 15, tid: 8).
    pub fn req_fixed_len(&self, name: &str, len: usize) -> Checked<&'a str> {
        let s = self.req_str(name, usize::MAX)?;
        if s.chars().count() != len {
            return Err(Reject::bad_request(format!("{name} 必须是 {len} 位")));
        }
        Ok(s)
    }

    /// A string of visible ASCII without spaces (identifiers such as billNo).
    pub fn opt_ident(&self, name: &str, max_chars: usize) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, max_chars)?;
        if let Some(s) = value {
            if !s.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Reject::bad_request(format!(
                    "{name} 只能包含可见 ASCII 字符"
                )));
            }
        }
        Ok(value)
    }

    /// Like [`Fields::opt_ident`], at least `min_chars` long.
    pub fn opt_ident_range(
        &self,
        name: &str,
        min_chars: usize,
        max_chars: usize,
    ) -> Checked<Option<&'a str>> {
        let value = self.opt_ident(name, max_chars)?;
        if let Some(s) = value {
            if s.chars().count() < min_chars {
                return Err(Reject::bad_request(format!(
                    "{name} 长度必须在 {min_chars}..={max_chars} 之间"
                )));
            }
        }
        Ok(value)
    }

    /// A required identifier of `min_chars..=max_chars` visible ASCII characters.
    pub fn req_ident(&self, name: &str, min_chars: usize, max_chars: usize) -> Checked<&'a str> {
        self.opt_ident_range(name, min_chars, max_chars)?
            .ok_or_else(|| Reject::bad_request(format!("缺少必填字段 {name}")))
    }

    /// A required amount in fen (see [`Fields::opt_amount`]).
    pub fn req_amount(&self, name: &str, min: u64, max: u64) -> Checked<u64> {
        self.opt_amount(name, min, max)?
            .ok_or_else(|| Reject::bad_request(format!("缺少必填字段 {name}")))
    }

    /// A required `yyyy-MM-dd` date.
    pub fn req_date(&self, name: &str) -> Checked<&'a str> {
        self.opt_date(name)?
            .ok_or_else(|| Reject::bad_request(format!("缺少必填字段 {name}")))
    }

    /// Free text of at most 255 characters and at most 128 Chinese
    /// characters (each non-ASCII character counts as two of a 256 budget),
    /// like `billDesc`.
    pub fn opt_wide(&self, name: &str) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 255)?;
        if let Some(text) = value {
            let width: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            if width > 256 {
                return Err(Reject::bad_request(format!(
                    "{name} 超过最大长度 (不超过 128 个汉字)"
                )));
            }
        }
        Ok(value)
    }

    /// A JSON array of objects (`subOrders`).
    pub fn opt_object_array(&self, name: &str) -> Checked<Option<&'a Vec<Value>>> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => Ok(Some(items)),
            Some(_) => Err(Reject::bad_request(format!("{name} 必须是 JSON 对象数组"))),
        }
    }

    /// An amount in fen: a JSON integer within `min..=max`.
    pub fn opt_amount(&self, name: &str, min: u64, max: u64) -> Checked<Option<u64>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let amount = match value {
            Value::Number(n) if n.is_u64() => n.as_u64().unwrap_or(0),
            Value::Number(n) if n.is_i64() => {
                return Err(Reject::bad_request(format!(
                    "{name} 必须在 {min}..={max} 之间 (单位: 分)"
                )))
            }
            _ => {
                return Err(Reject::bad_request(format!(
                    "{name} 必须是 JSON 整数 (单位: 分)"
                )))
            }
        };
        if !(min..=max).contains(&amount) {
            return Err(Reject::bad_request(format!(
                "{name} 必须在 {min}..={max} 之间 (单位: 分)"
            )));
        }
        Ok(Some(amount))
    }

    /// `yyyy-MM-dd`.
    pub fn opt_date(&self, name: &str) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 10)?;
        if let Some(s) = value {
            if BeijingTime::parse_date(s).is_none() {
                return Err(Reject::bad_request(format!(
                    "{name} 必须是 yyyy-MM-dd 格式的日期"
                )));
            }
        }
        Ok(value)
    }

    /// `yyyy-MM-dd HH:mm:ss` (Beijing time), as Unix milliseconds.
    pub fn opt_date_time(&self, name: &str) -> Checked<Option<i64>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        match value.as_str().and_then(BeijingTime::parse_date_time) {
            Some(t) => Ok(Some(t.to_unix_millis())),
            None => Err(Reject::bad_request(format!(
                "{name} 必须是 yyyy-MM-dd HH:mm:ss 格式的时间"
            ))),
        }
    }

    pub fn opt_enum(&self, name: &str, allowed: &[&str]) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 64)?;
        if let Some(s) = value {
            if !allowed.contains(&s) {
                return Err(Reject::bad_request(format!(
                    "{name} 必须是 {} 之一",
                    allowed.join(" / ")
                )));
            }
        }
        Ok(value)
    }

    /// Real-name fields travel Base64-encoded; the limit is on the encoded
    /// text. The decoded value must be UTF-8. The value never appears in a
    /// message (it is personal data).
    pub fn opt_base64(&self, name: &str, max_chars: usize) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, max_chars)?;
        if let Some(s) = value {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| Reject::bad_request(format!("{name} 必须是 Base64 编码")))?;
            if decoded.is_empty() || std::str::from_utf8(&decoded).is_err() {
                return Err(Reject::bad_request(format!(
                    "{name} 解码后必须是非空 UTF-8 文本"
                )));
            }
        }
        Ok(value)
    }

    /// The strings "true" / "false".
    pub fn opt_bool_string(&self, name: &str) -> Checked<Option<&'a str>> {
        self.opt_enum(name, &["true", "false"])
    }

    /// A JSON boolean (also "true"/"false").
    pub fn opt_bool(&self, name: &str) -> Checked<Option<bool>> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(_) => Err(Reject::bad_request(format!("{name} 必须是布尔值"))),
        }
    }

    /// An integer from `allowed`, sent as a JSON integer or a digit string.
    pub fn opt_int_choice(&self, name: &str, allowed: &[u64]) -> Checked<Option<u64>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let n = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            _ => None,
        };
        match n {
            Some(n) if allowed.contains(&n) => Ok(Some(n)),
            _ => {
                let list: Vec<String> = allowed.iter().map(u64::to_string).collect();
                Err(Reject::bad_request(format!(
                    "{name} 必须是 {} 之一",
                    list.join(" / ")
                )))
            }
        }
    }

    /// An `http://` or `https://` URL.
    pub fn opt_url(&self, name: &str) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 2048)?;
        if let Some(s) = value {
            let rest = s
                .strip_prefix("http://")
                .or_else(|| s.strip_prefix("https://"));
            let valid = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
                && s.bytes().all(|b| b.is_ascii_graphic());
            if !valid {
                return Err(Reject::bad_request(format!(
                    "{name} 必须是 http:// 或 https:// 开头的地址"
                )));
            }
        }
        Ok(value)
    }

    pub fn opt_ip(&self, name: &str) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 64)?;
        if let Some(s) = value {
            if s.parse::<std::net::IpAddr>().is_err() {
                return Err(Reject::bad_request(format!("{name} 必须是 IP 地址")));
            }
        }
        Ok(value)
    }

    /// `goods`: a JSON array of objects whose text fields are strings and
    /// whose numeric fields are integers or digit strings.
    pub fn opt_goods(&self, name: &str) -> Checked<Option<&'a Value>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(Reject::bad_request(format!(
                "{name} 必须是 JSON 数组 (不是字符串)"
            )));
        };
        for (i, item) in items.iter().enumerate() {
            let Value::Object(goods) = item else {
                return Err(Reject::bad_request(format!("{name}[{i}] 必须是 JSON 对象")));
            };
            for key in [
                "goodsId",
                "goodsName",
                "goodsCategory",
                "body",
                "subMerchantId",
                "merOrderId",
            ] {
                if !matches!(
                    goods.get(key),
                    None | Some(Value::Null) | Some(Value::String(_))
                ) {
                    return Err(Reject::bad_request(format!(
                        "{name}[{i}].{key} 必须是字符串"
                    )));
                }
            }
            for key in ["quantity", "price", "subOrderAmount"] {
                let ok = match goods.get(key) {
                    None | Some(Value::Null) => true,
                    Some(Value::Number(n)) => n.is_u64(),
                    Some(Value::String(s)) => s.bytes().all(|b| b.is_ascii_digit()),
                    Some(_) => false,
                };
                if !ok {
                    return Err(Reject::bad_request(format!(
                        "{name}[{i}].{key} 必须是非负整数"
                    )));
                }
            }
        }
        Ok(Some(value))
    }

    /// `retCommParams`: a JSON object (scan-to-order information).
    pub fn opt_ret_comm_params(&self, name: &str) -> Checked<Option<&'a Value>> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let Value::Object(params) = value else {
            return Err(Reject::bad_request(format!(
                "{name} 必须是 JSON 对象 (不是字符串)"
            )));
        };
        let inner = Fields(params);
        inner
            .opt_enum(
                "foodOrderType",
                &[
                    "qr_order",
                    "pre_order",
                    "home_delivery",
                    "direct_payment",
                    "other",
                ],
            )
            .map_err(|r| Reject::bad_request(format!("{name}.{}", r.message)))?;
        for key in ["brandId", "storeId", "tableNo", "parkId", "vehicleNo"] {
            inner
                .opt_str(key, 32)
                .map_err(|r| Reject::bad_request(format!("{name}.{}", r.message)))?;
        }
        Ok(Some(value))
    }

    /// `subMchntInfo`: a string holding `{"subMerId" ≤20 bytes, "subMerName" ≤100 bytes}`.
    pub fn opt_sub_merchant_info(&self, name: &str) -> Checked<Option<&'a str>> {
        let value = self.opt_str(name, 100)?;
        if let Some(s) = value {
            let parsed: Option<Map<String, Value>> = serde_json::from_str(s).ok();
            let Some(info) = parsed else {
                return Err(Reject::bad_request(format!(
                    "{name} 必须是 JSON 对象文本, 如 {{\"subMerId\":\"..\",\"subMerName\":\"..\"}}"
                )));
            };
            for (key, max_bytes) in [("subMerId", 20), ("subMerName", 100)] {
                match info.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(v)) if v.len() <= max_bytes => {}
                    Some(_) => {
                        return Err(Reject::bad_request(format!(
                            "{name}.{key} 必须是不超过 {max_bytes} 字节的字符串"
                        )))
                    }
                }
            }
        }
        Ok(value)
    }
}

/// `billDesc`: at most 255 characters and at most 128 Chinese characters
/// (each non-ASCII character counts as two of a 256 budget).
pub(crate) fn check_bill_desc(fields: &Fields<'_>) -> Checked<()> {
    fields.opt_wide("billDesc").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn empty_and_null_count_as_absent() {
        let m = with(json!({"a": "", "b": null, "c": "x"}));
        let f = Fields(&m);
        assert_eq!(f.opt_str("a", 5), Ok(None));
        assert_eq!(f.opt_str("b", 5), Ok(None));
        assert_eq!(f.opt_str("c", 5), Ok(Some("x")));
        assert!(f.req_str("a", 5).unwrap_err().message.contains("a"));
    }

    #[test]
    fn amounts_must_be_json_integers_in_range() {
        let m = with(json!({"s": "26", "f": 2.5, "n": -1, "z": 0, "ok": 26, "big": 1000001}));
        let f = Fields(&m);
        assert!(f
            .opt_amount("s", 1, 1_000_000)
            .unwrap_err()
            .message
            .contains("JSON 整数"));
        assert!(f.opt_amount("f", 1, 1_000_000).is_err());
        assert!(f.opt_amount("n", 1, 1_000_000).is_err());
        assert!(f.opt_amount("z", 1, 1_000_000).is_err());
        assert!(f.opt_amount("big", 1, 1_000_000).is_err());
        assert_eq!(f.opt_amount("ok", 1, 1_000_000), Ok(Some(26)));
    }

    #[test]
    fn base64_real_name_fields() {
        let m = with(json!({"good": "5bygKuS4iQ==", "bad": "张*三", "x": "!!!"}));
        let f = Fields(&m);
        assert_eq!(f.opt_base64("good", 32), Ok(Some("5bygKuS4iQ==")));
        let err = f.opt_base64("bad", 32).unwrap_err();
        assert!(err.message.contains("bad") && !err.message.contains("张"));
        assert!(f.opt_base64("x", 32).is_err());
    }

    #[test]
    fn goods_and_ret_comm_params_must_be_real_json() {
        let m = with(json!({
            "gs": "[{\"goodsId\":\"1\"}]",
            "ga": [{"goodsId": "001", "quantity": "10", "price": "1"}],
            "gbad": [{"price": "1.5"}],
            "rs": "{}",
            "ro": {"foodOrderType": "pre_order", "tableNo": "341"},
            "rbad": {"foodOrderType": "delivery"}
        }));
        let f = Fields(&m);
        assert!(f.opt_goods("gs").is_err());
        assert!(f.opt_goods("ga").unwrap().is_some());
        assert!(f
            .opt_goods("gbad")
            .unwrap_err()
            .message
            .contains("gbad[0].price"));
        assert!(f.opt_ret_comm_params("rs").is_err());
        assert!(f.opt_ret_comm_params("ro").unwrap().is_some());
        assert!(f
            .opt_ret_comm_params("rbad")
            .unwrap_err()
            .message
            .contains("rbad.foodOrderType"));
    }

    #[test]
    fn dates_enums_and_choices() {
        let m = with(json!({
            "d": "2020-02-30", "dt": "2020-02-26 13:36:00", "w": "single",
            "i3": 3, "i10": "10", "is": "6", "u": "ftp://x", "ip": "1.1.1.1",
            "sub": "{\"subMerId\":\"123456789012345678901\"}"
        }));
        let f = Fields(&m);
        assert!(f.opt_date("d").is_err());
        assert!(f.opt_date_time("dt").unwrap().is_some());
        assert!(f.opt_enum("w", &["SINGLE", "MULTIPLE"]).is_err());
        assert_eq!(f.opt_int_choice("i3", &[3, 6, 12]), Ok(Some(3)));
        assert_eq!(f.opt_int_choice("is", &[3, 6, 12]), Ok(Some(6)));
        assert!(f.opt_int_choice("i10", &[3, 6, 12]).is_err());
        assert!(f.opt_url("u").is_err());
        assert!(f.opt_ip("ip").unwrap().is_some());
        assert!(f
            .opt_sub_merchant_info("sub")
            .unwrap_err()
            .message
            .contains("subMerId"));
    }

    #[test]
    fn bill_desc_counts_chinese_characters_double() {
        let ok = with(json!({"billDesc": "汉".repeat(128)}));
        assert!(check_bill_desc(&Fields(&ok)).is_ok());
        let long = with(json!({"billDesc": "汉".repeat(129)}));
        assert!(check_bill_desc(&Fields(&long)).is_err());
        let ascii = with(json!({"billDesc": "a".repeat(256)}));
        assert!(check_bill_desc(&Fields(&ascii)).is_err());
    }

    #[test]
    fn digit_string_amounts_become_integers_and_nothing_else_does() {
        let Value::Object(mut body) = serde_json::json!({
            "totalAmount": "26", "refundAmount": "007", "platformAmount": "2.5",
            "completedAmount": " 3", "billDesc": "12"
        }) else {
            unreachable!()
        };
        accept_digit_string_amounts(&mut body);
        assert_eq!(body["totalAmount"], 26);
        assert_eq!(body["refundAmount"], 7);
        assert_eq!(body["platformAmount"], "2.5");
        assert_eq!(body["completedAmount"], " 3");
        assert_eq!(body["billDesc"], "12");
    }
}
