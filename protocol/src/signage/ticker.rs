//! The ticker's small, safe subset of Markdown: `**bold**` and `*italic*` (or `_italic_`), and
//! nothing else. It becomes spans of plain text that the page puts in the DOM as text, so no
//! markup, link or script in a ticker can ever reach the screen as HTML.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bold: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub italic: bool,
}

/// `text` as spans. Whitespace runs (line breaks too) become one space; a marker without its
/// closing partner is kept as the character it is.
pub fn spans(text: &str) -> Vec<Span> {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Span> = Vec::new();
    let (mut bold, mut italic) = (false, false);
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let len = if chars[i..].starts_with(&['*', '*']) { 2 } else { 1 };
        let marker = &chars[i..i + len];
        let is_marker = len == 2 || matches!(chars[i], '*' | '_');
        let open = if len == 2 { bold } else { italic };
        // As in Markdown: an opener touches the text after it, a closer the text before it, and
        // an opener needs its closer further on ("5 * 3" and a lone "**" stay as written).
        let toggles = is_marker
            && if open {
                i > 0 && !chars[i - 1].is_whitespace()
            } else {
                chars.get(i + len).is_some_and(|c| !c.is_whitespace())
                    && (i + len + 1..chars.len())
                        .any(|j| chars[j..].starts_with(marker) && !chars[j - 1].is_whitespace())
            };
        if toggles {
            push(&mut out, &mut current, bold, italic);
            if len == 2 {
                bold = !bold;
            } else {
                italic = !italic;
            }
        } else {
            current.extend(marker);
        }
        i += len;
    }
    push(&mut out, &mut current, bold, italic);
    out
}

fn push(out: &mut Vec<Span>, current: &mut String, bold: bool, italic: bool) {
    if !current.is_empty() {
        out.push(Span { text: std::mem::take(current), bold, italic });
    }
}
