//! In-process blob serving: a registry started in this process serves one 64 MiB blob,
//! unthrottled and at 1 GB/s, to one or four concurrent GETs over 127.0.0.1 (the body goes
//! through `paced_file`). Throughput is of the blob bytes read by the clients.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use coldbench::registry::{Registry, RegistryConfig};
use coldbench::units::Rate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BLOB: usize = 64 * 1024 * 1024;

/// One GET of `path`; returns the bytes after the response head.
async fn get(addr: SocketAddr, path: String) -> u64 {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("request");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    let mut head: Option<usize> = None;
    let mut seen = Vec::new();
    loop {
        let n = s.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        if head.is_none() {
            seen.extend_from_slice(&buf[..n]);
            if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                head = Some(i + 4);
                total += (seen.len() - i - 4) as u64;
            }
        } else {
            total += n as u64;
        }
    }
    total
}

fn serving(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let blob: Vec<u8> = (0..BLOB).map(|i| (i * 31 % 251) as u8).collect();
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let mut group = c.benchmark_group("blob_serving");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (name, rate) in [("unthrottled", None), ("1GB/s", Some("1GB/s"))] {
        let mut config = RegistryConfig::new(dir.path().join(name.replace('/', "_")), listen);
        config.bandwidth = rate.map(|r| r.parse::<Rate>().expect("rate"));
        let registry = rt.block_on(Registry::start(config)).expect("registry");
        let digest = registry.store().put_blob(&blob).expect("blob");
        let addr = registry.addr();
        let path = format!("/v2/bench/blobs/{digest}");
        for clients in [1usize, 4] {
            group.throughput(Throughput::Bytes((BLOB * clients) as u64));
            group.bench_function(format!("{name}/{clients}_clients"), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let got = rt.block_on(async {
                            let gets = (0..clients).map(|_| tokio::spawn(get(addr, path.clone())));
                            let mut sum = 0;
                            for g in gets.collect::<Vec<_>>() {
                                sum += g.await.expect("get");
                            }
                            sum
                        });
                        assert_eq!(got, (BLOB * clients) as u64);
                    }
                    start.elapsed()
                })
            });
        }
        rt.block_on(registry.shutdown());
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters backend needs system fonts, which a CI machine may lack.
    config = Criterion::default().without_plots();
    targets = serving
}
criterion_main!(benches);
