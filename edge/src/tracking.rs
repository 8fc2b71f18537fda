//! The citizen's tracking link, named in one place: the JSON API hands out its path, the
//! printer and the kiosk's screen draw it as a QR code, and the route table serves the page.
//! A leaf, so that devices can print the link without knowing the HTTP layer.

/// The tracking page of the ticket with this token, as a path on this box.
pub fn path(token: &str) -> String {
    format!("/t/{token}")
}

/// The tracking page as a citizen's phone reaches it: `base_url` is where the box is reached
/// (`https://turnos.example.gob` or `http://192.168.1.10:8080`).
pub fn url(base_url: &str, token: &str) -> String {
    format!("{}{}", base_url.trim_end_matches('/'), path(token))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_url_joins_the_base_and_the_path_with_one_slash() {
        assert_eq!(super::url("http://box:8080/", "ab12"), "http://box:8080/t/ab12");
        assert_eq!(super::url("https://turnos.example", "ab12"), "https://turnos.example/t/ab12");
    }
}
