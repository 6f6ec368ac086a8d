//! Binary HTTP for images (uploads, baked badges) and the independent
//! Python tools that read our baked badges: `openbadges-bakery` and
//! `pypng`, installed into `target/python-tools` by
//! `scripts/python-tools.sh` (pinned versions) once per test run.
//!
//! These tools are never skipped: without python3 and its venv module the
//! tests that need them fail, saying what to install.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::Server;

/// An answer with its body as bytes.
#[derive(Debug, Clone)]
pub struct Binary {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub bytes: Vec<u8>,
}

impl Binary {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or(serde_json::Value::Null)
    }
}

fn read(response: ureq::Response) -> Binary {
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .flat_map(|name| {
            response
                .all(&name)
                .into_iter()
                .map(|v| (name.to_ascii_lowercase(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut bytes = Vec::new();
    response
        .into_reader()
        .read_to_end(&mut bytes)
        .expect("read the body");
    Binary {
        status,
        headers,
        bytes,
    }
}

impl Server {
    /// `method target` with `headers` and a binary body; any status.
    pub fn send_binary(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Binary {
        let url = self.target_url(target);
        let mut request = ureq::request(method, &url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => read(response),
            Err(error) => panic!("{method} {url}: {error}; server output:\n{}", self.output()),
        }
    }

    /// `POST target` with a `multipart/form-data` body of one part
    /// `field` holding `bytes`, sent as `filename` of `content_type`.
    pub fn upload(
        &self,
        target: &str,
        field: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Binary {
        self.upload_with(target, &[], field, filename, content_type, bytes)
    }

    /// [`Server::upload`] with more request headers (credentials).
    pub fn upload_with(
        &self,
        target: &str,
        headers: &[(&str, &str)],
        field: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Binary {
        let boundary = "----openbadges-e2e-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let mut all = vec![("Content-Type", content_type.as_str())];
        all.extend_from_slice(headers);
        self.send_binary("POST", target, &all, Some(&body))
    }
}

/// The Python of `target/python-tools`, made by `scripts/python-tools.sh`
/// on first use; panics saying why when it cannot be made.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PYTHON.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("scripts")
            .join("python-tools.sh");
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}):\n{}",
                script.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Ok(PathBuf::from(path))
    });
    match made {
        Ok(path) => path,
        Err(error) => panic!(
            "the independent Python tools (openbadges-bakery, pypng) cannot be installed: {error}\n\
             Install python3 with its venv module and pip (scripts/install-deps.sh does: python3-venv, \
             python3-pip) and make PyPI reachable."
        ),
    }
}

/// Runs `code` with the tools' Python, `args` as `sys.argv[1:]`; its
/// standard output, or a panic with everything it printed.
pub fn run_python(code: &str, args: &[&str]) -> String {
    let output = Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "python failed ({}):\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("python printed UTF-8")
}

/// The badge `openbadges-bakery` reads out of the image file at `path`.
pub fn bakery_unbake(path: &Path) -> String {
    run_python(
        "import sys\nfrom openbadges_bakery import unbake\nwith open(sys.argv[1], 'rb') as f:\n    sys.stdout.write(unbake(f))",
        &[&path.to_string_lossy()],
    )
}

/// The text of the `iTXt` chunk with `keyword` that `pypng` reads out of
/// the PNG at `path` (which it also decodes whole, pixels included);
/// panics unless there is exactly one, uncompressed.
pub fn pypng_itxt(path: &Path, keyword: &str) -> String {
    run_python(
        r#"import sys, png
reader = png.Reader(filename=sys.argv[1])
found = []
for kind, data in reader.chunks():
    if kind == b'iTXt':
        key, rest = data.split(b'\x00', 1)
        if key == sys.argv[2].encode():
            assert rest[0] == 0, 'compressed iTXt'
            lang, rest = rest[2:].split(b'\x00', 1)
            translated, text = rest.split(b'\x00', 1)
            found.append(text.decode('utf-8'))
assert len(found) == 1, 'expected one iTXt %s chunk, found %d' % (sys.argv[2], len(found))
width, height, rows, info = png.Reader(filename=sys.argv[1]).read()
assert sum(1 for _ in rows) == height
sys.stdout.write(found[0])"#,
        &[&path.to_string_lossy(), keyword],
    )
}
