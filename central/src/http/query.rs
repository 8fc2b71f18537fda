//! Query strings read the same strict way by every report: each parameter known and given at
//! most once, dates and ranges checked, and every problem named (a 400 with its code), echoing
//! at most a little of what the caller sent.

use actix_web::web;
use fila_protocol::BusinessDay;

use super::error::ApiError;

/// The query's parameters by name, each at most once, no others.
pub(super) fn read<const N: usize>(query: &str, allowed: [&str; N]) -> Result<[Option<String>; N], ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|error| ApiError::bad_request("bad_query", format!("the query string does not parse: {error}")))?
        .into_inner();
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (key, value) in pairs {
        let Some(index) = allowed.iter().position(|name| *name == key) else {
            return Err(ApiError::bad_request(
                "unknown_parameter",
                format!("unknown parameter {:?}; this takes {}", clip(&key), allowed.join(", ")),
            ));
        };
        if values[index].replace(value).is_some() {
            return Err(ApiError::bad_request("repeated_parameter", format!("parameter {key} is given twice")));
        }
    }
    Ok(values)
}

/// `from` (required) and `to` (default `from`), in order and at most `max_days` days.
pub(super) fn range(
    from: Option<String>,
    to: Option<String>,
    max_days: i64,
) -> Result<(BusinessDay, BusinessDay), ApiError> {
    let from = from
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "parameter from is required: from=<yyyy-mm-dd>"))?;
    let from = date("from", &from)?;
    let to = match to {
        Some(to) => date("to", &to)?,
        None => from,
    };
    if from > to {
        return Err(ApiError::bad_request("bad_range", format!("from ({from}) is after to ({to})")));
    }
    let days = from.0.until(to.0).map(|span| i64::from(span.get_days()) + 1).unwrap_or(i64::MAX);
    if days > max_days {
        return Err(ApiError::bad_request(
            "range_too_long",
            format!("from {from} to {to} is {days} days; at most {max_days} per request"),
        ));
    }
    Ok((from, to))
}

pub(super) fn date(name: &str, text: &str) -> Result<BusinessDay, ApiError> {
    BusinessDay::parse(text).ok_or_else(|| {
        ApiError::bad_request("bad_date", format!("{name}={:?} is not a date like 2026-11-29", clip(text)))
    })
}

/// Echo at most a little of what a caller sent.
pub(super) fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}
