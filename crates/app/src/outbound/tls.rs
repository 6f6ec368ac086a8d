//! TLS for outbound requests: rustls (ring) with the Mozilla roots
//! (webpki-roots), plugged into ureq through its `TlsConnector` hook, so
//! ureq needs none of its own TLS features.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use ureq::{ReadWrite, TlsConnector};

/// Connects TLS over a socket ureq opened to a vetted address.
pub struct Rustls(Arc<rustls::ClientConfig>);

impl Rustls {
    /// TLS 1.2 and 1.3, certificates checked against the Mozilla roots.
    pub fn new() -> Result<Self, String> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // ring, as lettre uses already; rustls now prefers aws-lc-rs (for
        // post-quantum key exchange), a large C build this project avoids.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self(Arc::new(config)))
    }
}

impl TlsConnector for Rustls {
    fn connect(
        &self,
        dns_name: &str,
        mut io: Box<dyn ReadWrite>,
    ) -> Result<Box<dyn ReadWrite>, ureq::Error> {
        let bare = dns_name
            .strip_prefix('[')
            .and_then(|name| name.strip_suffix(']'))
            .unwrap_or(dns_name);
        let name = ServerName::try_from(bare.to_owned()).map_err(|e| {
            failure(
                io::ErrorKind::InvalidInput,
                format!("TLS server name {bare}: {e}"),
            )
        })?;
        let mut connection = rustls::ClientConnection::new(Arc::clone(&self.0), name)
            .map_err(|e| failure(io::ErrorKind::Other, format!("TLS setup: {e}")))?;
        connection
            .complete_io(&mut io)
            .map_err(|e| failure(e.kind(), format!("TLS handshake: {e}")))?;
        Ok(Box::new(TlsStream(rustls::StreamOwned::new(
            connection, io,
        ))))
    }
}

/// ureq's error for a TLS failure (its own constructors are private).
fn failure(kind: io::ErrorKind, message: String) -> ureq::Error {
    io::Error::new(kind, message).into()
}

/// A TLS session over ureq's socket.
struct TlsStream(rustls::StreamOwned<rustls::ClientConnection, Box<dyn ReadWrite>>);

impl ReadWrite for TlsStream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.get_ref().socket()
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsStream")
    }
}
