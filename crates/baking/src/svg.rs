//! SVG: sniffing, the safety check (an allowlist; anything unsure is
//! refused, nothing is rewritten), and baking and unbaking the Open
//! Badges elements.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::{NsReader, Reader};

use crate::{is_compact_jws, Bake, ImageError, Limits, MediaType, Unbaked, Version};
use crate::{OB2_SVG_NAMESPACE, OB3_SVG_NAMESPACE};

const SVG_NAMESPACE: &[u8] = b"http://www.w3.org/2000/svg";
const XLINK_NAMESPACE: &[u8] = b"http://www.w3.org/1999/xlink";
const XHTML_NAMESPACE: &[u8] = b"http://www.w3.org/1999/xhtml";

/// SVG elements that draw, group, describe or animate, and nothing else:
/// no `script`, no `foreignObject` (HTML inside an image), no `iframe`,
/// `audio`, `video` or `canvas`.
const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "animate",
    "animateMotion",
    "animateTransform",
    "circle",
    "clipPath",
    "defs",
    "desc",
    "ellipse",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feImage",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "filter",
    "g",
    "image",
    "line",
    "linearGradient",
    "marker",
    "mask",
    "metadata",
    "mpath",
    "path",
    "pattern",
    "polygon",
    "polyline",
    "radialGradient",
    "rect",
    "set",
    "stop",
    "style",
    "svg",
    "switch",
    "symbol",
    "text",
    "textPath",
    "title",
    "tspan",
    "use",
    "view",
];

/// Raster types an SVG may embed as a `data:` URI. Not SVG: an SVG in a
/// `data:` URI would escape this check.
const ALLOWED_DATA_PREFIXES: &[&str] = &[
    "data:image/png;",
    "data:image/jpeg;",
    "data:image/gif;",
    "data:image/webp;",
];

fn malformed(reason: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        media_type: MediaType::Svg,
        reason: reason.into(),
    }
}

fn unsafe_svg(reason: impl Into<String>) -> ImageError {
    ImageError::UnsafeSvg(reason.into())
}

/// The text of an SVG file: UTF-8, without a byte order mark.
fn text_of(bytes: &[u8]) -> Option<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).ok()
}

/// Whether the bytes are UTF-8 XML whose first element is `svg` (after an
/// XML declaration, comments, a DOCTYPE). An SVG with a DOCTYPE sniffs as
/// SVG, to be refused as unsafe by [`inspect`] rather than as unknown.
pub(crate) fn looks_like_svg(bytes: &[u8]) -> bool {
    let Some(text) = text_of(bytes) else {
        return false;
    };
    if !text.trim_start().starts_with('<') {
        return false;
    }
    let mut reader = Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => return e.local_name().as_ref() == b"svg",
            Ok(Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_)) => {}
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => return false,
        }
    }
}

/// A CSS text (a `style` attribute or element) refers to nothing outside
/// the document: no `@import`, no `url()` but fragments and raster
/// `data:` URIs, no `expression()`.
fn check_css(css: &str) -> Result<(), ImageError> {
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") {
        return Err(unsafe_svg("CSS @import"));
    }
    if lower.contains("expression(") {
        return Err(unsafe_svg("CSS expression()"));
    }
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("url(") {
        let target =
            rest[at + 4..].trim_start_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        check_reference(target)?;
        rest = &rest[at + 4..];
    }
    Ok(())
}

/// A reference (`href`, `url()`): only to this document (`#id`) or a
/// raster `data:` URI.
fn check_reference(target: &str) -> Result<(), ImageError> {
    let target = target.trim_start();
    let lower = target.to_ascii_lowercase();
    if target.starts_with('#') || ALLOWED_DATA_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        Ok(())
    } else {
        let shown: String = target.chars().take(60).collect();
        Err(unsafe_svg(format!(
            "external reference {shown:?} (only #fragments and data:image/png|jpeg|gif|webp are allowed)"
        )))
    }
}

/// Checks every attribute of an element.
fn check_attributes(
    reader: &NsReader<&[u8]>,
    element: &BytesStart<'_>,
    local: &str,
) -> Result<(), ImageError> {
    for attribute in element.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| malformed(e.to_string()))?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (namespace, name) = reader.resolve_attribute(key);
        let name = String::from_utf8_lossy(name.as_ref()).to_ascii_lowercase();
        let value = attribute
            .unescape_value()
            .map_err(|e| malformed(e.to_string()))?;
        if name.starts_with("on") {
            return Err(unsafe_svg(format!("event handler attribute {name:?}")));
        }
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        if compact.contains("javascript:") || compact.contains("vbscript:") {
            return Err(unsafe_svg("a javascript: URL"));
        }
        let is_href = name == "href"
            && match namespace {
                ResolveResult::Unbound => true,
                ResolveResult::Bound(Namespace(ns)) => ns == XLINK_NAMESPACE,
                ResolveResult::Unknown(_) => false,
            };
        if is_href {
            check_reference(&value)?;
        } else if name == "style" || compact.contains("url(") {
            check_css(&value)?;
        }
        // Animations that would set a link or a handler.
        if name == "attributename" && (compact.ends_with("href") || compact.starts_with("on")) {
            return Err(unsafe_svg(format!(
                "<{local}> animating the {value:?} attribute"
            )));
        }
    }
    Ok(())
}

/// Checks an SVG and answers its width and height in pixels when its
/// root gives them (attributes `width`/`height` in px, else the
/// `viewBox`); `width`/`height` in px are held to `limits`.
pub(crate) fn inspect(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Option<u32>, Option<u32>), ImageError> {
    let text = text_of(bytes).ok_or_else(|| malformed("not UTF-8 text"))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut root_done = false;
    let mut in_style = 0usize;
    let mut size = (None, None);
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| malformed(e.to_string()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root_done {
                    return Err(malformed("more than one root element"));
                }
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match namespace {
                    ResolveResult::Bound(Namespace(ns)) if ns == SVG_NAMESPACE => {
                        if !ALLOWED_ELEMENTS.contains(&local.as_str()) {
                            return Err(unsafe_svg(format!("element <{local}>")));
                        }
                    }
                    ResolveResult::Bound(Namespace(ns)) if ns == XHTML_NAMESPACE => {
                        return Err(unsafe_svg(format!("HTML element <{local}>")));
                    }
                    // Elements of other namespaces (editors' metadata,
                    // RDF, a baked badge) are never rendered; their
                    // attributes are checked all the same.
                    ResolveResult::Bound(_) if depth > 0 => {}
                    _ => {
                        return Err(unsafe_svg(format!(
                            "element <{local}> outside the SVG namespace (xmlns=\"http://www.w3.org/2000/svg\" is required)"
                        )));
                    }
                }
                if depth == 0 {
                    if local != "svg" {
                        return Err(malformed("the root element is not <svg>"));
                    }
                    size = root_size(e, limits)?;
                }
                check_attributes(&reader, e, &local)?;
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                    if local == "style" || in_style > 0 {
                        in_style += 1;
                    }
                } else if depth == 0 {
                    root_done = true;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                in_style = in_style.saturating_sub(1);
                if depth == 0 {
                    root_done = true;
                }
            }
            Event::Text(t) => {
                if in_style > 0 {
                    check_css(&t.decode().map_err(|e| malformed(e.to_string()))?)?;
                } else if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(malformed("text outside the root element"));
                }
            }
            Event::CData(c) => {
                if in_style > 0 {
                    check_css(&String::from_utf8_lossy(&c))?;
                }
            }
            Event::GeneralRef(r) => {
                let predefined = matches!(&*r, b"lt" | b"gt" | b"amp" | b"apos" | b"quot");
                if !predefined && !r.is_char_ref() {
                    return Err(unsafe_svg("an entity reference"));
                }
            }
            Event::DocType(_) => return Err(unsafe_svg("a DOCTYPE (entities)")),
            Event::PI(_) => return Err(unsafe_svg("a processing instruction")),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !root_done {
        return Err(malformed("no complete <svg> element"));
    }
    Ok(size)
}

/// A length in pixels: a number, optionally with `px`.
fn pixels(value: &str) -> Option<f64> {
    let value = value.trim();
    let number = value.strip_suffix("px").unwrap_or(value).trim();
    number.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn root_size(
    root: &BytesStart<'_>,
    limits: &Limits,
) -> Result<(Option<u32>, Option<u32>), ImageError> {
    let attr = |name: &[u8]| -> Option<String> {
        root.try_get_attribute(name)
            .ok()
            .flatten()
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    };
    let width = attr(b"width").as_deref().and_then(pixels);
    let height = attr(b"height").as_deref().and_then(pixels);
    if let (Some(w), Some(h)) = (width, height) {
        let (w, h) = (w.ceil(), h.ceil());
        if w < 1.0 || h < 1.0 || w > f64::from(limits.max_width) || h > f64::from(limits.max_height)
        {
            return Err(ImageError::Dimensions {
                width: w.max(0.0) as u64,
                height: h.max(0.0) as u64,
                max_width: limits.max_width,
                max_height: limits.max_height,
            });
        }
        return Ok((Some(w as u32), Some(h as u32)));
    }
    // No pixel size: the viewBox's, for the record only (a vector image
    // has no pixels to bomb with).
    let view_box: Vec<f64> = attr(b"viewBox")
        .map(|v| {
            v.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if let [_, _, w, h] = view_box[..] {
        if w >= 1.0 && h >= 1.0 && w <= f64::from(u32::MAX) && h <= f64::from(u32::MAX) {
            return Ok((Some(w.ceil() as u32), Some(h.ceil() as u32)));
        }
    }
    Ok((None, None))
}

/// Escapes text for a double-quoted XML attribute.
fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Wraps text in CDATA; a `]]>` inside is split across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

pub(crate) fn bake(bytes: &[u8], what: Bake<'_>) -> Result<Vec<u8>, ImageError> {
    let text = text_of(bytes).ok_or_else(|| malformed("not UTF-8 text"))?;
    if unbake(bytes).is_ok() {
        return Err(ImageError::AlreadyBaked);
    }
    // Find the root start tag.
    let mut reader = Reader::from_str(text);
    let (root, empty, tag_end) = loop {
        let event = reader.read_event().map_err(|e| malformed(e.to_string()))?;
        let end = reader.buffer_position() as usize;
        match event {
            Event::Start(e) => break (e.into_owned(), false, end),
            Event::Empty(e) => break (e.into_owned(), true, end),
            Event::Eof => return Err(malformed("no <svg> element")),
            _ => {}
        }
    };
    if root.local_name().as_ref() != b"svg" {
        return Err(malformed("the root element is not <svg>"));
    }
    if root
        .try_get_attribute("xmlns:openbadges")
        .ok()
        .flatten()
        .is_some()
    {
        return Err(ImageError::AlreadyBaked);
    }
    let (namespace, element) = match what {
        Bake::Ob3 { credential } if is_compact_jws(credential) => (
            OB3_SVG_NAMESPACE,
            format!(
                "<openbadges:credential verify=\"{}\"></openbadges:credential>",
                escape_attribute(credential.trim())
            ),
        ),
        Bake::Ob3 { credential } => (
            OB3_SVG_NAMESPACE,
            format!(
                "<openbadges:credential>{}</openbadges:credential>",
                cdata(credential)
            ),
        ),
        Bake::Ob2 {
            verify,
            assertion: Some(assertion),
        } => (
            OB2_SVG_NAMESPACE,
            format!(
                "<openbadges:assertion verify=\"{}\">{}</openbadges:assertion>",
                escape_attribute(verify),
                cdata(assertion)
            ),
        ),
        Bake::Ob2 {
            verify,
            assertion: None,
        } => (
            OB2_SVG_NAMESPACE,
            format!(
                "<openbadges:assertion verify=\"{}\"/>",
                escape_attribute(verify)
            ),
        ),
    };
    // `tag_end` is just after `>` (or `/>` for an empty root).
    let close = if empty { tag_end - 2 } else { tag_end - 1 };
    let mut out = String::with_capacity(text.len() + element.len() + 64);
    out.push_str(&text[..close]);
    out.push_str(&format!(" xmlns:openbadges=\"{namespace}\">\n"));
    out.push_str(&element);
    if empty {
        out.push_str("\n</svg>");
        out.push_str(&text[tag_end..]);
    } else {
        out.push_str(&text[tag_end..]);
    }
    Ok(out.into_bytes())
}

pub(crate) fn unbake(bytes: &[u8]) -> Result<Unbaked, ImageError> {
    let text = text_of(bytes).ok_or_else(|| malformed("not UTF-8 text"))?;
    let mut reader = NsReader::from_str(text);
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| malformed(e.to_string()))?;
        let (element, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::DocType(_) => return Err(unsafe_svg("a DOCTYPE (entities)")),
            Event::Eof => return Err(ImageError::NotBaked),
            _ => continue,
        };
        let local = element.local_name();
        let version = match namespace {
            ResolveResult::Bound(Namespace(ns))
                if ns == OB3_SVG_NAMESPACE.as_bytes() && local.as_ref() == b"credential" =>
            {
                Version::Ob3
            }
            ResolveResult::Bound(Namespace(ns))
                if ns == OB2_SVG_NAMESPACE.as_bytes() && local.as_ref() == b"assertion" =>
            {
                Version::Ob2
            }
            _ => continue,
        };
        let verify = element
            .try_get_attribute("verify")
            .map_err(|e| malformed(e.to_string()))?
            .map(|a| a.unescape_value().map(|v| v.trim().to_owned()))
            .transpose()
            .map_err(|e| malformed(e.to_string()))?;
        let mut body = String::new();
        if !empty {
            let mut depth = 1usize;
            while depth > 0 {
                match reader.read_event().map_err(|e| malformed(e.to_string()))? {
                    Event::Start(_) => depth += 1,
                    Event::End(_) => depth -= 1,
                    Event::CData(c) => body.push_str(&String::from_utf8_lossy(&c)),
                    Event::Text(t) => {
                        body.push_str(&t.decode().map_err(|e| malformed(e.to_string()))?)
                    }
                    Event::GeneralRef(r) => {
                        let c = match &*r {
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"amp" => Some('&'),
                            b"apos" => Some('\''),
                            b"quot" => Some('"'),
                            _ => r.resolve_char_ref().ok().flatten(),
                        };
                        body.push(c.ok_or_else(|| malformed("an unknown entity reference"))?);
                    }
                    Event::Eof => return Err(malformed("the badge element is not closed")),
                    _ => {}
                }
            }
        }
        let body = body.trim();
        let text = if body.is_empty() {
            verify.clone().ok_or_else(|| {
                malformed("the badge element has neither a body nor a verify attribute")
            })?
        } else {
            body.to_owned()
        };
        return Ok(Unbaked {
            version,
            text,
            verify,
        });
    }
}
