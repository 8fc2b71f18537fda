//! Numbers as people say them, in Spanish and English.
//!
//! This is a transcription of `numberToWordsEs`, `numberToWordsEn` and `ticketDigitsToWords` in
//! `edge/pages/i18n.js`. The waiting-room page falls back to the browser's speech with those
//! functions, so every quirk is kept on purpose (English "one hundred one" without "and", digits
//! beyond 999 999, JavaScript's way of printing a number it had to round); the integration test
//! `tests/speech.rs` runs the JavaScript under node and compares.

use crate::Lang;

/// The largest number read as words; beyond it both languages fall back to digits.
pub const NUMBER_WORDS_MAX: u32 = 999_999;

const ES_SMALL: [&str; 30] = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
];
const ES_TENS: [&str; 10] =
    ["", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"];
const ES_HUNDREDS: [&str; 10] = [
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
];

const EN_SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const EN_TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// `n` in words, as `numberToWords(n, lang)` in i18n.js: "veintitrés", "twenty-three", "veintiún mil".
/// Numbers above [`NUMBER_WORDS_MAX`] are returned as digits.
pub fn number_words(n: u32, lang: Lang) -> String {
    if n > NUMBER_WORDS_MAX {
        return n.to_string();
    }
    match lang {
        Lang::Es => es_words(n),
        Lang::En => en_words(n),
    }
}

/// Words for a run of ASCII digits the way i18n.js reads it: `numberToWords(parseInt(digits, 10))`.
/// Leading zeros are dropped ("0004" is "cuatro"); a value too large for words is printed as
/// JavaScript prints the rounded number it parsed.
pub(crate) fn digits_words(digits: &str, lang: Lang) -> String {
    let value = js_parse_int(digits);
    // Only integers up to NUMBER_WORDS_MAX reach the cast, so it is exact.
    if value <= f64::from(NUMBER_WORDS_MAX) {
        number_words(value as u32, lang)
    } else {
        js_number_string(value)
    }
}

/// The digit part of a ticket number, as `ticketDigitsToWords` in i18n.js: Spanish reads the
/// leading zeros printed on the ticket ("023" is "cero veintitrés", "000" is "cero cero cero");
/// English drops them ("twenty-three").
pub(crate) fn ticket_digits_words(digits: &str, lang: Lang) -> String {
    match lang {
        Lang::En => digits_words(digits, Lang::En),
        Lang::Es => {
            let significant = digits.trim_start_matches('0');
            let zeros = digits.len() - significant.len();
            let mut words = vec!["cero"; zeros];
            if significant.is_empty() {
                return words.join(" ");
            }
            let number = digits_words(digits, Lang::Es);
            words.push(&number);
            words.join(" ")
        }
    }
}

fn es_below_thousand(n: u32) -> String {
    match n {
        0..=29 => ES_SMALL[n as usize].to_owned(),
        30..=99 => {
            let tens = ES_TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_owned(),
                unit => format!("{tens} y {}", ES_SMALL[unit as usize]),
            }
        }
        // "ciento" only when something follows: 100 is "cien", 101 "ciento uno".
        100 => "cien".to_owned(),
        _ => {
            let hundreds = ES_HUNDREDS[(n / 100 % 10) as usize];
            match n % 100 {
                0 => hundreds.to_owned(),
                rest => format!("{hundreds} {}", es_below_thousand(rest)),
            }
        }
    }
}

fn es_words(n: u32) -> String {
    if n < 1000 {
        return es_below_thousand(n);
    }
    let thousands = n / 1000;
    let rest = n % 1000;
    let head = if thousands == 1 {
        "mil".to_owned()
    } else {
        // "uno" shortens before "mil": veintiún mil, treinta y un mil, ciento un mil.
        let words = es_below_thousand(thousands);
        let shortened = if let Some(stem) = words.strip_suffix("veintiuno") {
            format!("{stem}veintiún")
        } else if let Some(stem) = words.strip_suffix("uno") {
            format!("{stem}un")
        } else {
            words
        };
        format!("{shortened} mil")
    };
    match rest {
        0 => head,
        _ => format!("{head} {}", es_below_thousand(rest)),
    }
}

fn en_below_thousand(n: u32) -> String {
    match n {
        0..=19 => EN_SMALL[n as usize].to_owned(),
        20..=99 => {
            let tens = EN_TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_owned(),
                unit => format!("{tens}-{}", EN_SMALL[unit as usize]),
            }
        }
        _ => {
            let hundreds = EN_SMALL[(n / 100 % 10) as usize];
            match n % 100 {
                0 => format!("{hundreds} hundred"),
                rest => format!("{hundreds} hundred {}", en_below_thousand(rest)),
            }
        }
    }
}

fn en_words(n: u32) -> String {
    if n < 1000 {
        return en_below_thousand(n);
    }
    let head = format!("{} thousand", en_below_thousand(n / 1000));
    match n % 1000 {
        0 => head,
        rest => format!("{head} {}", en_below_thousand(rest)),
    }
}

/// `parseInt(digits, 10)` for a string of ASCII digits: the nearest double, infinity when too
/// large. V8 rounds decimal strings correctly, and so does Rust's float parser.
fn js_parse_int(digits: &str) -> f64 {
    // The callers pass one or more ASCII digits, which always parse; infinity is a safe answer
    // for a caller that breaks that promise since it prints as digits would not.
    digits.parse::<f64>().unwrap_or(f64::INFINITY)
}

/// `String(value)` in JavaScript for a non-negative integral double: plain digits below 1e21,
/// exponent form ("1.2345e+21") from there, "Infinity" past the largest double.
fn js_number_string(value: f64) -> String {
    if value.is_infinite() {
        return "Infinity".to_owned();
    }
    if value < 1e21 {
        // Rust prints the shortest round-trip digits padded with zeros, as JavaScript does.
        format!("{value}")
    } else {
        // Both use the shortest round-trip digits; JavaScript adds an explicit "+" to the exponent.
        format!("{value:e}").replacen('e', "e+", 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(n: u32, es: &str, en: &str) {
        assert_eq!(number_words(n, Lang::Es), es, "Spanish for {n}");
        assert_eq!(number_words(n, Lang::En), en, "English for {n}");
    }

    #[test]
    fn numbers_are_read_as_people_say_them() {
        check(0, "cero", "zero");
        check(16, "dieciséis", "sixteen");
        check(21, "veintiuno", "twenty-one");
        check(30, "treinta", "thirty");
        check(31, "treinta y uno", "thirty-one");
        check(100, "cien", "one hundred");
        check(101, "ciento uno", "one hundred one");
        check(500, "quinientos", "five hundred");
        check(999, "novecientos noventa y nueve", "nine hundred ninety-nine");
        check(1000, "mil", "one thousand");
        check(1001, "mil uno", "one thousand one");
        check(21_000, "veintiún mil", "twenty-one thousand");
        check(31_000, "treinta y un mil", "thirty-one thousand");
        check(101_000, "ciento un mil", "one hundred one thousand");
        check(
            999_999,
            "novecientos noventa y nueve mil novecientos noventa y nueve",
            "nine hundred ninety-nine thousand nine hundred ninety-nine",
        );
        check(1_000_000, "1000000", "1000000");
        check(u32::MAX, "4294967295", "4294967295");
    }

    #[test]
    fn ticket_digits_keep_the_printed_zeros_in_spanish_only() {
        assert_eq!(ticket_digits_words("023", Lang::Es), "cero veintitrés");
        assert_eq!(ticket_digits_words("023", Lang::En), "twenty-three");
        assert_eq!(ticket_digits_words("000", Lang::Es), "cero cero cero");
        assert_eq!(ticket_digits_words("000", Lang::En), "zero");
        assert_eq!(ticket_digits_words("0001234567", Lang::Es), "cero cero cero 1234567");
    }

    #[test]
    fn huge_digit_runs_print_like_javascript() {
        assert_eq!(digits_words("12345678901234567890", Lang::Es), "12345678901234567000");
        assert_eq!(digits_words("1234567890123456789012", Lang::En), "1.2345678901234568e+21");
        assert_eq!(digits_words("1000000000000000000000", Lang::En), "1e+21");
        assert_eq!(digits_words(&"9".repeat(400), Lang::En), "Infinity");
    }
}
