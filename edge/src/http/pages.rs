//! The web pages, embedded in the binary: kiosk, counter console, waiting-room display,
//! citizen tracking page, exit-survey tablet. Their strings, per language, live in `pages/i18n.js`.

use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "pages/"]
struct Pages;

fn serve(name: &str) -> HttpResponse {
    match Pages::get(name) {
        Some(file) => {
            let mime = mime_guess::from_path(name).first_or_octet_stream();
            HttpResponse::Ok()
                .insert_header(("Content-Type", format!("{mime}; charset=utf-8")))
                .insert_header(("Cache-Control", "no-cache"))
                .body(file.data.into_owned())
        }
        None => HttpResponse::NotFound().json(super::error::ErrorBody::new("not_found", format!("no page {name}"))),
    }
}

pub async fn index() -> HttpResponse {
    serve("index.html")
}
pub async fn kiosk() -> HttpResponse {
    serve("kiosk.html")
}
pub async fn counter() -> HttpResponse {
    serve("counter.html")
}
pub async fn display() -> HttpResponse {
    serve("display.html")
}
pub async fn exit() -> HttpResponse {
    serve("exit.html")
}
pub async fn track(_token: web::Path<String>) -> HttpResponse {
    serve("track.html")
}
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if name.ends_with(".html") || name.contains('/') {
        return serve("");
    }
    serve(&name)
}
