//! Headers every response carries, pages and API alike.
//!
//! The pages load their scripts and styles from `/assets` only (no inline script, style or
//! event handler), so the policy can forbid everything else: an injected `<script>` does not
//! run, no other site may frame a page (clickjacking the counter console), and no page leaks
//! its address in a `Referer` (a tracking page's address is the citizen's key to the ticket).

use actix_web::middleware::DefaultHeaders;

/// `img-src data:` is the empty favicon; `media-src blob:` the spoken call the display plays.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        // For browsers older than frame-ancestors.
        .add(("X-Frame-Options", "DENY"))
}
