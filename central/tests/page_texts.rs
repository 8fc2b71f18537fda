//! The pages' texts: every label of central's pages exists in Spanish and in English, and once
//! in each. A key written twice in a JavaScript object silently keeps the last value, so a
//! field would show another field's label (it happened: the service's target wait was labelled
//! as a signage schedule's target).

use std::collections::BTreeSet;

const PAGES: [&str; 5] = ["book.js", "config.js", "dashboard.js", "join.js", "survey.js"];

/// The keys of the object literal that follows `name: {` in `source`, in order, repeats kept.
/// A small reader for our own pages, not a JavaScript parser: it knows strings (template
/// literals included), comments and nesting, which is all the dictionaries use.
fn keys_of(source: &str, name: &str) -> Vec<String> {
    let open = source.find(&format!("{name}: {{")).unwrap_or_else(|| panic!("no `{name}: {{`")) + name.len() + 2;
    let text: Vec<char> = source[open..].chars().collect();
    let (mut keys, mut braces, mut nested, mut i) = (Vec::new(), 1, 0, 1);
    // Whether the last thing read at the top level was `{` or `,`: only then does a key start.
    let mut at_entry = true;
    let mut candidate: Option<String> = None;
    while i < text.len() && braces > 0 {
        let c = text[i];
        let top = braces == 1 && nested == 0;
        match c {
            '\'' | '"' | '`' => {
                let start = i + 1;
                i += 1;
                while text[i] != c {
                    i += if text[i] == '\\' { 2 } else { 1 };
                }
                candidate = (top && at_entry).then(|| text[start..i].iter().collect());
                at_entry = false;
            }
            '/' if text.get(i + 1) == Some(&'/') => {
                while text[i] != '\n' {
                    i += 1;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while text[i + 1].is_alphanumeric() || text[i + 1] == '_' {
                    i += 1;
                }
                candidate = (top && at_entry).then(|| text[start..=i].iter().collect());
                at_entry = false;
            }
            ':' if top => keys.extend(candidate.take()),
            ',' if top => at_entry = true,
            '{' => braces += 1,
            '}' => braces -= 1,
            '(' | '[' => nested += 1,
            ')' | ']' => nested -= 1,
            c if c.is_whitespace() => {}
            _ => candidate = None,
        }
        i += 1;
    }
    keys
}

fn repeated(keys: &[String]) -> BTreeSet<&String> {
    keys.iter().filter(|key| keys.iter().filter(|k| k == key).count() > 1).collect()
}

#[test]
fn every_text_of_central_pages_exists_in_spanish_and_english_once() {
    for page in PAGES {
        let path = format!("{}/src/pages/{page}", env!("CARGO_MANIFEST_DIR"));
        let source = std::fs::read_to_string(&path).expect("page");
        let (es, en) = (keys_of(&source, "es"), keys_of(&source, "en"));
        assert!(es.len() > 3, "{page}: the Spanish texts were not found");
        assert!(repeated(&es).is_empty(), "{page}: Spanish texts given twice: {:?}", repeated(&es));
        assert!(repeated(&en).is_empty(), "{page}: English texts given twice: {:?}", repeated(&en));
        let (es, en): (BTreeSet<_>, BTreeSet<_>) = (es.into_iter().collect(), en.into_iter().collect());
        assert_eq!(es.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "{page}: only in Spanish");
        assert_eq!(en.difference(&es).collect::<Vec<_>>(), Vec::<&String>::new(), "{page}: only in English");
    }
}

#[test]
fn the_reader_finds_a_key_given_twice_and_ignores_what_values_hold() {
    let source = "const S = { es: { a: 'x: y', 'b.c': (n) => (n ? 'one' : 'two'), d: `t ${n ? 1 : 2}`, // e: no\n a: {f: 1} } };";
    assert_eq!(keys_of(source, "es"), ["a", "b.c", "d", "a"]);
}
