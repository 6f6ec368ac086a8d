//! HTTP/1.1 over a bare socket: the target is sent byte for byte (no
//! normalisation of `..` or percent escapes), the body may be anything, and
//! it is written from another thread while the answer is read, as browsers
//! and proxies do, so a server that answers before reading a huge body is
//! heard rather than taken for a dropped connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::{Response, Server};

/// How long a raw request may take.
const RAW_TIMEOUT: Duration = Duration::from_secs(60);

/// How a raw request's body is framed.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `Content-Length`.
    Sized,
    /// `Transfer-Encoding: chunked`, in 64 KiB chunks: the server learns
    /// the size only by reading.
    Chunked,
}

impl Server {
    /// Sends `method target` with `headers` and `body` (as
    /// `application/json`, framed by `Content-Length`) on a fresh
    /// connection. `Err` says how the connection failed before a complete
    /// answer arrived.
    pub fn send_raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, String> {
        self.send_raw_framed(method, target, headers, body, Framing::Sized)
    }

    /// [`Server::send_raw`] with the body framed as given.
    pub fn send_raw_framed(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        framing: Framing,
    ) -> Result<Response, String> {
        let request = format!("{method} {}", self.url(target));
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("{request}: cannot connect: {e}"))?;
        stream
            .set_read_timeout(Some(RAW_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(RAW_TIMEOUT)))
            .map_err(|e| format!("{request}: {e}"))?;
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut payload = Vec::new();
        if let Some(body) = body {
            head.push_str("Content-Type: application/json\r\n");
            match framing {
                Framing::Sized => {
                    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
                    payload.extend_from_slice(body);
                }
                Framing::Chunked => {
                    head.push_str("Transfer-Encoding: chunked\r\n");
                    for chunk in body.chunks(64 * 1024) {
                        payload.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        payload.extend_from_slice(chunk);
                        payload.extend_from_slice(b"\r\n");
                    }
                    payload.extend_from_slice(b"0\r\n\r\n");
                }
            }
        }
        head.push_str("\r\n");
        let mut writer = stream.try_clone().map_err(|e| format!("{request}: {e}"))?;
        let sender = thread::spawn(move || {
            // The server may answer and close before reading everything;
            // what it answered is what counts.
            let _ = writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.write_all(&payload));
        });
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        let _ = stream.shutdown(Shutdown::Both);
        let _ = sender.join();
        let head_only = method.eq_ignore_ascii_case("HEAD");
        if let Err(error) = read {
            if parse(&answer, head_only).is_err() {
                return Err(format!(
                    "{request}: the connection failed after {} bytes of answer: {error}",
                    answer.len()
                ));
            }
        }
        let (status, headers, body) =
            parse(&answer, head_only).map_err(|why| format!("{request}: {why}"))?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Response {
            request,
            status,
            headers,
            text,
            body: json,
        })
    }
}

type Parsed = (u16, Vec<(String, String)>, Vec<u8>);

/// Status, headers and body of a complete HTTP/1.1 answer (of a `HEAD`
/// request, which has no body whatever its headers say, when `head_only`).
fn parse(answer: &[u8], head_only: bool) -> Result<Parsed, String> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no complete answer head in {} bytes", answer.len()))?;
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let rest = &answer[end + 4..];
    let body = if head_only {
        Vec::new()
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if rest.len() < length {
            return Err(format!(
                "the body ended after {} of {length} bytes",
                rest.len()
            ));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, headers, body))
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err("a chunk is cut".to_owned());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}
