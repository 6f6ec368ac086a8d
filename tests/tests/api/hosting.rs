//! Hosted verification: the documents behind the id URLs are public, with
//! their media type, an ETag that answers `If-None-Match` with 304, and
//! Cache-Control.

use serde_json::json;

use crate::support::*;

on_both_backends!(
    documents_carry_media_type_etag_and_cache_control,
    etags_follow_changes_and_revocation,
    if_none_match_uses_weak_comparison,
    head_answers_like_get,
);

/// For every kind of document in both versions: the media type, a strong
/// ETag, Cache-Control, and 304 for a matching `If-None-Match`.
fn documents_carry_media_type_etag_and_cache_control(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let award = uuid_of(&api.award("", &badge, "etag@example.org"));
    let mut etags = Vec::new();
    for (path, v2_type, v3_type) in [
        (format!("issuers/{issuer}"), JSON_LD, JSON_LD),
        (format!("achievements/{badge}"), JSON_LD, JSON_LD),
        (format!("credentials/{award}"), JSON_LD, VC_JSON_LD),
    ] {
        for (prefix, media_type) in [("/v2", v2_type), ("/v3", v3_type), ("", v3_type)] {
            let target = format!("{prefix}/{path}");
            // No credentials of any kind are sent: the documents are public.
            let response = api.fetch(&target);
            response.assert_status(200);
            assert_eq!(response.media_type(), Some(media_type), "{target}");
            let etag = response.expect_header("etag").to_owned();
            assert!(
                etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
                "{target}: a strong, quoted ETag: {etag}"
            );
            let cache_control = response.expect_header("cache-control");
            assert!(
                cache_control.contains("public"),
                "{target}: Cache-Control {cache_control}"
            );
            assert!(
                !cache_control.contains("no-store"),
                "{target}: Cache-Control {cache_control}"
            );

            let again = api.fetch(&target);
            assert_eq!(again.header("etag"), Some(etag.as_str()), "stable ETag");
            assert_eq!(again.text, response.text);

            let not_modified = api.fetch_with(&target, &[("If-None-Match", &etag)]);
            not_modified.assert_status(304);
            assert_eq!(not_modified.text, "", "{target}: 304 has no body");
            assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
            assert!(not_modified.header("cache-control").is_some());

            let among_others = format!("\"something-else\", {etag}");
            api.fetch_with(&target, &[("If-None-Match", &among_others)])
                .assert_status(304);

            let other = api.fetch_with(&target, &[("If-None-Match", "\"something-else\"")]);
            other.assert_status(200);
            assert_eq!(other.text, response.text);
            etags.push((prefix, path.clone(), etag));
        }
    }
    // v2 and v3 representations differ, and so do their ETags.
    for (prefix, path, etag) in &etags {
        if *prefix == "/v2" {
            let v3 = etags
                .iter()
                .find(|(p, q, _)| *p == "/v3" && q == path)
                .map(|(_, _, e)| e);
            assert_ne!(Some(etag), v3, "{path}");
        }
    }
}

/// An ETag no longer matches once the document changed; a revoked
/// credential answers 410 even to its old ETag.
fn etags_follow_changes_and_revocation(api: &Api) {
    let issuer = uuid_of(&api.issuer("", "Before"));
    let target = format!("/v2/issuers/{issuer}");
    let before = api.fetch(&target);
    let old_etag = before.expect_header("etag").to_owned();
    api.put(&format!("/issuers/{issuer}"), &issuer_body("After"))
        .assert_status(200);
    let after = api.fetch_with(&target, &[("If-None-Match", &old_etag)]);
    after.assert_status(200);
    assert_eq!(after.body["name"], json!("After"));
    assert_ne!(after.header("etag"), Some(old_etag.as_str()));

    let badge = uuid_of(&api.achievement("", &issuer, "Cached"));
    let award = uuid_of(&api.award("", &badge, "cached@example.org"));
    for prefix in ["/v2", "/v3"] {
        let target = format!("{prefix}/credentials/{award}");
        let etag = api.fetch(&target).expect_header("etag").to_owned();
        api.fetch_with(&target, &[("If-None-Match", &etag)])
            .assert_status(304);
    }
    let etag_v2 = api
        .fetch(&format!("/v2/credentials/{award}"))
        .expect_header("etag")
        .to_owned();
    let cache_control = api
        .fetch(&format!("/v3/credentials/{award}"))
        .expect_header("cache-control")
        .to_owned();
    assert!(
        cache_control.contains("no-cache") || cache_control.contains("max-age=0"),
        "a credential can be revoked at any time: caches must revalidate, got {cache_control}"
    );
    api.post(
        &format!("/credentials/{award}/revoke"),
        &json!({"reason": "cache test"}),
    )
    .assert_status(200);
    let revoked = api.fetch_with(
        &format!("/v2/credentials/{award}"),
        &[("If-None-Match", &etag_v2)],
    );
    revoked.assert_status(410);
    assert_eq!(revoked.body["revoked"], json!(true));
}

/// RFC 9110 §13.1.2: `If-None-Match` compares weakly, so `W/"<etag>"`
/// (what a compressing proxy hands clients) matches too.
fn if_none_match_uses_weak_comparison(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let award = uuid_of(&api.award("", &badge, "weak@example.org"));
    for target in [
        format!("/v2/issuers/{issuer}"),
        format!("/v3/achievements/{badge}"),
        format!("/v3/credentials/{award}"),
    ] {
        let etag = api.fetch(&target).expect_header("etag").to_owned();
        let weak = format!("W/{etag}");
        api.fetch_with(&target, &[("If-None-Match", &weak)])
            .assert_status(304);
    }
}

/// RFC 9110 §9.1: a server supports HEAD wherever it supports GET: the
/// same status and headers, no body.
fn head_answers_like_get(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let award = uuid_of(&api.award("", &badge, "head@example.org"));
    for target in [
        format!("/v2/issuers/{issuer}"),
        format!("/v3/achievements/{badge}"),
        format!("/v2/credentials/{award}"),
        format!("/v3/credentials/{award}"),
    ] {
        let get = api.fetch(&target);
        let head = api.send("HEAD", &target, &[], None);
        head.assert_status(200);
        assert_eq!(head.text, "", "HEAD {target} has no body");
        assert_eq!(head.media_type(), get.media_type(), "HEAD {target}");
        assert_eq!(head.header("etag"), get.header("etag"), "HEAD {target}");
    }
}
