//! Which TCP ports have a listener in this network namespace, from one `sock_diag` netlink dump
//! per address family (what `ss -ltn` asks the kernel).
//!
//! A dump costs about the same whatever the number of ports asked about (≈ 20–30 µs per family
//! on the 2-core VM, most of it the kernel walking its listening hash), where a refused
//! `connect` costs ≈ 12 µs per port: with many containers starting at once, one dump per round
//! replaces a storm of refused connections. It is a filter only: a port it lists is then
//! confirmed by a real connection, so a listener on an address 127.0.0.1 does not reach costs
//! one refused connect, never a wrong answer.

use std::collections::HashSet;
use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr};

/// Longest wait for one part of the kernel's answer (it answers at once; this only bounds a
/// kernel that never does).
const RECV_TIMEOUT: Duration = Duration::from_millis(100);

/// Receive buffer: larger than the biggest netlink dump message the kernel builds (32 KiB).
const BUFFER: usize = 64 * 1024;

/// A `NETLINK_SOCK_DIAG` socket, its receive buffer and the two dump requests it sends.
pub struct Listeners {
    socket: Socket,
    buffer: Vec<u8>,
    /// The IPv4 and IPv6 requests, serialized once.
    requests: [Vec<u8>; 2],
}

impl Listeners {
    /// Opens the netlink socket; fails where sock_diag is unavailable (then probes connect).
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket2::SockRef::from(&socket).set_read_timeout(Some(RECV_TIMEOUT))?;
        Ok(Listeners {
            socket,
            buffer: Vec::with_capacity(BUFFER),
            requests: [request(AF_INET), request(AF_INET6)],
        })
    }

    /// Local ports of every listening TCP socket, IPv4 and IPv6.
    pub fn ports(&mut self) -> io::Result<HashSet<u16>> {
        let mut ports = HashSet::new();
        for family in 0..self.requests.len() {
            self.dump(family, &mut ports)?;
        }
        Ok(ports)
    }

    /// One dump (of `self.requests[family]`'s listening sockets) into `ports`.
    fn dump(&mut self, family: usize, ports: &mut HashSet<u16>) -> io::Result<()> {
        self.socket.send(&self.requests[family], 0)?;
        loop {
            self.buffer.clear();
            let len = self.socket.recv(&mut self.buffer, 0)?;
            let mut at = 0;
            while at < len {
                let message = NetlinkMessage::<SockDiagMessage>::deserialize(&self.buffer[at..len])
                    .map_err(|e| io::Error::other(format!("sock_diag answer: {e}")))?;
                match message.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(socket)) => {
                        ports.insert(socket.header.socket_id.source_port);
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return Err(io::Error::other(format!("sock_diag refused: {e}")))
                    }
                    _ => {}
                }
                let step = message.header.length as usize;
                if step == 0 {
                    break;
                }
                at += step;
            }
        }
    }
}

/// A dump request for `family`'s TCP sockets in LISTEN.
fn request(family: u8) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let socket_id = if family == AF_INET6 {
        SocketId::new_v6()
    } else {
        SocketId::new_v4()
    };
    let mut message = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id,
        })
        .into(),
    );
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ipv4_and_ipv6_listeners_and_not_closed_ports() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let any = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let v6 = std::net::TcpListener::bind("[::]:0").ok();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut listeners = Listeners::open().expect("sock_diag is available on Linux");
        let ports = listeners.ports().unwrap();
        for l in [Some(&v4), Some(&any), v6.as_ref()].into_iter().flatten() {
            let port = l.local_addr().unwrap().port();
            assert!(ports.contains(&port), "{port} not in {ports:?}");
        }
        assert!(!ports.contains(&closed), "{closed} closed but listed");
        // Connected sockets are not listeners.
        let conn = std::net::TcpStream::connect(v4.local_addr().unwrap()).unwrap();
        let ports = listeners.ports().unwrap();
        assert!(!ports.contains(&conn.local_addr().unwrap().port()));
    }

    #[test]
    fn many_listeners_take_more_than_one_receive() {
        // 400 sockets of ≥ 72 bytes each: more than one part of a dump (≤ 32 KiB each).
        let many: Vec<_> = (0..400)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports = Listeners::open().unwrap().ports().unwrap();
        for l in &many {
            assert!(ports.contains(&l.local_addr().unwrap().port()));
        }
    }
}
