//! Stand-in until the SMS encoder lands (the modem branch): counts as GSM 7-bit without
//! extension characters. Replaced by `sms/` at merge.
pub fn segment_count(text: &str) -> usize {
    let (single, part) = if encoding_name(text) == "gsm7" { (160, 153) } else { (70, 67) };
    let n = text.chars().count();
    if n <= single {
        1
    } else {
        n.div_ceil(part)
    }
}
pub fn encoding_name(text: &str) -> &'static str {
    if text.chars().all(|c| c.is_ascii() || "éñÑüÜ¿¡àèùìòÇ".contains(c)) {
        "gsm7"
    } else {
        "ucs2"
    }
}
