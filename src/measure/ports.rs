//! Ports for containers on the host network, chosen *below* the kernel's ephemeral range.
//!
//! A port is handed to a container about a second before it binds it (pull, create, start).
//! A port from the ephemeral range (what binding port 0 gives) can be taken in that time as the
//! local port of any outgoing connection on the host — the engine's pulls from the registry, the
//! probes' own connects — and the container's bind then fails with "address in use". Ports
//! below `net.ipv4.ip_local_port_range` are never picked for outgoing connections, so only an
//! explicit bind by another program can take them.

use std::io;
use std::net::{Ipv4Addr, TcpListener};

use rand::Rng;

/// Lowest port handed out.
const LOWEST: u16 = 10_000;

/// Ports tried per port wanted before giving up.
const TRIES_PER_PORT: usize = 200;

/// `n` distinct ports free on 127.0.0.1: all bound at once (so they differ), then released
/// together. Each entry is an error only when no free port was found.
pub fn reserve(n: usize) -> Vec<io::Result<u16>> {
    let (low, high) = range();
    let mut rng = rand::rng();
    let mut held: Vec<io::Result<TcpListener>> = Vec::with_capacity(n);
    for _ in 0..n {
        let found = (0..TRIES_PER_PORT)
            .map(|_| rng.random_range(low..high))
            .find_map(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok());
        // A machine whose range leaves nothing below it: fall back to the kernel's choice.
        held.push(found.map_or_else(|| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)), Ok));
    }
    held.into_iter()
        .map(|l| l.and_then(|l| l.local_addr()).map(|a| a.port()))
        .collect()
}

/// One free port, as [`reserve`].
pub fn free_port() -> io::Result<u16> {
    reserve(1)
        .pop()
        .unwrap_or_else(|| Err(io::Error::other("no port reserved")))
}

/// `[LOWEST, start of the ephemeral range)`, or the kernel's default start (32768) when the
/// range cannot be read; an empty range when the ephemeral range starts at or below `LOWEST`.
fn range() -> (u16, u16) {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    (LOWEST, start.max(LOWEST + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_free_and_below_the_ephemeral_range() {
        let (_, ephemeral) = range();
        let ports: Vec<u16> = reserve(64).into_iter().map(Result::unwrap).collect();
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), 64, "{ports:?}");
        for port in ports {
            assert!((LOWEST..ephemeral).contains(&port), "{port}");
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("released and free");
        }
    }
}
