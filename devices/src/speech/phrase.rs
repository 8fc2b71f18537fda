//! The sentence spoken when a ticket is called.
//!
//! A transcription of `spokenCall` in `edge/pages/i18n.js`: when espeak-ng is missing the page
//! speaks with the browser instead, and both must say the same thing. JavaScript's string rules
//! are reproduced where they differ from Rust's (`trim`, `\s`, `\d`).

use super::numbers::{digits_words, ticket_digits_words};
use crate::Lang;

/// The words for "counter" before a numeric counter id (i18n.js `speech.counter`).
fn counter_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "puesto",
        Lang::En => "counter",
    }
}

/// The words for "ticket" that open the sentence (i18n.js `speech.call`).
fn ticket_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Turno",
        Lang::En => "Ticket",
    }
}

/// The sentence the waiting-room display speaks, equal to i18n.js `spokenCall(ticket, counter, lang)`:
/// `call_phrase(Lang::Es, "A-023", "4")` is "Turno A cero veintitrés, puesto cuatro" and in English
/// "Ticket A twenty-three, counter four". A numeric counter id is read as "puesto/counter <number>";
/// anything else ("Caja rápida") is read as given; an empty counter leaves the counter out.
pub fn call_phrase(lang: Lang, ticket: &str, counter: &str) -> String {
    let raw = js_trim(ticket);
    let ticket_words = if let Some((letters, digits)) = split_ticket(raw) {
        // Letters are separated so speech engines spell "AB" instead of reading a word.
        let spelled: Vec<String> = letters.chars().map(|c| c.to_ascii_uppercase().to_string()).collect();
        format!("{} {}", spelled.join(" "), ticket_digits_words(digits, lang))
    } else if is_ascii_digits(raw) {
        ticket_digits_words(raw, lang)
    } else {
        raw.to_owned()
    };

    let counter = js_trim(counter);
    let counter_words = if is_ascii_digits(counter) {
        format!("{} {}", counter_word(lang), digits_words(counter, lang))
    } else {
        counter.to_owned()
    };

    if counter_words.is_empty() {
        format!("{} {ticket_words}", ticket_word(lang))
    } else {
        format!("{} {ticket_words}, {counter_words}", ticket_word(lang))
    }
}

/// Matches `/^([A-Za-z]+)\s*[-\s]?\s*(\d+)$/`: ASCII letters, blanks with at most one hyphen
/// among them, then ASCII digits to the end. Returns the letters and the digits.
fn split_ticket(raw: &str) -> Option<(&str, &str)> {
    let letters_end = raw.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(raw.len());
    if letters_end == 0 {
        return None;
    }
    let (letters, rest) = raw.split_at(letters_end);
    let separator_end = rest.find(|c: char| c != '-' && !is_js_space(c)).unwrap_or(rest.len());
    let (separator, digits) = rest.split_at(separator_end);
    if separator.matches('-').count() > 1 || !is_ascii_digits(digits) {
        return None;
    }
    Some((letters, digits))
}

/// `/^\d+$/`: JavaScript's `\d` is ASCII only.
fn is_ascii_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// JavaScript's `String.prototype.trim`.
fn js_trim(text: &str) -> &str {
    text.trim_matches(is_js_space)
}

/// JavaScript's white space and line terminators (what `trim` removes and `\s` matches). Rust's
/// `char::is_whitespace` differs: it includes U+0085 and leaves out U+FEFF.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ticket: &str, counter: &str, es: &str, en: &str) {
        assert_eq!(call_phrase(Lang::Es, ticket, counter), es, "Spanish for {ticket:?} at {counter:?}");
        assert_eq!(call_phrase(Lang::En, ticket, counter), en, "English for {ticket:?} at {counter:?}");
    }

    #[test]
    fn a_call_names_the_ticket_and_the_counter() {
        check("A-023", "4", "Turno A cero veintitrés, puesto cuatro", "Ticket A twenty-three, counter four");
        check("ab 7", "12", "Turno A B siete, puesto doce", "Ticket A B seven, counter twelve");
        check("A - 023", "", "Turno A cero veintitrés", "Ticket A twenty-three");
        check("023", " Caja rápida ", "Turno cero veintitrés, Caja rápida", "Ticket twenty-three, Caja rápida");
    }

    #[test]
    fn unusual_tickets_are_read_as_given() {
        check("A--023", "4", "Turno A--023, puesto cuatro", "Ticket A--023, counter four");
        check("Ñ-1", "4", "Turno Ñ-1, puesto cuatro", "Ticket Ñ-1, counter four");
        check("A-٣", "4", "Turno A-٣, puesto cuatro", "Ticket A-٣, counter four");
        check("\u{feff}A-1\u{85}", "4", "Turno A-1\u{85}, puesto cuatro", "Ticket A-1\u{85}, counter four");
    }
}
