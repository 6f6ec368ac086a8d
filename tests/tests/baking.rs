//! Hosted images and baked badges (issue 15, items 1 and 2), end to end on
//! both backends: uploads of every accepted type come back byte for byte
//! with their ETag; hostile uploads (a text file named .png, polyglots, an
//! SVG with a script, a handler, `foreignObject` or an external reference,
//! a decompression bomb, a file over `ASSETS_MAX_FILE_SIZE`) get a clear
//! 4xx and store nothing (the `assets` rows are counted in the database);
//! baked badges are read by independent tools (`openbadges-bakery` for OB
//! 2.0 PNG and SVG, `pypng` for the OB 3.0 `iTXt` chunk; see
//! `openbadges_e2e::images`) and verify through `POST /verify`, which
//! reports a revoked award's baked image as revoked.
//!
//! The credential read out of the PNG by pypng is also verified by the
//! Digital Bazaar stack: `tests/tests/interop.rs`.

#[macro_use]
extern crate openbadges_e2e;

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use openbadges_e2e::images::{bakery_unbake, pypng_itxt, Binary};
use openbadges_e2e::{
    achievement_body, award_body, issuer_body, uuid_of, Backend, Caller, OnBothBackends, Server,
    Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::{json, Value};

const PNG: &[u8] = include_bytes!("../../crates/baking/testdata/tiny.png");
const JPEG: &[u8] = include_bytes!("../../crates/baking/testdata/tiny.jpg");
const GIF: &[u8] = include_bytes!("../../crates/baking/testdata/tiny.gif");
const WEBP: &[u8] = include_bytes!("../../crates/baking/testdata/tiny.webp");
const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><style>circle { fill: url(#g) }</style><defs><radialGradient id="g"><stop offset="0" stop-color="gold"/></radialGradient></defs><circle cx="32" cy="32" r="30"/></svg>"##;
/// The upload limit the scenarios run with.
const LIMIT: usize = 4096;

/// A server with a small upload limit on a fresh database of one backend;
/// the server stops before the database goes.
struct Fixture {
    server: Server,
    storage: Storage,
}

impl OnBothBackends for Fixture {
    fn on(backend: Backend) -> Self {
        let storage = Storage::create(backend);
        let server = storage
            .launch()
            .base_url_at_own_address()
            .env("AUTH_ENABLED", "false")
            .env("ASSETS_MAX_FILE_SIZE", LIMIT.to_string())
            .start();
        Self { server, storage }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The result of a one-row `SELECT ... AS n` on the storage's database.
fn count(storage: &Storage, sql: &str) -> i64 {
    let query = diesel::sql_query(sql);
    let count: Count = match storage.database() {
        Some(database) => {
            let mut conn = PgConnection::establish(database.url()).expect("connect");
            query.get_result(&mut conn).expect("count")
        }
        None => {
            let file = storage.sqlite_file().expect("a SQLite file");
            let mut conn = SqliteConnection::establish(&file.to_string_lossy()).expect("open");
            query.get_result(&mut conn).expect("count")
        }
    };
    count.n
}

impl Fixture {
    /// Rows of the `assets` table, read from the database itself.
    fn stored(&self) -> i64 {
        count(&self.storage, "SELECT COUNT(*) AS n FROM assets")
    }

    fn created(&self, path: &str, body: &Value) -> Value {
        let response = self.server.post(path, body);
        response.assert_status(201);
        response.body
    }

    /// An issuer, an achievement whose image is `image` (if any), and one
    /// signed award of it: the award's UUID.
    fn award(&self, image: Option<&str>) -> String {
        let issuer = uuid_of(&self.created("/issuers", &issuer_body("Baking issuer")));
        let mut badge = achievement_body(&issuer, "Baked badge");
        if let Some(image) = image {
            badge["image"] = json!(image);
        }
        let badge = uuid_of(&self.created("/achievements", &badge));
        uuid_of(&self.created("/credentials", &award_body(&badge, "baker@example.org")))
    }

    /// `POST /verify` with `bytes` as the raw body of `content_type`.
    fn verify_raw(&self, content_type: &str, bytes: &[u8]) -> Value {
        let answer = self.server.send_binary(
            "POST",
            "/verify",
            &[("Content-Type", content_type)],
            Some(bytes),
        );
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.bytes)
        );
        answer.json()
    }

    fn image(&self, path: &str, headers: &[(&str, &str)]) -> Binary {
        let answer = self.server.send_binary("GET", path, headers, None);
        assert_eq!(
            answer.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&answer.bytes)
        );
        answer
    }
}

#[track_caller]
fn assert_refused(answer: &Binary, status: u16, field: &str, words: &str) {
    let body = answer.json();
    assert_eq!(answer.status, status, "{body}");
    let text = body.to_string();
    if status == 400 {
        assert_eq!(body["error"], "Validation error", "{body}");
        assert!(body["details"][field].is_array(), "names {field}: {body}");
    }
    assert!(text.contains(words), "says {words:?}: {body}");
}

fn uploads_round_trip(f: &Fixture) {
    let svg = SVG.as_bytes();
    let cases: [(&[u8], &str, &str); 5] = [
        (PNG, "image/png", "a.png"),
        (JPEG, "image/jpeg", "a.jpg"),
        (GIF, "image/gif", "a.gif"),
        (WEBP, "image/webp", "a.webp"),
        (svg, "image/svg+xml", "a.svg"),
    ];
    for (index, (bytes, media_type, name)) in cases.iter().enumerate() {
        // Through both paths; the part's own type is ignored.
        let path = if index % 2 == 0 {
            "/assets"
        } else {
            "/v1/assets"
        };
        let answer = f
            .server
            .upload(path, "file", name, "application/octet-stream", bytes);
        let body = answer.json();
        assert_eq!(answer.status, 201, "{name}: {body}");
        assert_eq!(body["mediaType"], *media_type, "{name}");
        assert_eq!(body["size"], bytes.len(), "{name}");
        let url = body["url"].as_str().expect("a url").to_owned();
        assert_eq!(answer.header("location"), Some(url.as_str()));
        assert!(url.starts_with(&format!("{}/assets/", f.server.base_url())));

        let got = f.image(&url, &[]);
        assert_eq!(got.bytes, *bytes, "{name} comes back byte for byte");
        assert_eq!(got.header("content-type"), Some(*media_type));
        assert_eq!(
            got.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
        let etag = got.header("etag").expect("an ETag").to_owned();
        assert_eq!(
            etag,
            format!("\"{}\"", body["etag"].as_str().expect("etag"))
        );
        if *media_type == "image/svg+xml" {
            assert_eq!(
                got.header("content-security-policy"),
                Some("default-src 'none'; style-src 'unsafe-inline'; sandbox")
            );
        }
        let again = f
            .server
            .send_binary("GET", &url, &[("If-None-Match", &etag)], None);
        assert_eq!(again.status, 304, "{name}");
        assert!(again.bytes.is_empty());
    }
    assert_eq!(f.stored(), 5);
    // An achievement may use one, and name it as its image.
    let url = f
        .server
        .upload("/assets", "file", "b.png", "image/png", PNG)
        .json()["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let issuer = uuid_of(&f.created("/issuers", &issuer_body("Image issuer")));
    let mut badge = achievement_body(&issuer, "With an uploaded image");
    badge["image"] = json!(url);
    let doc = f.created("/achievements", &badge);
    assert!(doc.to_string().contains(&url), "{doc}");
    let missing = format!("{}/assets/{}", f.server.base_url(), uuid::Uuid::new_v4());
    f.server.fetch(&missing).assert_status(404);
}

/// A PNG whose header declares `width` x `height`.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = PNG.to_vec();
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// CRC-32 (PNG's), written out so that the test does not share the
/// server's implementation.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn hostile_uploads_store_nothing(f: &Fixture) {
    let mut png_zip = PNG.to_vec();
    png_zip.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00 a zip riding along");
    let mut jpeg_html = JPEG.to_vec();
    jpeg_html.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let svg = |body: &str| {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{body}</svg>"#)
            .into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "text named .png",
            b"hello, I am text".to_vec(),
            "badge.png",
            "not a PNG, JPEG, GIF, WebP or SVG",
        ),
        (
            "HTML",
            b"<html><body>hi</body></html>".to_vec(),
            "x.svg",
            "not a PNG, JPEG, GIF, WebP or SVG",
        ),
        ("PNG + ZIP polyglot", png_zip, "p.png", "data after its end"),
        (
            "JPEG + HTML polyglot",
            jpeg_html,
            "p.jpg",
            "data after its end",
        ),
        (
            "SVG with a script",
            svg("<script>alert(1)</script>"),
            "s.svg",
            "<script>",
        ),
        (
            "SVG with onload",
            svg(r#"<rect onload="alert(1)"/>"#),
            "s.svg",
            "onload",
        ),
        (
            "SVG with foreignObject",
            svg("<foreignObject><p>hi</p></foreignObject>"),
            "s.svg",
            "foreignObject",
        ),
        (
            "SVG with an external href",
            svg(r#"<image href="https://evil.example/x.png"/>"#),
            "s.svg",
            "external reference",
        ),
        (
            "SVG with an external xlink:href",
            svg(r#"<use xlink:href="http://evil.example/a.svg#x"/>"#),
            "s.svg",
            "external reference",
        ),
        (
            "SVG/HTML hybrid",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/><html><script>alert(1)</script></html>"
                .to_vec(),
            "h.svg",
            "more than one root element",
        ),
        (
            "decompression bomb",
            png_declaring(100_000, 100_000),
            "bomb.png",
            "100000x100000",
        ),
    ];
    for (what, bytes, name, words) in &cases {
        let answer = f.server.upload("/assets", "file", name, "image/png", bytes);
        assert!(
            answer.status == 400,
            "{what}: {}",
            String::from_utf8_lossy(&answer.bytes)
        );
        assert_refused(&answer, 400, "file", words);
    }
    // Over ASSETS_MAX_FILE_SIZE: 413, said so.
    let big = vec![0x89u8; LIMIT + 1];
    let answer = f
        .server
        .upload("/assets", "file", "big.png", "image/png", &big);
    assert_refused(&answer, 413, "file", "ASSETS_MAX_FILE_SIZE");
    // No `file` part; not multipart at all.
    let answer = f
        .server
        .upload("/assets", "image", "a.png", "image/png", PNG);
    assert_refused(&answer, 400, "file", "file");
    let answer = f.server.send_binary(
        "POST",
        "/assets",
        &[("Content-Type", "image/png")],
        Some(PNG),
    );
    assert_refused(&answer, 400, "file", "multipart/form-data");
    assert_eq!(f.stored(), 0, "nothing was stored");

    // An achievement's image is checked when it is a data: URI or ours.
    let issuer = uuid_of(&f.created("/issuers", &issuer_body("Checked issuer")));
    let base64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    for (what, image, words) in [
        (
            "a bomb",
            format!(
                "data:image/png;base64,{}",
                base64(&png_declaring(100_000, 100_000))
            ),
            "100000x100000",
        ),
        (
            "an unsafe SVG",
            format!(
                "data:image/svg+xml;base64,{}",
                base64(&svg("<script>alert(1)</script>"))
            ),
            "unsafe SVG",
        ),
        (
            "text",
            format!("data:image/png;base64,{}", base64(b"text")),
            "not a PNG",
        ),
        (
            "a missing upload",
            format!("{}/assets/{}", f.server.base_url(), uuid::Uuid::new_v4()),
            "does not exist",
        ),
    ] {
        let mut badge = achievement_body(&issuer, "Checked");
        badge["image"] = json!(image);
        let response = f.server.post("/achievements", &badge);
        response.assert_status(400);
        assert!(
            response.body["details"]["image"].is_array(),
            "{what}: {}",
            response.body
        );
        assert!(response.text.contains(words), "{what}: {}", response.body);
    }
    let mut badge = achievement_body(&issuer, "Fine");
    badge["image"] = json!(format!("data:image/png;base64,{}", base64(PNG)));
    f.created("/achievements", &badge);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the image");
    path
}

fn baked_badges_unbake_independently_and_verify(f: &Fixture) {
    let dir = tempfile::tempdir().expect("a directory");
    let asset = f
        .server
        .upload("/assets", "file", "badge.png", "image/png", PNG)
        .json()["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let id = f.award(Some(&asset));
    let v3 = f.server.fetch(&format!("/v3/credentials/{id}"));
    v3.assert_status(200);

    // OB 3.0 PNG: pypng reads the iTXt chunk; it is the credential as
    // served, signed, byte for byte, in the uploaded image.
    let png = f.image(&format!("/credentials/{id}/image"), &[]);
    assert_eq!(png.header("content-type"), Some("image/png"));
    let png_file = write(dir.path(), "v3.png", &png.bytes);
    let inside = pypng_itxt(&png_file, "openbadgecredential");
    assert_eq!(inside, v3.text);
    let credential: Value = serde_json::from_str(&inside).expect("JSON inside");
    assert!(credential["proof"].is_object(), "signed: {credential}");
    // The uploaded image's pixels: the same 2x3 picture.
    assert_eq!(&png.bytes[16..24], &PNG[16..24]);
    let report = f.verify_raw("image/png", &png.bytes);
    assert_eq!(report["isValid"], true, "{report}");

    // OB 3.0 SVG (the achievement's image is a PNG: the default SVG badge),
    // by Accept; the element holds the same credential.
    let svg = f.image(
        &format!("/v3/credentials/{id}/image"),
        &[("Accept", "image/svg+xml")],
    );
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    let svg_file = write(dir.path(), "v3.svg", &svg.bytes);
    let from_svg = openbadges_e2e::images::run_python(
        "import sys\nfrom xml.dom.minidom import parse\ndoc = parse(sys.argv[1])\nsvg = doc.documentElement\nassert svg.getAttribute('xmlns:openbadges') == 'https://purl.imsglobal.org/ob/v3p0'\n[el] = doc.getElementsByTagName('openbadges:credential')\nsys.stdout.write(''.join(n.data for n in el.childNodes if n.nodeType == n.CDATA_SECTION_NODE))",
        &[&svg_file.to_string_lossy()],
    );
    assert_eq!(from_svg, v3.text);
    let report = f.verify_raw("image/svg+xml", &svg.bytes);
    assert_eq!(report["isValid"], true, "{report}");

    // OB 2.0 PNG and SVG: openbadges-bakery reads the hosted assertion URL.
    let assertion_url = format!("{}/v2/credentials/{id}", f.server.base_url());
    let v2_png = f.image(&format!("/v2/assertions/{id}/image?format=png"), &[]);
    let v2_png_file = write(dir.path(), "v2.png", &v2_png.bytes);
    assert_eq!(bakery_unbake(&v2_png_file), assertion_url);
    let v2_svg = f.image(&format!("/v2/credentials/{id}/image?format=svg"), &[]);
    let v2_svg_file = write(dir.path(), "v2.svg", &v2_svg.bytes);
    assert_eq!(bakery_unbake(&v2_svg_file), assertion_url);
    let report = f.verify_raw("image/png", &v2_png.bytes);
    assert_eq!(report["isValid"], true, "{report}");

    // OB 2.0 signed (?signed=true): the JWS of ?format=jws, baked; the
    // bakery reads it out of the PNG and out of the SVG's `verify`.
    let jws = f.server.fetch(&format!("/v2/credentials/{id}?format=jws"));
    jws.assert_status(200);
    let signed_png = f.image(&format!("/v2/credentials/{id}/image?signed=true"), &[]);
    let signed_png_file = write(dir.path(), "v2-signed.png", &signed_png.bytes);
    assert_eq!(bakery_unbake(&signed_png_file), jws.text);
    let signed_svg = f.image(
        &format!("/v2/credentials/{id}/image?signed=true&format=svg"),
        &[],
    );
    let signed_svg_file = write(dir.path(), "v2-signed.svg", &signed_svg.bytes);
    assert_eq!(bakery_unbake(&signed_svg_file), jws.text);
    let report = f.verify_raw("image/png", &signed_png.bytes);
    assert_eq!(report["isValid"], true, "{report}");
    let answer = f.server.send_binary(
        "GET",
        &format!("/v2/credentials/{id}/image?signed=maybe"),
        &[],
        None,
    );
    assert_refused(&answer, 400, "signed", "true or false");

    // A revoked award's image is still served; every form of it verifies
    // as revoked.
    f.server
        .post(
            &format!("/credentials/{id}/revoke"),
            &json!({"reason": "test"}),
        )
        .assert_status(200);
    let revoked = f.image(&format!("/credentials/{id}/image"), &[]);
    for (what, content_type, bytes) in [
        ("OB 3.0 PNG", "image/png", &revoked.bytes),
        ("OB 3.0 SVG", "image/svg+xml", &svg.bytes),
        ("OB 2.0 PNG", "image/png", &v2_png.bytes),
        ("OB 2.0 signed PNG", "image/png", &signed_png.bytes),
        ("OB 2.0 signed SVG", "image/svg+xml", &signed_svg.bytes),
    ] {
        let report = f.verify_raw(content_type, bytes);
        assert_eq!(report["isValid"], false, "{what}: {report}");
        assert_eq!(report["isRevoked"], true, "{what}: {report}");
        assert_eq!(report["errorCode"], "REVOKED", "{what}: {report}");
    }
    // Multipart too.
    let answer = f.server.upload(
        "/verify",
        "file",
        "badge.svg",
        "image/svg+xml",
        &v2_svg.bytes,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["isRevoked"], true, "{}", answer.json());

    // Images that hold no badge, or a badge of another server: 400.
    let answer = f.server.send_binary(
        "POST",
        "/verify",
        &[("Content-Type", "image/png")],
        Some(PNG),
    );
    assert_refused(&answer, 400, "image", "no baked badge");
    let answer = f.server.send_binary(
        "POST",
        "/verify",
        &[("Content-Type", "image/png")],
        Some(b"not a png"),
    );
    assert_refused(&answer, 400, "image", "neither a PNG nor an SVG");
    let foreign = f.image(&format!("/v2/credentials/{id}/image?format=svg"), &[]);
    let foreign = String::from_utf8(foreign.bytes)
        .expect("SVG text")
        .replace(&f.server.base_url(), "https://elsewhere.example");
    let answer = f.server.send_binary(
        "POST",
        "/verify",
        &[("Content-Type", "image/svg+xml")],
        Some(foreign.as_bytes()),
    );
    assert_refused(&answer, 400, "image", "not one of this server's");
}

fn baked_badge_negotiation(f: &Fixture) {
    // No image: the default badge; ETag and 304; a bad format is a 400.
    let id = f.award(None);
    let png = f.image(&format!("/credentials/{id}/image"), &[("Accept", "*/*")]);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(png.header("cache-control"), Some("public, no-cache"));
    let etag = png.header("etag").expect("etag").to_owned();
    let again = f.server.send_binary(
        "GET",
        &format!("/credentials/{id}/image"),
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(again.status, 304);
    let svg = f.image(
        &format!("/credentials/{id}/image"),
        &[("Accept", "image/svg+xml, image/png;q=0.5")],
    );
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    let forced = f.image(
        &format!("/credentials/{id}/image?format=png"),
        &[("Accept", "image/svg+xml")],
    );
    assert_eq!(forced.header("content-type"), Some("image/png"));
    let answer = f.server.send_binary(
        "GET",
        &format!("/credentials/{id}/image?format=gif"),
        &[],
        None,
    );
    assert_refused(&answer, 400, "format", "png or svg");
    let answer = f.server.send_binary(
        "GET",
        &format!("/credentials/{}/image", uuid::Uuid::new_v4()),
        &[],
        None,
    );
    assert_eq!(answer.status, 404);

    // An SVG achievement image is baked into (for SVG), the default PNG
    // otherwise; a remote image is never fetched.
    let asset = f
        .server
        .upload(
            "/assets",
            "file",
            "badge.svg",
            "image/svg+xml",
            SVG.as_bytes(),
        )
        .json()["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let id = f.award(Some(&asset));
    let svg = f.image(&format!("/credentials/{id}/image?format=svg"), &[]);
    let text = String::from_utf8(svg.bytes).expect("SVG text");
    assert!(text.contains("radialGradient"), "the uploaded SVG: {text}");
    assert!(text.contains("<openbadges:credential>"), "{text}");
    let png = f.image(&format!("/credentials/{id}/image?format=png"), &[]);
    assert_eq!(&png.bytes[..8], b"\x89PNG\r\n\x1a\n");
}

/// Uploading needs the `write` permission: anonymous 401, a viewer 403,
/// an issuer-role user 201 and recorded as the uploader; the image is
/// public.
fn uploads_need_write_permission(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "viewer1", "viewer-password-1", "viewer");
    let issuer_id = server.create_user(&admin, "issuer1", "issuer-password-1", "issuer");
    let as_headers = |caller: &Caller| caller.headers();
    let upload = |caller: &Caller| {
        let headers = as_headers(caller);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        server.upload_with("/assets", &headers, "file", "a.gif", "image/gif", GIF)
    };
    assert_eq!(upload(&Caller::Anonymous).status, 401);
    let viewer = server.login("viewer1", "viewer-password-1");
    let answer = upload(&viewer);
    assert_eq!(answer.status, 403, "{}", answer.json());
    assert_eq!(count(storage, "SELECT COUNT(*) AS n FROM assets"), 0);
    let issuer = server.login("issuer1", "issuer-password-1");
    let answer = upload(&issuer);
    assert_eq!(answer.status, 201, "{}", answer.json());
    let sql =
        format!("SELECT COUNT(*) AS n FROM assets WHERE CAST(uploaded_by AS TEXT) = '{issuer_id}'");
    assert_eq!(count(storage, &sql), 1, "the uploader is recorded");
    let url = answer.json()["url"].as_str().expect("url").to_owned();
    let public = server.send_binary("GET", &url, &[], None);
    assert_eq!(public.status, 200);
    assert_eq!(public.bytes, GIF);
}

on_both_backends!(
    uploads_need_write_permission,
    uploads_round_trip,
    hostile_uploads_store_nothing,
    baked_badges_unbake_independently_and_verify,
    baked_badge_negotiation,
);
