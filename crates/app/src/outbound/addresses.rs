//! Which addresses an outbound request may reach. Names are resolved by us
//! and every address they resolve to is vetted here before any connection
//! (SSRF: a host's base URL or a did:web is named by a stranger, and must
//! not let them reach this machine, its network or a cloud metadata
//! service).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a connection may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public unicast addresses only: every HTTPS request.
    Public,
    /// Loopback addresses only: plain HTTP when the operator allowed it
    /// for tests (`OUTBOUND_ALLOW_LOOPBACK_HTTP`).
    Loopback,
}

impl Reach {
    /// Whether `address` may be connected to.
    pub fn allows(self, address: IpAddr) -> bool {
        match self {
            Self::Public => is_public(address),
            Self::Loopback => address.is_loopback(),
        }
    }
}

/// Whether `address` is a public unicast address: not private, loopback,
/// link-local (169.254.169.254, the cloud metadata service, is one),
/// unique-local (fd00:ec2::254 is one), shared (CGNAT), multicast,
/// unspecified, broadcast, reserved or documentation, nor an IPv6 form that
/// carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) and
/// could lead back to one of those.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let refused = a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    let segments = address.segments();
    let first = segments[0];
    let refused = address.is_unspecified()
        || address.is_loopback()
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d).
        || (segments[..5] == [0; 5] && (segments[5] == 0xffff || segments[5] == 0))
        || (first == 0x64 && segments[1] == 0xff9b) // NAT64
        || first == 0x2002 // 6to4
        || (first == 0x2001 && segments[1] == 0) // Teredo
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
        || (first == 0x0100 && segments[1..4] == [0; 3]) // discard-only
        || (first & 0xfe00) == 0xfc00 // unique-local, fd00:ec2::254 included
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first & 0xff00) == 0xff00; // multicast
    !refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().expect("an IP address"))
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "100::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!public(refused), "{refused} must be refused");
        }
    }

    #[test]
    fn public_unicast_addresses_are_allowed() {
        for allowed in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "169.253.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
        ] {
            assert!(public(allowed), "{allowed} must be allowed");
        }
    }

    #[test]
    fn loopback_reach_is_loopback_only() {
        let loopback = Reach::Loopback;
        assert!(loopback.allows("127.0.0.1".parse().expect("ip")));
        assert!(loopback.allows("::1".parse().expect("ip")));
        assert!(!loopback.allows("8.8.8.8".parse().expect("ip")));
        assert!(!loopback.allows("10.0.0.1".parse().expect("ip")));
        assert!(!Reach::Public.allows("127.0.0.1".parse().expect("ip")));
    }
}
