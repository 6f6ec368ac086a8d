//! Unit and property tests of checking, baking and unbaking.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

const PNG: &[u8] = include_bytes!("../testdata/tiny.png");
const JPEG: &[u8] = include_bytes!("../testdata/tiny.jpg");
const GIF: &[u8] = include_bytes!("../testdata/tiny.gif");
const WEBP: &[u8] = include_bytes!("../testdata/tiny.webp");
const SVG: &str = r##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="10">
  <defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>
  <style>rect { fill: url(#g); }</style>
  <rect width="20" height="10" style="fill: url('#g')"/>
  <use xlink:href="#g"/>
  <image href="data:image/png;base64,AAAA" width="1" height="1"/>
</svg>"##;

fn limits() -> Limits {
    Limits::default()
}

/// A PNG chunk with its length and CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(data);
    out.extend_from_slice(&hasher.finalize().to_be_bytes());
    out
}

/// A PNG whose IHDR declares `width` x `height` (8-bit greyscale) and
/// whose IDAT holds `idat`.
fn png_with(width: u32, height: u32, idat: &[u8]) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", idat));
    out.extend(chunk(b"IEND", b""));
    out
}

#[test]
fn every_accepted_type_is_sniffed_and_measured() {
    for (bytes, media_type) in [
        (PNG, MediaType::Png),
        (JPEG, MediaType::Jpeg),
        (GIF, MediaType::Gif),
        (WEBP, MediaType::Webp),
    ] {
        let found = inspect(bytes, &limits()).unwrap();
        assert_eq!(found.media_type, media_type);
        assert_eq!(
            (found.width, found.height),
            (Some(2), Some(3)),
            "{media_type}"
        );
    }
    let svg = inspect(SVG.as_bytes(), &limits()).unwrap();
    assert_eq!(svg.media_type, MediaType::Svg);
    assert_eq!((svg.width, svg.height), (Some(20), Some(10)));
}

#[test]
fn the_default_images_pass_the_checks() {
    let png = inspect(DEFAULT_PNG, &limits()).unwrap();
    assert_eq!((png.media_type, png.width), (MediaType::Png, Some(128)));
    let svg = inspect(DEFAULT_SVG, &limits()).unwrap();
    assert_eq!((svg.media_type, svg.width), (MediaType::Svg, Some(128)));
}

#[test]
fn text_and_html_are_not_images() {
    assert_eq!(
        inspect(b"just some text, named badge.png", &limits()),
        Err(ImageError::UnknownType)
    );
    assert_eq!(
        inspect(
            b"<html><body><script>alert(1)</script></body></html>",
            &limits()
        ),
        Err(ImageError::UnknownType)
    );
    assert_eq!(inspect(b"", &limits()), Err(ImageError::Empty));
}

#[test]
fn files_with_data_after_the_image_are_refused() {
    let zip = b"PK\x03\x04 a zip file riding along";
    for (bytes, media_type) in [
        (PNG, MediaType::Png),
        (JPEG, MediaType::Jpeg),
        (GIF, MediaType::Gif),
        (WEBP, MediaType::Webp),
    ] {
        let mut polyglot = bytes.to_vec();
        polyglot.extend_from_slice(zip);
        assert_eq!(
            inspect(&polyglot, &limits()),
            Err(ImageError::TrailingData(media_type))
        );
    }
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    // 100000 x 100000 pixels declared; the IDAT is never decoded.
    let bomb = png_with(100_000, 100_000, b"x");
    assert!(matches!(
        inspect(&bomb, &limits()),
        Err(ImageError::Dimensions {
            width: 100_000,
            height: 100_000,
            ..
        })
    ));
    let empty = png_with(0, 5, b"x");
    assert!(matches!(
        inspect(&empty, &limits()),
        Err(ImageError::Dimensions { .. })
    ));
}

#[test]
fn a_png_whose_pixels_do_not_decode_is_refused() {
    let broken = png_with(4, 4, b"not zlib at all");
    assert!(matches!(
        inspect(&broken, &limits()),
        Err(ImageError::Malformed {
            media_type: MediaType::Png,
            ..
        })
    ));
    let mut bad_crc = PNG.to_vec();
    bad_crc[20] ^= 0xFF;
    assert!(matches!(
        inspect(&bad_crc, &limits()),
        Err(ImageError::Malformed { .. })
    ));
    let truncated = &PNG[..PNG.len() - 12];
    assert!(matches!(
        inspect(truncated, &limits()),
        Err(ImageError::Malformed { .. })
    ));
}

#[test]
fn oversized_files_are_refused() {
    let small = Limits {
        max_bytes: 40,
        ..Limits::default()
    };
    assert_eq!(
        inspect(PNG, &small),
        Err(ImageError::TooLarge {
            size: PNG.len(),
            max: 40
        })
    );
    let narrow = Limits {
        max_width: 1,
        ..Limits::default()
    };
    assert!(matches!(
        inspect(GIF, &narrow),
        Err(ImageError::Dimensions { .. })
    ));
}

fn svg_refused(body: &str) {
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{body}</svg>"#
    );
    match inspect(svg.as_bytes(), &limits()) {
        Err(ImageError::UnsafeSvg(_)) => {}
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn unsafe_svg_is_refused() {
    svg_refused("<script>alert(1)</script>");
    svg_refused("<SCRIPT>alert(1)</SCRIPT>");
    svg_refused(r#"<rect onload="alert(1)"/>"#);
    svg_refused(r#"<rect ONCLICK="alert(1)"/>"#);
    svg_refused(
        r#"<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>"#,
    );
    svg_refused(r#"<div xmlns="http://www.w3.org/1999/xhtml">hi</div>"#);
    svg_refused(r#"<image href="https://evil.example/x.png"/>"#);
    svg_refused(r#"<use xlink:href="https://evil.example/x.svg#a"/>"#);
    svg_refused(r#"<a href="javascript:alert(1)"><rect/></a>"#);
    svg_refused(r#"<a href="  jav&#x09;ascript:alert(1)"><rect/></a>"#);
    svg_refused(r#"<image href="data:image/svg+xml;base64,PHN2Zz4="/>"#);
    svg_refused(r#"<set attributeName="href" to="javascript:alert(1)"/>"#);
    svg_refused(r#"<animate attributeName="onbegin" values="1"/>"#);
    svg_refused(r#"<style>@import url(https://evil.example/a.css);</style>"#);
    svg_refused(r#"<style><![CDATA[rect { fill: url(https://evil.example/p) }]]></style>"#);
    svg_refused(r#"<rect style="background: url(//evil.example/x)"/>"#);
    svg_refused(r#"<rect fill="url(http://evil.example/#g)"/>"#);
    svg_refused("<iframe/>");
    svg_refused(r#"<?xml-stylesheet href="https://evil.example/a.css"?><rect/>"#);
    // DOCTYPE and entities (billion laughs, external entities).
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>"#;
    assert_eq!(sniff(doctype.as_bytes()), Some(MediaType::Svg));
    assert!(matches!(
        inspect(doctype.as_bytes(), &limits()),
        Err(ImageError::UnsafeSvg(_))
    ));
    // No SVG namespace: a browser would not render it as SVG.
    assert!(matches!(
        inspect(b"<svg><rect/></svg>", &limits()),
        Err(ImageError::UnsafeSvg(_))
    ));
}

#[test]
fn broken_or_huge_svg_is_refused() {
    assert!(matches!(
        inspect(
            br#"<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>"#,
            &limits()
        ),
        Err(ImageError::Malformed { .. })
    ));
    assert!(matches!(
        inspect(
            br#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="10"/>"#,
            &limits()
        ),
        Err(ImageError::Dimensions { .. })
    ));
    // An SVG/HTML hybrid: HTML after the SVG.
    assert!(inspect(
        br#"<svg xmlns="http://www.w3.org/2000/svg"/><html><script>alert(1)</script></html>"#,
        &limits()
    )
    .is_err());
}

const CREDENTIAL: &str = r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:1","name":"a ]]> b & <c>"}"#;
const JWS: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

#[test]
fn png_baking_round_trips_and_keeps_the_image() {
    for (what, version, text) in [
        (
            Bake::Ob3 {
                credential: CREDENTIAL,
            },
            Version::Ob3,
            CREDENTIAL,
        ),
        (
            Bake::Ob2 {
                verify: "https://badges.example/assertions/1",
                assertion: None,
            },
            Version::Ob2,
            "https://badges.example/assertions/1",
        ),
    ] {
        let baked = bake(DEFAULT_PNG, what).unwrap();
        // Still a valid PNG of the same size, with the chunk after IHDR.
        let checked = inspect(&baked, &limits()).unwrap();
        assert_eq!(checked.width, Some(128));
        assert_eq!(&baked[33 + 4..33 + 8], b"iTXt");
        let found = unbake(&baked).unwrap();
        assert_eq!((found.version, found.text.as_str()), (version, text));
        assert_eq!(bake(&baked, what), Err(ImageError::AlreadyBaked));
    }
    assert_eq!(unbake(DEFAULT_PNG), Err(ImageError::NotBaked));
}

#[test]
fn svg_baking_follows_the_specifications() {
    let baked = bake(
        DEFAULT_SVG,
        Bake::Ob3 {
            credential: CREDENTIAL,
        },
    )
    .unwrap();
    let text = String::from_utf8(baked.clone()).unwrap();
    assert!(text.contains(r#"xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0""#));
    assert!(text.contains("<openbadges:credential><![CDATA["));
    inspect(&baked, &limits()).unwrap();
    assert_eq!(unbake(&baked).unwrap().text, CREDENTIAL);

    let jwt = bake(DEFAULT_SVG, Bake::Ob3 { credential: JWS }).unwrap();
    let found = unbake(&jwt).unwrap();
    assert_eq!((found.version, found.text.as_str()), (Version::Ob3, JWS));
    assert_eq!(found.verify.as_deref(), Some(JWS));

    let url = "https://badges.example/assertions/1?a=1&b=2";
    let ob2 = bake(
        DEFAULT_SVG,
        Bake::Ob2 {
            verify: url,
            assertion: Some(r#"{"id":"x"}"#),
        },
    )
    .unwrap();
    let text = String::from_utf8(ob2.clone()).unwrap();
    assert!(text.contains(r#"xmlns:openbadges="http://openbadges.org""#));
    assert!(text.contains(
        r#"<openbadges:assertion verify="https://badges.example/assertions/1?a=1&amp;b=2">"#
    ));
    let found = unbake(&ob2).unwrap();
    assert_eq!(found.version, Version::Ob2);
    assert_eq!(found.text, r#"{"id":"x"}"#);
    assert_eq!(found.verify.as_deref(), Some(url));
    assert_eq!(
        bake(
            &ob2,
            Bake::Ob3 {
                credential: CREDENTIAL
            }
        ),
        Err(ImageError::AlreadyBaked)
    );

    // A self-closing root gets a body.
    let empty = br#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#;
    let baked = bake(empty, Bake::Ob3 { credential: JWS }).unwrap();
    inspect(&baked, &limits()).unwrap();
    assert_eq!(unbake(&baked).unwrap().text, JWS);
}

#[test]
fn only_png_and_svg_can_be_baked() {
    assert_eq!(
        bake(JPEG, Bake::Ob3 { credential: JWS }),
        Err(ImageError::NotBakeable(MediaType::Jpeg))
    );
    assert_eq!(unbake(GIF), Err(ImageError::NotBakeable(MediaType::Gif)));
    assert_eq!(unbake(b"hello"), Err(ImageError::UnknownType));
}

#[test]
fn compact_jws_shape() {
    assert!(is_compact_jws(JWS));
    assert!(!is_compact_jws(CREDENTIAL));
    assert!(!is_compact_jws("https://example.org/a.b.c"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(15), ..ProptestConfig::default() })]

    #[test]
    fn png_bake_unbake_round_trips(text in "\\PC{1,300}", ob3 in any::<bool>()) {
        let what = if ob3 { Bake::Ob3 { credential: &text } } else { Bake::Ob2 { verify: &text, assertion: None } };
        let baked = bake(PNG, what).unwrap();
        prop_assert!(inspect(&baked, &limits()).is_ok());
        let found = unbake(&baked).unwrap();
        prop_assert_eq!(found.version, if ob3 { Version::Ob3 } else { Version::Ob2 });
        prop_assert_eq!(found.text, text);
    }

    #[test]
    fn svg_bake_unbake_round_trips(text in "\\PC*[^\\s\\p{C}]\\PC*", ob3 in any::<bool>(), with_body in any::<bool>()) {
        let what = if ob3 {
            Bake::Ob3 { credential: &text }
        } else {
            Bake::Ob2 { verify: "https://badges.example/a/1", assertion: with_body.then_some(text.as_str()) }
        };
        let baked = bake(DEFAULT_SVG, what).unwrap();
        prop_assert!(inspect(&baked, &limits()).is_ok());
        let found = unbake(&baked).unwrap();
        let expected = if ob3 || with_body { text.trim() } else { "https://badges.example/a/1" };
        prop_assert_eq!(found.text.as_str(), expected);
    }
}

/// A `width` x `height` RGBA PNG, encoded by the png crate.
fn encoded_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let data = vec![0x7Fu8; (width * height * 4) as usize];
        writer.write_image_data(&data).unwrap();
    }
    out
}

#[test]
fn a_png_at_the_largest_allowed_size_is_accepted() {
    // 4096 x 4096 RGBA is 64 MiB of pixels: decoded a row at a time, it
    // fits the decoder's few-MiB allocation limit.
    let big = encoded_png(4096, 4096);
    let found = inspect(&big, &limits()).unwrap();
    assert_eq!((found.width, found.height), (Some(4096), Some(4096)));
    let baked = bake(
        &big,
        Bake::Ob3 {
            credential: CREDENTIAL,
        },
    )
    .unwrap();
    assert_eq!(unbake(&baked).unwrap().text, CREDENTIAL);
    assert!(matches!(
        inspect(&encoded_png(4097, 1), &limits()),
        Err(ImageError::Dimensions { width: 4097, .. })
    ));
}
