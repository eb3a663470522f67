//! Field rules and the engine that applies them to a request.
//!
//! A request is a JSON object. Each operation lists its fields with a rule;
//! the engine checks every listed field that is present (an empty string
//! counts as absent, as in the official samples), fills defaults only where a
//! field is absent, converts the few values the gateway wants in another
//! shape, and passes unlisted fields through untouched. Every error names the
//! field and the rule.

use crate::clock::BeijingTime;
use crate::config::RealNameInput;
use crate::error::{Error, Result};
use base64::Engine as _;
use serde_json::{Map, Value};

/// What a field must be.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// A string of `min..=max` characters.
    Text { min: usize, max: usize },
    /// A string of at most `max` display units, a CJK character counting two
    /// (the gateway's "255, at most 128 Chinese characters").
    Wide { max: usize },
    /// A string of exactly `len` characters.
    Exact(usize),
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
    /// An amount in fen, `min..=max`: a JSON integer or an integer string,
    /// always sent as a JSON integer.
    Amount { min: i64, max: i64 },
    /// `yyyy-MM-dd`.
    Date,
    /// `yyyy-MM-dd HH:mm:ss`.
    DateTime,
    /// `"true"` or `"false"` (sent as given).
    BoolText,
    /// A JSON boolean, or `"true"`/`"false"` (sent as given).
    Bool,
    /// The `goods` array (a JSON array or a string holding one), sent as JSON.
    Goods,
    /// The `retCommParams` object (a JSON object or a string holding one), sent as JSON.
    RetCommParams,
    /// `subMchntInfo`: an object or a string holding one, sent as a string.
    SubMchntInfo,
    /// A real-name field (`name`, `mobile`, `certNo`): Base64 on the wire,
    /// at most `max` characters once encoded.
    RealName { max: usize },
    /// An integer in the list, as a JSON number or a digit string (sent as given).
    IntOneOf(&'static [i64]),
    /// A refund's `subOrders`: a JSON array of objects whose `totalAmount`
    /// (when present) is an amount in fen like every other amount.
    SubOrders,
}

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub need: Need,
    pub rule: Rule,
}

pub const fn req(name: &'static str, rule: Rule) -> Field {
    Field {
        name,
        need: Need::Required,
        rule,
    }
}

pub const fn opt(name: &'static str, rule: Rule) -> Field {
    Field {
        name,
        need: Need::Optional,
        rule,
    }
}

/// Settings that change how values are normalised.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeOptions {
    pub real_name_input: RealNameInput,
}

/// True when a field counts as absent: missing, `null` or `""`.
pub fn is_absent(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null)) || value.and_then(Value::as_str) == Some("")
}

/// Checks and normalises every listed field of `request` in place. With
/// several problems, the one reported is the first in table order.
///
/// One pass over the request's own entries, each looked up in the table from
/// just after the previous match: requests usually list their fields in the
/// documented order, so that is about one comparison per field instead of a
/// hashed map lookup for every field in the table.
pub fn apply(
    fields: &[Field],
    request: &mut Map<String, Value>,
    options: NormalizeOptions,
) -> Result<()> {
    let mut first_error: Option<(usize, Error)> = None;
    let mut required_present = 0;
    let mut next = 0;
    for (key, value) in request.iter_mut() {
        let Some(index) = find_field(fields, key, &mut next) else {
            continue; // not checked: passed through untouched
        };
        let field = &fields[index];
        if field.need == Need::Required {
            required_present += 1;
        }
        if first_error.as_ref().is_some_and(|(at, _)| *at < index) {
            continue; // an earlier field already failed
        }
        let result = if is_absent(Some(value)) {
            match field.need {
                Need::Required => Err(Error::validation(
                    field.name,
                    "is required and must not be empty",
                )),
                Need::Optional => Ok(()),
            }
        } else {
            check(field.name, field.rule, value, options)
        };
        if let Err(e) = result {
            first_error = Some((index, e));
        }
    }
    let required = fields.iter().filter(|f| f.need == Need::Required).count();
    if required_present < required {
        let missing = fields
            .iter()
            .position(|f| f.need == Need::Required && !request.contains_key(f.name));
        if let Some(index) = missing {
            if first_error.as_ref().is_none_or(|(at, _)| index < *at) {
                first_error = Some((index, Error::validation(fields[index].name, "is required")));
            }
        }
    }
    first_error.map_or(Ok(()), |(_, e)| Err(e))
}

/// The table index of `key`, searched from `*next` round to `*next - 1`;
/// `*next` moves just past a match.
fn find_field(fields: &[Field], key: &str, next: &mut usize) -> Option<usize> {
    let n = fields.len();
    let index = (0..n)
        .map(|offset| (*next + offset) % n)
        .find(|&i| fields[i].name == key)?;
    *next = index + 1;
    Some(index)
}

/// Checks one present field; normalises its value where the rule says so.
fn check(name: &str, rule: Rule, value: &mut Value, options: NormalizeOptions) -> Result<()> {
    match rule {
        Rule::Text { .. }
        | Rule::Wide { .. }
        | Rule::Exact(_)
        | Rule::OneOf(_)
        | Rule::Date
        | Rule::DateTime
        | Rule::BoolText => check_string(name, rule, text(name, value)?),
        Rule::Amount { min, max } => {
            *value = Value::from(amount(name, value, min, max)?);
            Ok(())
        }
        Rule::Bool => match value {
            Value::Bool(_) => Ok(()),
            Value::String(s) if s == "true" || s == "false" => Ok(()),
            _ => Err(Error::validation(name, "must be true or false")),
        },
        Rule::Goods => {
            let goods = embedded_json(name, value)?;
            check_goods(name, &goods)?;
            *value = goods;
            Ok(())
        }
        Rule::RetCommParams => {
            let params = embedded_json(name, value)?;
            check_ret_comm_params(name, &params)?;
            *value = params;
            Ok(())
        }
        Rule::SubMchntInfo => normalise_sub_mchnt_info(name, value),
        Rule::RealName { max } => normalise_real_name(name, value, max, options),
        Rule::IntOneOf(allowed) => check_int_one_of(name, value, allowed),
        Rule::SubOrders => check_sub_orders(name, value),
    }
}

/// The rules on a string that never change it.
fn check_string(name: &str, rule: Rule, s: &str) -> Result<()> {
    let broken = |rule_text: String| Err(Error::validation(name, rule_text));
    match rule {
        Rule::Text { min, max } if !(min..=max).contains(&s.chars().count()) => {
            broken(length_rule(min, max))
        }
        Rule::Wide { max } if display_width(s) > max => broken(format!(
            "must be at most {max} characters, a Chinese character counting as two ({} characters at most)",
            max / 2
        )),
        Rule::Exact(len) if s.chars().count() != len => {
            broken(format!("must be exactly {len} characters long"))
        }
        Rule::OneOf(allowed) if !allowed.contains(&s) => {
            broken(format!("must be one of {}", allowed.join(", ")))
        }
        Rule::Date if BeijingTime::parse_date(s).is_none() => {
            broken("must be a date as yyyy-MM-dd".into())
        }
        Rule::DateTime if BeijingTime::parse_date_time(s).is_none() => {
            broken("must be a date and time as yyyy-MM-dd HH:mm:ss".into())
        }
        Rule::BoolText if s != "true" && s != "false" => {
            broken("must be \"true\" or \"false\"".into())
        }
        _ => Ok(()),
    }
}

/// A CJK (non-ASCII) character counts two, as the gateway counts.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// `subMchntInfo`: an object (or a string holding one), sent as JSON text of
/// at most 100 characters.
fn normalise_sub_mchnt_info(name: &str, value: &mut Value) -> Result<()> {
    let info = embedded_json(name, value)?;
    check_sub_mchnt_info(name, &info)?;
    let text = serde_json::to_string(&info)
        .map_err(|_| Error::validation(name, "could not be serialised"))?;
    if text.chars().count() > 100 {
        return Err(Error::validation(
            name,
            "must be at most 100 characters as JSON text",
        ));
    }
    *value = Value::String(text);
    Ok(())
}

/// A real-name field: Base64-encoded here (`realNameInput` "plain") or
/// checked to be Base64 already; at most `max` characters once encoded.
fn normalise_real_name(
    name: &str,
    value: &mut Value,
    max: usize,
    options: NormalizeOptions,
) -> Result<()> {
    let s = text(name, value)?;
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded = match options.real_name_input {
        RealNameInput::Plain => engine.encode(s.as_bytes()),
        RealNameInput::Base64 if engine.decode(s.as_bytes()).is_ok() => s.to_string(),
        RealNameInput::Base64 => {
            return Err(Error::validation(
                name,
                "must be standard Base64 (realNameInput is \"base64\": the caller encodes real-name fields)",
            ))
        }
    };
    if encoded.len() > max {
        return Err(Error::validation(
            name,
            format!("must be at most {max} characters once Base64-encoded"),
        ));
    }
    *value = Value::String(encoded);
    Ok(())
}

/// An integer in `allowed`, as a JSON number or a digit string (sent as given).
fn check_int_one_of(name: &str, value: &Value, allowed: &[i64]) -> Result<()> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    if n.is_some_and(|n| allowed.contains(&n)) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
    Err(Error::validation(
        name,
        format!("must be one of {}", list.join(", ")),
    ))
}

fn text<'a>(name: &str, value: &'a Value) -> Result<&'a str> {
    value
        .as_str()
        .ok_or_else(|| Error::validation(name, "must be a string"))
}

fn length_rule(min: usize, max: usize) -> String {
    format!("must be {} characters long", range_text(min, max))
}

fn range_text(min: usize, max: usize) -> String {
    if min <= 1 {
        format!("at most {max}")
    } else if min == max {
        format!("exactly {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// An amount in fen from a JSON integer or an integer string.
pub fn amount(name: &str, value: &Value, min: i64, max: i64) -> Result<i64> {
    checked_amount(value, min, max).ok_or_else(|| amount_error(name, min, max))
}

/// The amount in `value` when it is one in `min..=max`. Allocates nothing:
/// the message is made only when the check fails ([`amount_error`]).
fn checked_amount(value: &Value, min: i64, max: i64) -> Option<i64> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s)
            if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    };
    n.filter(|n| (min..=max).contains(n))
}

fn amount_error(name: &str, min: i64, max: i64) -> Error {
    Error::validation(
        name,
        format_args!("must be an integer number of fen from {min} to {max}"),
    )
}

/// A JSON value given as itself or as a string holding JSON text.
/// The value is taken out of `value` (the caller puts the checked result
/// back; a request that fails is dropped whole).
fn embedded_json(name: &str, value: &mut Value) -> Result<Value> {
    match value {
        Value::String(s) => crate::json::parse_value(s).map_err(|repeated| match repeated {
            Some(key) => {
                Error::validation(name, format!("holds JSON that repeats the key `{key}`"))
            }
            None => Error::validation(name, "is a string that does not hold valid JSON"),
        }),
        other => Ok(std::mem::take(other)),
    }
}

const GOODS_TEXT_FIELDS: &[&str] = &[
    "goodsId",
    "goodsName",
    "goodsCategory",
    "body",
    "subMerchantId",
    "merOrderId",
];

fn check_goods(name: &str, goods: &Value) -> Result<()> {
    let items = goods
        .as_array()
        .ok_or_else(|| Error::validation(name, "must be a JSON array of goods objects"))?;
    for (i, item) in items.iter().enumerate() {
        // Field names for messages are made only when a check fails.
        let at = |key: &str| {
            if key.is_empty() {
                format!("{name}[{i}]")
            } else {
                format!("{name}[{i}].{key}")
            }
        };
        let obj = item
            .as_object()
            .ok_or_else(|| Error::validation(&at(""), "must be a JSON object"))?;
        // The item's own keys, in its order (no hashed lookups).
        for (key, v) in obj {
            if GOODS_TEXT_FIELDS.contains(&key.as_str()) {
                if !v.is_string() && !v.is_null() {
                    return Err(Error::validation(&at(key), "must be a string"));
                }
            } else if GOODS_AMOUNT_FIELDS.contains(&key.as_str())
                && !is_absent(Some(v))
                && checked_amount(v, 0, MAX_GOODS_AMOUNT).is_none()
            {
                return Err(amount_error(&at(key), 0, MAX_GOODS_AMOUNT));
            }
        }
    }
    Ok(())
}

/// Largest amount of one sub-order (the refund limit of the 2020 PDF).
const MAX_SUB_ORDER_AMOUNT: i64 = 100_000_000;

/// Each sub-order is an object; its `totalAmount` is 1..=100000000 fen,
/// sent as a JSON integer (a digit string is converted, as for every amount).
fn check_sub_orders(name: &str, value: &mut Value) -> Result<()> {
    let items = value
        .as_array_mut()
        .ok_or_else(|| Error::validation(name, "must be a JSON array of objects"))?;
    for (i, item) in items.iter_mut().enumerate() {
        let obj = item
            .as_object_mut()
            .ok_or_else(|| Error::validation(&format!("{name}[{i}]"), "must be a JSON object"))?;
        if let Some(amount) = obj.get_mut("totalAmount").filter(|v| !v.is_null()) {
            let field = format!("{name}[{i}].totalAmount");
            let checked = checked_amount(amount, 1, MAX_SUB_ORDER_AMOUNT)
                .ok_or_else(|| amount_error(&field, 1, MAX_SUB_ORDER_AMOUNT))?;
            *amount = Value::from(checked);
        }
    }
    Ok(())
}

const GOODS_AMOUNT_FIELDS: &[&str] = &["quantity", "price", "subOrderAmount"];
const MAX_GOODS_AMOUNT: i64 = 100_000_000_000;

const FOOD_ORDER_TYPES: &[&str] = &[
    "qr_order",
    "pre_order",
    "home_delivery",
    "direct_payment",
    "other",
];

fn check_ret_comm_params(name: &str, params: &Value) -> Result<()> {
    let obj = params
        .as_object()
        .ok_or_else(|| Error::validation(name, "must be a JSON object"))?;
    for (key, v) in obj {
        let field = || format!("{name}.{key}"); // only for a message
        if v.is_null() {
            continue;
        }
        let s = v
            .as_str()
            .ok_or_else(|| Error::validation(&field(), "must be a string"))?;
        if s.chars().count() > 32 {
            return Err(Error::validation(
                &field(),
                "must be at most 32 characters long",
            ));
        }
        if key == "foodOrderType" && !s.is_empty() && !FOOD_ORDER_TYPES.contains(&s) {
            return Err(Error::validation(
                &field(),
                format!("must be one of {}", FOOD_ORDER_TYPES.join(", ")),
            ));
        }
    }
    Ok(())
}

fn check_sub_mchnt_info(name: &str, info: &Value) -> Result<()> {
    let obj = info.as_object().ok_or_else(|| {
        Error::validation(name, "must be a JSON object {\"subMerId\",\"subMerName\"}")
    })?;
    for (key, limit) in [("subMerId", 20), ("subMerName", 100)] {
        if let Some(v) = obj.get(key) {
            let s = v
                .as_str()
                .ok_or_else(|| Error::validation(&format!("{name}.{key}"), "must be a string"))?;
            if s.len() > limit {
                return Err(Error::validation(
                    &format!("{name}.{key}"),
                    format!("must be at most {limit} bytes (UTF-8)"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAIN: NormalizeOptions = NormalizeOptions {
        real_name_input: RealNameInput::Plain,
    };

    fn run(fields: &[Field], v: Value) -> Result<Value> {
        let mut map = v.as_object().unwrap().clone();
        apply(fields, &mut map, PLAIN)?;
        Ok(Value::Object(map))
    }

    #[test]
    fn amounts_accept_integers_and_integer_strings_and_send_integers() {
        let f = [req(
            "totalAmount",
            Rule::Amount {
                min: 1,
                max: 1_000_000,
            },
        )];
        assert_eq!(
            run(&f, json!({"totalAmount": "26"})).unwrap(),
            json!({"totalAmount": 26})
        );
        assert_eq!(
            run(&f, json!({"totalAmount": 26})).unwrap(),
            json!({"totalAmount": 26})
        );
        for bad in [
            json!("0"),
            json!("1000001"),
            json!(2.5),
            json!("2.5"),
            json!("-1"),
            json!(" 1"),
            json!(true),
        ] {
            let e = run(&f, json!({ "totalAmount": bad })).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("totalAmount"));
            assert!(e.message.contains("1 to 1000000"), "{}", e.message);
        }
    }

    #[test]
    fn required_empty_and_wrong_types_are_named() {
        let f = [req("mid", Rule::Exact(15))];
        assert!(run(&f, json!({}))
            .unwrap_err()
            .message
            .contains("`mid`: is required"));
        assert!(run(&f, json!({"mid": ""}))
            .unwrap_err()
            .message
            .contains("must not be empty"));
        assert!(run(&f, json!({"mid": 898340149000005u64}))
            .unwrap_err()
            .message
            .contains("must be a string"));
        assert!(run(&f, json!({"mid": "8983401490000"}))
            .unwrap_err()
            .message
            .contains("exactly 15"));
    }

    #[test]
    fn json_string_fields_become_real_json() {
        let f = [
            opt("goods", Rule::Goods),
            opt("retCommParams", Rule::RetCommParams),
        ];
        let out = run(
            &f,
            json!({"goods": "[{\"goodsId\":\"001\",\"price\":\"1\",\"quantity\":\"10\"}]",
                   "retCommParams": "{\"foodOrderType\":\"pre_order\",\"parkId\":\"\"}"}),
        )
        .unwrap();
        assert_eq!(out["goods"][0]["goodsId"], "001");
        assert_eq!(out["retCommParams"]["foodOrderType"], "pre_order");
        assert!(run(&f, json!({"goods": "[{"}))
            .unwrap_err()
            .message
            .contains("valid JSON"));
        assert!(run(&f, json!({"goods": [{"price": "x"}]}))
            .unwrap_err()
            .message
            .contains("goods[0].price"));
        assert!(run(&f, json!({"retCommParams": {"foodOrderType": "x"}}))
            .unwrap_err()
            .message
            .contains("foodOrderType"));
    }

    #[test]
    fn sub_order_amounts_are_amounts() {
        let f = [opt("subOrders", Rule::SubOrders)];
        assert_eq!(
            run(
                &f,
                json!({"subOrders": [{"mid": "1", "totalAmount": "26"}]})
            )
            .unwrap(),
            json!({"subOrders": [{"mid": "1", "totalAmount": 26}]})
        );
        for bad in [
            json!(-5),
            json!(0),
            json!("1.5"),
            json!(100_000_001),
            json!(true),
        ] {
            let e = run(&f, json!({"subOrders": [{"totalAmount": bad}]})).unwrap_err();
            assert_eq!(
                e.field.as_deref(),
                Some("subOrders[0].totalAmount"),
                "{bad}"
            );
        }
        assert!(run(&f, json!({"subOrders": [1]})).is_err());
    }

    #[test]
    fn real_names_are_base64_encoded_or_checked() {
        let f = [opt("name", Rule::RealName { max: 32 })];
        assert_eq!(
            run(&f, json!({"name": "张*三"})).unwrap()["name"],
            "5bygKuS4iQ=="
        );
        let mut map = json!({"name": "not base64!"}).as_object().unwrap().clone();
        let e = apply(
            &f,
            &mut map,
            NormalizeOptions {
                real_name_input: RealNameInput::Base64,
            },
        )
        .unwrap_err();
        assert!(e.message.contains("Base64"));
        let long = "王".repeat(9); // 27 bytes -> 36 Base64 characters
        assert!(run(&f, json!({ "name": long }))
            .unwrap_err()
            .message
            .contains("at most 32"));
    }

    #[test]
    fn wide_text_counts_chinese_as_two() {
        let f = [opt("billDesc", Rule::Wide { max: 255 })];
        assert!(run(&f, json!({"billDesc": "中".repeat(127)})).is_ok());
        assert!(run(&f, json!({"billDesc": "中".repeat(128)})).is_err());
        assert!(run(&f, json!({"billDesc": "a".repeat(255)})).is_ok());
    }
}
