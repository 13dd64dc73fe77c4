//! coldbench-hello: the tiny HTTP server that synthetic images run as their entrypoint.
//!
//! Listens on `$HOST:$PORT` (defaults 127.0.0.1:8080) and answers every request with
//! `200 OK` and a short body. Standard library only, so it builds as a small static binary
//! that runs in a `FROM scratch` image.
//!
//! With `COLDBENCH_PAUSE` set it is a pod's pause (sandbox) container instead: it only sleeps
//! until it is killed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() {
    if std::env::var_os("COLDBENCH_PAUSE").is_some() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_string());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".to_string());
    let addr = format!("{host}:{port}");
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("coldbench-hello: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("coldbench-hello: listening on {addr}");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || answer(stream));
    }
}

/// Reads one request head and answers it with 200.
fn answer(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = "hello from coldbench\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}
