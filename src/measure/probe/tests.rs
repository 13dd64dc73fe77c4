//! The probe against real sockets on 127.0.0.1.

use super::*;

/// Accepts one connection on `listener` and answers it 200.
fn answer_once(listener: std::net::TcpListener) {
    let (mut s, _) = listener.accept().unwrap();
    let mut buf = [0u8; 512];
    let _ = s.read(&mut buf);
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
}

/// A spec for `port` giving up after `timeout`.
fn spec_for(port: u16, timeout: Duration) -> ProbeSpec {
    ProbeSpec {
        port,
        path: "/".into(),
        status: 200,
        timeout,
        cancel: None,
    }
}

#[test]
fn waits_for_a_server_that_comes_up_late() {
    let port = free_port().unwrap();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        answer_once(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    });
    let spec = spec_for(port, Duration::from_secs(5));
    let t0 = Instant::now();
    let ready = wait_ready(&spec).unwrap();
    assert!(ready.at - t0 >= Duration::from_millis(50));
    // The server came up after several refused attempts: the gap is recorded, and it is
    // about the pause between rounds (less by at most how late the previous attempt came in
    // its round) and at most the time the probe ran.
    assert!(ready.attempts > 1, "{ready:?}");
    let gap = ready.gap.expect("a gap after refused attempts");
    assert!(gap >= POLL_INTERVAL / 2, "{gap:?}");
    assert!(gap <= ready.at - t0, "{gap:?} > {:?}", ready.at - t0);
    server.join().unwrap();
}

#[test]
fn the_async_probe_does_not_wait_for_a_busy_blocking_pool() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let port = free_port().unwrap();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = std::thread::spawn(move || answer_once(listener));
    rt.block_on(async {
        // The only blocking thread is busy for 2 s.
        let busy = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_secs(2)));
        tokio::task::yield_now().await;
        let spec = spec_for(port, Duration::from_secs(5));
        let t0 = Instant::now();
        wait_ready_async(spec).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        busy.await.unwrap();
    });
    server.join().unwrap();
}

#[test]
fn a_server_already_up_answers_the_first_attempt_without_a_gap() {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || answer_once(listener));
    let spec = spec_for(port, Duration::from_secs(5));
    let ready = wait_ready(&spec).unwrap();
    assert_eq!((ready.attempts, ready.gap), (1, None));
    assert_eq!(ready.record().gap_us, None);
    server.join().unwrap();
}

#[test]
fn gives_up_after_the_timeout() {
    let spec = spec_for(free_port().unwrap(), Duration::from_millis(30));
    let e = wait_ready(&spec).unwrap_err().to_string();
    assert!(e.contains("no HTTP 200") && e.contains("attempts"), "{e}");
}

#[test]
fn many_probes_at_once_share_the_watcher_and_each_finds_its_server() {
    // More pending ports than CONNECT_AT_MOST: rounds list listeners before connecting.
    let n = 3 * watch::CONNECT_AT_MOST as u64;
    let t0 = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let port = free_port().unwrap();
            let up_after = Duration::from_millis(100 + 20 * i);
            let server = std::thread::spawn(move || {
                std::thread::sleep(up_after);
                answer_once(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
            });
            let probe =
                std::thread::spawn(move || wait_ready(&spec_for(port, Duration::from_secs(10))));
            (up_after, server, probe)
        })
        .collect();
    for (up_after, server, probe) in handles {
        let ready = probe.join().unwrap().unwrap();
        server.join().unwrap();
        // Never before the server was up; refused checks before it, so a gap.
        assert!(ready.at - t0 >= up_after, "{ready:?} before {up_after:?}");
        assert!(ready.attempts > 1, "{ready:?}");
        // Rounds are POLL_INTERVAL apart, but an attempt's place in its round varies with
        // the other probes': only physics bounds here.
        let gap = ready.gap.expect("a gap after refused checks");
        assert!(gap > Duration::ZERO && gap <= ready.at - t0, "{gap:?}");
    }
}

#[test]
fn a_listed_port_that_127_0_0_1_cannot_reach_stays_pending() {
    // Listening on ::1 only: a dump lists the port, a connect to 127.0.0.1 is refused.
    let Ok(v6) = std::net::TcpListener::bind("[::1]:0") else {
        return; // no IPv6 loopback on this machine: nothing to mistake
    };
    let port = v6.local_addr().unwrap().port();
    let (reply, seen) = mpsc::channel();
    let mut w = watch::Watch::new(spec_for(port, Duration::from_secs(5)), Reply::Sync(reply));
    let listed = std::collections::HashSet::from([port]);
    w.attempt(Some(&listed), Instant::now());
    assert!(!w.connected(), "127.0.0.1 does not reach [::1]");
    // Not listed: not even a connect; still pending, nothing answered.
    w.attempt(Some(&Default::default()), Instant::now());
    assert!(!w.connected());
    drop(w);
    assert!(seen.try_recv().is_err(), "nothing answered while refused");
}

#[test]
fn a_cancelled_probe_gives_up_at_once_with_its_last_error() {
    let cancel = Arc::new(AtomicBool::new(false));
    let mut spec = spec_for(free_port().unwrap(), Duration::from_secs(30));
    spec.cancel = Some(cancel.clone());
    let t0 = Instant::now();
    let probe = std::thread::spawn(move || wait_ready(&spec));
    std::thread::sleep(Duration::from_millis(30));
    cancel.store(true, Ordering::Relaxed);
    let e = probe.join().unwrap().unwrap_err().to_string();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(e.contains("refused"), "{e}");
}

#[test]
fn a_server_that_answers_503_first_is_polled_until_200() {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for status in [
            "503 Service Unavailable",
            "503 Service Unavailable",
            "200 OK",
        ] {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            s.write_all(answer.as_bytes()).unwrap();
        }
    });
    let ready = wait_ready(&spec_for(port, Duration::from_secs(5))).unwrap();
    assert_eq!(ready.attempts, 3, "{ready:?}");
    assert!(ready.gap.unwrap() >= POLL_INTERVAL / 2);
    server.join().unwrap();
}
