//! The office configuration editor (/dashboard/office/{id}/config) as its tests drive it: its
//! inputs by the path of their field, and where a field's problem is shown, measured on the page.

use std::collections::BTreeSet;

use fantoccini::Client;
use serde_json::{json, Value};

use super::{shown, text_when, type_into};

/// The editor's input (or select) of the field at `path`, such as `counters[1].name`.
pub fn input(path: &str) -> String {
    format!("#editor [data-path=\"{path}\"]")
}

/// Replaces what an input of the editor holds.
pub async fn retype(client: &Client, path: &str, text: &str) {
    shown(client, &input(path)).await.clear().await.unwrap_or_else(|error| panic!("clearing {path}: {error}"));
    type_into(client, &input(path), text).await;
}

/// Chooses an option of a select of the editor.
pub async fn choose(client: &Client, path: &str, value: &str) {
    shown(client, &input(path))
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|error| panic!("choosing {value} in {path}: {error}"));
}

/// Sets a date input: typed dates follow the browser's locale (month or day first), so the
/// value is set as a person's picking it would, with the input event the page listens to.
pub async fn set_date(client: &Client, path: &str, date: &str) {
    let element = shown(client, &input(path)).await;
    let script =
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));";
    let element = serde_json::to_value(element).expect("an element as an argument");
    client.execute(script, vec![element, json!(date)]).await.unwrap_or_else(|error| panic!("dating {path}: {error}"));
}

/// What an input or select of the editor holds.
pub async fn value_of(client: &Client, path: &str) -> String {
    shown(client, &input(path)).await.prop("value").await.ok().flatten().unwrap_or_default()
}

/// The paths of every problem shown in the editor.
pub async fn shown_problems(client: &Client) -> BTreeSet<String> {
    let script = "return [...document.querySelectorAll('#editor .field-error')]
        .filter((node) => node.textContent.trim() !== '').map((node) => node.dataset.err);";
    let paths = client.execute(script, vec![]).await.expect("the problems' places");
    serde_json::from_value(paths).expect("a list of paths")
}

/// Where a field's problem is, measured on the page.
#[derive(Debug)]
struct Placement {
    text: String,
    label: String,
    visible: bool,
    /// The problem is inside the `.field` that holds the input, and the field is marked.
    same_field: bool,
    invalid: bool,
    /// The input's row (of a list) or section is the problem's.
    same_row: bool,
    /// left, top, right, bottom
    input: [f64; 4],
    error: [f64; 4],
    holder: [f64; 4],
}

impl Placement {
    fn read(measured: &Value) -> Option<Placement> {
        let text = |name: &str| measured[name].as_str().map(String::from);
        let yes = |name: &str| measured[name].as_bool();
        let rect = |name: &str| -> Option<[f64; 4]> {
            let sides: Vec<f64> = measured[name].as_array()?.iter().filter_map(Value::as_f64).collect();
            sides.try_into().ok()
        };
        Some(Placement {
            text: text("text")?,
            label: text("label")?,
            visible: yes("visible")?,
            same_field: yes("same_field")?,
            invalid: yes("invalid")?,
            same_row: yes("same_row")?,
            input: rect("input")?,
            error: rect("error")?,
            holder: rect("holder")?,
        })
    }
}

const PLACEMENT: &str = "
    const path = arguments[0];
    const input = document.querySelector('#editor [data-path=\"' + CSS.escape(path) + '\"]');
    const error = document.querySelector('#editor [data-err=\"' + CSS.escape(path) + '\"]');
    if (!input || !error) return null;
    error.scrollIntoView({ block: 'center' });
    const holder = input.closest('.field');
    const box = (node) => { const b = node.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
    const style = getComputedStyle(error);
    const rect = error.getBoundingClientRect();
    const label = holder && holder.querySelector('label');
    return {
        text: error.textContent,
        label: label ? label.textContent : '',
        visible: style.display !== 'none' && style.visibility !== 'hidden' && rect.width > 0 && rect.height > 0,
        same_field: !!holder && holder.contains(error),
        invalid: !!holder && holder.classList.contains('invalid'),
        same_row: input.closest('.row, fieldset') === error.closest('.row, fieldset'),
        input: box(input), error: box(error), holder: box(holder || input),
    };";

/// The problem of the field at `path` is visible, inside the field's own box (in the same row
/// or section), starting within 60 px below its input and over the field; it says what `accept`
/// wants; the field, marked invalid, is labelled `label`. Returns the problem's text.
pub async fn beside_its_field(client: &Client, path: &str, label: &str, accept: impl Fn(&str) -> bool) -> String {
    let css = format!("#editor [data-err=\"{path}\"]");
    let text = text_when(client, &css, &format!("the problem of {path}"), &accept).await;
    let placement = client.execute(PLACEMENT, vec![json!(path)]).await.expect("measured");
    let placed = Placement::read(&placement).unwrap_or_else(|| panic!("no input or no problem at {path}: {placement}"));
    assert!(accept(&placed.text), "{path}: {placed:?}");
    assert_eq!(placed.label, label, "{path} is the field labelled {label:?}: {placed:?}");
    assert!(placed.visible, "{path}'s problem is visible: {placed:?}");
    assert!(placed.same_field && placed.invalid, "{path}'s problem is in its field, marked: {placed:?}");
    assert!(placed.same_row, "{path}'s problem is in its own row: {placed:?}");
    let [_, _, _, input_bottom] = placed.input;
    let [left, top, right, bottom] = placed.error;
    let [holder_left, holder_top, holder_right, holder_bottom] = placed.holder;
    assert!(
        (-5.0..=60.0).contains(&(top - input_bottom)),
        "{path}'s problem starts within 60 px below its input: {placed:?}"
    );
    assert!(left < holder_right && right > holder_left, "{path}'s problem is over its field: {placed:?}");
    assert!(
        top >= holder_top - 1.0 && bottom <= holder_bottom + 1.0,
        "{path}'s problem is inside its field: {placed:?}"
    );
    text
}
