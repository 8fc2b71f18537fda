//! Reading and writing flat records of scalars: a record is a fixed list of (key, value) pairs,
//! written field by field where it changed, so history holds only real edits.

use automerge::{AutoCommit, ObjId, ReadDoc, ScalarValue, Value};

use super::DocError;
use crate::ids::Timestamp;

pub type Fields = Vec<(&'static str, ScalarValue)>;

/// Write `new`, skipping fields equal in `old` (same keys in the same order), or empty when
/// there is no `old`.
pub fn write(doc: &mut AutoCommit, obj: &ObjId, old: Option<&Fields>, new: &Fields) -> Result<(), DocError> {
    use automerge::transaction::Transactable;
    for (i, (key, value)) in new.iter().enumerate() {
        let unchanged = match old {
            Some(old) => old.get(i).map(|(_, v)| v) == Some(value),
            // A new record leaves empty fields out: readers take a missing field as empty.
            None => *value == ScalarValue::Null,
        };
        if unchanged {
            continue;
        }
        doc.put(obj, *key, value.clone())?;
    }
    Ok(())
}

/// Create a record under `parent[key]` in one batch (much cheaper in automerge than a put per
/// field), leaving empty fields out; `list` adds one list of scalars.
pub fn create(
    doc: &mut AutoCommit,
    parent: &ObjId,
    key: &str,
    fields: &Fields,
    list: Option<(&str, Vec<ScalarValue>)>,
) -> Result<ObjId, DocError> {
    use automerge::hydrate;
    use automerge::transaction::Transactable;
    let mut map: std::collections::HashMap<&str, hydrate::Value> = fields
        .iter()
        .filter(|(_, value)| *value != ScalarValue::Null)
        .map(|(k, v)| (*k, hydrate::Value::scalar(v.clone())))
        .collect();
    if let Some((name, items)) = list {
        let items: Vec<hydrate::Value> = items.into_iter().map(hydrate::Value::scalar).collect();
        map.insert(name, items.into());
    }
    Ok(doc.batch_create_object(parent, key, &hydrate::Value::from(map), false)?)
}

pub fn get(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(value), _))) => Some(value.into_owned()),
        _ => None,
    }
}

pub fn str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<String, DocError> {
    opt_str(doc, obj, key)?.ok_or_else(|| DocError::Field(key.to_string()))
}

pub fn opt_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>, DocError> {
    match get(doc, obj, key) {
        None | Some(ScalarValue::Null) => Ok(None),
        Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(DocError::Field(key.to_string())),
    }
}

pub fn int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<i64, DocError> {
    match get(doc, obj, key) {
        Some(ScalarValue::Int(i)) => Ok(i),
        Some(ScalarValue::Uint(u)) => i64::try_from(u).map_err(|_| DocError::Field(key.to_string())),
        _ => Err(DocError::Field(key.to_string())),
    }
}

pub fn opt_int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<i64>, DocError> {
    match get(doc, obj, key) {
        None | Some(ScalarValue::Null) => Ok(None),
        _ => int(doc, obj, key).map(Some),
    }
}

pub fn bool(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<bool, DocError> {
    match get(doc, obj, key) {
        Some(ScalarValue::Boolean(b)) => Ok(b),
        _ => Err(DocError::Field(key.to_string())),
    }
}

pub fn time(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Timestamp, DocError> {
    opt_time(doc, obj, key)?.ok_or_else(|| DocError::Field(key.to_string()))
}

pub fn opt_time(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<Timestamp>, DocError> {
    match get(doc, obj, key) {
        None | Some(ScalarValue::Null) => Ok(None),
        Some(ScalarValue::Timestamp(ms)) => Ok(Some(Timestamp(ms))),
        Some(_) => Err(DocError::Field(key.to_string())),
    }
}

pub fn s(text: &str) -> ScalarValue {
    ScalarValue::Str(text.into())
}

pub fn opt_s(text: Option<&str>) -> ScalarValue {
    text.map_or(ScalarValue::Null, s)
}

pub fn t(at: Timestamp) -> ScalarValue {
    ScalarValue::Timestamp(at.0)
}

pub fn opt_t(at: Option<Timestamp>) -> ScalarValue {
    at.map_or(ScalarValue::Null, t)
}

pub fn i(n: impl Into<i64>) -> ScalarValue {
    ScalarValue::Int(n.into())
}

/// A map object under `key`, if there is one.
pub fn map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId, DocError> {
    match doc.get(obj, key)? {
        Some((Value::Object(_), id)) => Ok(id),
        _ => Err(DocError::Field(key.to_string())),
    }
}
