//! Central serving signage media to many offices at once, against the real release
//! `fila-central` process: an administrator uploads a 20 MiB video, then 200 offices' boxes
//! download it at the same moment. Reports the time until all have it whole, the aggregate
//! throughput, and central's RSS before and at its peak (files are streamed from disk, never
//! held whole in memory).
//!
//! `cargo bench -p fila-central --bench media_serve` (without `--bench`, 10 offices and 2 MiB).

mod support;

use std::time::Instant;

use sha2::{Digest, Sha256};
use support::{free_port, Central};

const ADMIN: &str = "bench-admin-token";

fn token(office: usize) -> String {
    format!("bench-branch-token-{office:05}")
}

/// A valid MP4 of `bytes`: a real two-second clip, then a `free` box as padding.
fn video(bytes: usize) -> Vec<u8> {
    let clip = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../media/tests/fixtures/clip-160x90-2s.mp4"))
        .expect("the fixture clip");
    let padding = bytes - clip.len();
    let mut file = clip;
    file.extend_from_slice(&(padding as u32).to_be_bytes());
    file.extend_from_slice(b"free");
    file.resize(bytes, 0);
    file
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let (offices, size) = if quick { (10, 2 << 20) } else { (200, 20 << 20) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("dir");
        let port = free_port();
        let mut text = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\ncache_mb = 32\n\
             [[analysts]]\nname = \"Bench\"\ntoken_sha256 = \"{}\"\ncan_configure = true\n",
            dir.path().join("data").display(),
            hex::encode(Sha256::digest(ADMIN.as_bytes()))
        );
        for o in 0..offices {
            let hash = hex::encode(Sha256::digest(token(o).as_bytes()));
            text += &format!("[[offices]]\nid = \"o{o}\"\nname = \"Office {o}\"\ntoken_sha256 = \"{hash}\"\n");
        }
        let config = dir.path().join("central.toml");
        std::fs::write(&config, text).expect("config");
        let central = Central::start(&config, port).await;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder().pool_max_idle_per_host(offices).build().expect("client");

        let file = video(size);
        let uploaded = Instant::now();
        let response =
            client.post(format!("{base}/api/v1/signage/media")).bearer_auth(ADMIN).body(file.clone()).send().await;
        let status = response.expect("uploaded").status();
        assert!(status.is_success(), "upload: {status}");
        let upload_time = uploaded.elapsed();
        let sha = hex::encode(Sha256::digest(&file));
        let idle_rss = central.memory_mib("VmRSS:");

        let (started, ticks) = (Instant::now(), central.cpu_ticks());
        let downloads: Vec<_> = (0..offices)
            .map(|o| {
                let (client, url, token) = (client.clone(), format!("{base}/api/v1/signage/media/{sha}"), token(o));
                tokio::spawn(async move {
                    let mut response = client.get(url).bearer_auth(token).send().await.expect("fetched");
                    assert!(response.status().is_success());
                    let mut received = 0usize;
                    while let Some(chunk) = response.chunk().await.expect("chunk") {
                        received += chunk.len();
                    }
                    received
                })
            })
            .collect();
        let mut peak = 0.0f64;
        let mut total = 0usize;
        for download in downloads {
            peak = peak.max(central.memory_mib("VmRSS:"));
            total += download.await.expect("download");
        }
        let took = started.elapsed();
        let cpu = (central.cpu_ticks() - ticks) as f64 / 100.0;
        assert_eq!(total, offices * size, "every office got the whole file");
        let peak = peak.max(central.memory_mib("VmHWM:"));
        println!("| measurement | result |\n|---|---|");
        println!("| upload of {} MiB (received, hashed, checked, stored) | {upload_time:.2?} |", size >> 20);
        println!(
            "| {offices} offices download it at once | all whole in {took:.2?}; {:.0} MiB/s in all |",
            total as f64 / (1 << 20) as f64 / took.as_secs_f64()
        );
        println!("| central CPU while serving | {cpu:.2} s ({:.0} % of one core) |", 100.0 * cpu / took.as_secs_f64());
        println!("| central RSS | {idle_rss:.0} MiB idle after the upload, peak {peak:.0} MiB (VmHWM) |");
    });
}
