//! Lists: paginated everywhere (`limit`, `offset`, at most 500 a page,
//! `X-Total-Count` and `Link`), filtered by issuer, achievement and
//! recipient; credential lists also walked by cursor.

use std::collections::BTreeSet;

use openbadges_e2e::{Caller, Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME};
use serde_json::json;

use crate::support::*;

on_both_backends!(
    credentials_page_through_with_headers,
    every_list_is_paginated,
    bad_page_parameters_are_400,
    lists_filter_by_issuer_achievement_and_recipient,
    nested_lists_hold_the_right_items,
    credentials_walk_by_cursor,
    bad_cursors_are_400,
    forged_cursors_are_400,
    cursors_hold_where_jwt_secret_is_shared,
    cursor_walks_apply_the_access_rules,
);

/// Follows `next` from `start` until it is absent; returns every id seen
/// and the total every page announced.
fn collect_pages(api: &Api, start: &str, limit: usize) -> (Vec<String>, u64) {
    let mut ids = Vec::new();
    let mut total = None;
    let mut target = start.to_owned();
    for _ in 0..100 {
        let page = api.fetch(&target);
        page.assert_status(200);
        let page_total: u64 = page
            .expect_header("x-total-count")
            .parse()
            .expect("X-Total-Count is a number");
        assert_eq!(
            *total.get_or_insert(page_total),
            page_total,
            "{target}: the same total on every page"
        );
        let page_ids = ids_in(&page.body);
        assert!(page_ids.len() <= limit, "{target}: at most {limit} items");
        ids.extend(page_ids);
        match link(&page, "next") {
            Some(next) => target = next,
            None => return (ids, page_total),
        }
    }
    panic!("{start}: more than 100 pages");
}

/// 7 credentials (some made in one batch, so sharing a creation time),
/// `limit=3`: offsets 0/3/6 with exact first/prev/next/last links, and
/// following `next` yields exactly the 7, in the order of the full list.
fn credentials_page_through_with_headers(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for i in 0..4 {
        api.award("", &badge, &format!("page{i}@example.org"));
    }
    api.post(
        "/credentials/batch",
        &json!((4..7)
            .map(|i| award_body(&badge, &format!("page{i}@example.org")))
            .collect::<Vec<_>>()),
    )
    .assert_status(201);

    let all = api.fetch("/credentials");
    all.assert_status(200);
    assert_eq!(all.header("x-total-count"), Some("7"));
    let all_ids = ids_in(&all.body);
    assert_eq!(all_ids.len(), 7);
    assert_eq!(
        link(&all, "first").as_deref(),
        Some(api.at("/credentials?limit=50&offset=0").as_str())
    );
    assert_eq!(
        link(&all, "last").as_deref(),
        Some(api.at("/credentials?limit=50&offset=0").as_str())
    );
    assert_eq!(link(&all, "next"), None);
    assert_eq!(link(&all, "prev"), None);

    let page_url = |offset: u64| api.at(&format!("/credentials?limit=3&offset={offset}"));
    for (offset, len, prev, next) in [
        (0, 3, None, Some(3)),
        (3, 3, Some(0), Some(6)),
        (6, 1, Some(3), None),
    ] {
        let page = api.fetch(&format!("/credentials?limit=3&offset={offset}"));
        page.assert_status(200);
        assert_eq!(page.header("x-total-count"), Some("7"), "offset {offset}");
        let ids = ids_in(&page.body);
        assert_eq!(ids.len(), len, "offset {offset}");
        let start = usize::try_from(offset).expect("small offset");
        assert_eq!(ids, all_ids[start..start + len], "offset {offset}");
        assert_eq!(link(&page, "first"), Some(page_url(0)), "offset {offset}");
        assert_eq!(link(&page, "last"), Some(page_url(6)), "offset {offset}");
        assert_eq!(link(&page, "prev"), prev.map(page_url), "offset {offset}");
        assert_eq!(link(&page, "next"), next.map(page_url), "offset {offset}");
        for (uri, rel) in links(&page) {
            let followed = api.fetch(&uri);
            followed.assert_status(200);
            assert_eq!(followed.header("x-total-count"), Some("7"), "{rel}");
        }
    }

    let (ids, total) = collect_pages(api, "/credentials?limit=3", 3);
    assert_eq!(total, 7);
    assert_eq!(
        ids, all_ids,
        "following next yields the whole list in order"
    );
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 7);

    // The largest page, and past the end.
    let largest = api.fetch("/credentials?limit=500");
    largest.assert_status(200);
    assert_eq!(ids_in(&largest.body), all_ids);
    let past = api.fetch("/credentials?limit=3&offset=10");
    past.assert_status(200);
    assert_eq!(past.body, json!([]));
    assert_eq!(past.header("x-total-count"), Some("7"));
    assert_eq!(link(&past, "next"), None);

    // Links keep the prefix and the filters.
    let (ids, total) = collect_pages(
        api,
        &format!("/v2/credentials?achievement={badge}&limit=2"),
        2,
    );
    assert_eq!(total, 7);
    assert_eq!(ids.len(), 7);
    assert!(ids
        .iter()
        .all(|id| id.starts_with(&api.at("/v2/credentials/"))));
    let page = api.fetch(&format!("/v2/credentials?achievement={badge}&limit=2"));
    let next = link(&page, "next").expect("a next link");
    assert!(next.starts_with(&api.at("/v2/credentials?")), "{next}");
    assert!(next.contains(&format!("achievement={badge}")), "{next}");
}

/// Issuers, achievements (and the alias), and the nested lists are
/// paginated the same way.
fn every_list_is_paginated(api: &Api) {
    let mut issuers = Vec::new();
    for i in 0..3 {
        issuers.push(uuid_of(&api.issuer("", &format!("Issuer {i}"))));
    }
    let mut badges = Vec::new();
    for i in 0..4 {
        badges.push(uuid_of(&api.achievement(
            "",
            &issuers[0],
            &format!("Badge {i}"),
        )));
    }
    for i in 0..3 {
        api.award("", &badges[0], &format!("n{i}@example.org"));
    }
    for prefix in PREFIXES {
        for (path, expected) in [
            ("/issuers".to_owned(), 3),
            ("/achievements".to_owned(), 4),
            ("/badge-classes".to_owned(), 4),
            (format!("/issuers/{}/achievements", issuers[0]), 4),
            (format!("/achievements/{}/credentials", badges[0]), 3),
            (format!("/assertions?achievement={}", badges[0]), 3),
        ] {
            let start = format!(
                "{prefix}{path}{}limit=1",
                if path.contains('?') { '&' } else { '?' }
            );
            let (ids, total) = collect_pages(api, &start, 1);
            assert_eq!(total, expected, "{start}");
            assert_eq!(ids.len(), expected as usize, "{start}");
            let distinct: BTreeSet<&String> = ids.iter().collect();
            assert_eq!(distinct.len(), ids.len(), "{start}");
            let page = api.fetch(&start);
            let last = link(&page, "last").expect("a last link");
            assert!(
                last.contains(&format!("offset={}", expected - 1)),
                "{start}: {last}"
            );
            assert!(
                last.starts_with(&api.at(&format!("{prefix}/"))),
                "{start}: {last}"
            );
        }
    }
}

/// `limit` outside 1..=500 or not a whole number, a negative or
/// non-numeric `offset`: 400 naming the parameter, on every list.
fn bad_page_parameters_are_400(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let lists = [
        "/issuers".to_owned(),
        "/achievements".to_owned(),
        "/badge-classes".to_owned(),
        "/credentials".to_owned(),
        "/assertions".to_owned(),
        format!("/issuers/{issuer}/achievements"),
        format!("/achievements/{badge}/credentials"),
    ];
    for prefix in PREFIXES {
        for list in &lists {
            let path = format!("{prefix}{list}");
            for limit in ["0", "501", "-1", "abc", "1.5", "", "99999999999999999999"] {
                assert_validation(&api.fetch(&format!("{path}?limit={limit}")), &["limit"]);
            }
            for offset in ["-1", "abc", "2.5", ""] {
                assert_validation(&api.fetch(&format!("{path}?offset={offset}")), &["offset"]);
            }
            api.fetch(&format!("{path}?limit=500&offset=0"))
                .assert_status(200);
            api.fetch(&format!("{path}?limit=1&offset=1000"))
                .assert_status(200);
        }
    }
    // Both bad at once: both named.
    for list in &lists {
        for (query, fields) in [
            ("limit=abc&offset=-1", &["limit", "offset"][..]),
            ("limit=0&offset=-1", &["limit", "offset"][..]),
        ] {
            assert_validation(&api.fetch(&format!("{list}?{query}")), fields);
        }
    }
}

/// `?issuer=`, `?achievement=` and `?recipient=` (an e-mail in the clear,
/// any case, whether the award hashed it or not; a DID; a hash) return
/// only matching items.
fn lists_filter_by_issuer_achievement_and_recipient(api: &Api) {
    let base = api.base_url();
    let first_issuer = uuid_of(&api.issuer("", "First"));
    let second_issuer = uuid_of(&api.issuer("", "Second"));
    let b1 = uuid_of(&api.achievement("", &first_issuer, "B1"));
    let b2 = uuid_of(&api.achievement("", &first_issuer, "B2"));
    let b3 = uuid_of(&api.achievement("", &second_issuer, "B3"));
    let ada_b1 = uuid_of(&api.award("", &b1, "ada@example.org"));
    let ada_b3 = uuid_of(&api.award("", &b3, "ada@example.org"));
    let bob_b1 = uuid_of(&api.award("", &b1, "bob@example.org"));
    let bob_b2 = uuid_of(&api.create(
        "/credentials",
        &json!({"badge": b2, "recipient": {"identity": "bob@example.org", "hashed": false}}),
        VC_JSON_LD,
    ));
    let did_b3 = uuid_of(&api.create(
        "/credentials",
        &json!({"credentialSubject": {"id": "did:example:carol", "achievement": b3}}),
        VC_JSON_LD,
    ));
    let prehashed = "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399";
    let hash_b2 = uuid_of(&api.create(
        "/credentials",
        &json!({"badge": b2, "recipient": {"identity": prehashed, "hashed": true, "salt": "Kosher"}}),
        VC_JSON_LD,
    ));

    let uuids = |path: &str| -> BTreeSet<String> {
        let response = api.fetch(path);
        response.assert_status(200);
        let ids = ids_in(&response.body);
        assert_eq!(
            response.header("x-total-count"),
            Some(ids.len().to_string().as_str()),
            "{path}"
        );
        ids.iter()
            .map(|id| id.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    };
    let set =
        |items: &[&String]| -> BTreeSet<String> { items.iter().map(|s| (*s).clone()).collect() };

    for prefix in PREFIXES {
        for form in [
            first_issuer.clone(),
            format!("urn:uuid:{first_issuer}"),
            format!("{base}/v2/issuers/{first_issuer}"),
        ] {
            let form = form.replace(':', "%3A").replace('/', "%2F");
            assert_eq!(
                uuids(&format!("{prefix}/achievements?issuer={form}")),
                set(&[&b1, &b2])
            );
            assert_eq!(
                uuids(&format!("{prefix}/credentials?issuer={form}")),
                set(&[&ada_b1, &bob_b1, &bob_b2, &hash_b2])
            );
        }
        assert_eq!(
            uuids(&format!("{prefix}/badge-classes?issuer={second_issuer}")),
            set(&[&b3])
        );
        assert_eq!(
            uuids(&format!("{prefix}/credentials?issuer={second_issuer}")),
            set(&[&ada_b3, &did_b3])
        );
        assert_eq!(
            uuids(&format!("{prefix}/credentials?achievement={b1}")),
            set(&[&ada_b1, &bob_b1])
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/assertions?achievement=urn%3Auuid%3A{b2}"
            )),
            set(&[&bob_b2, &hash_b2])
        );
        assert_eq!(
            uuids(&format!("{prefix}/credentials?recipient=ada%40example.org")),
            set(&[&ada_b1, &ada_b3])
        );
        assert_eq!(
            uuids(&format!("{prefix}/credentials?recipient=Bob%40Example.org")),
            set(&[&bob_b1, &bob_b2]),
            "hashed and plain awards, the address in any case"
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?recipient=did%3Aexample%3Acarol"
            )),
            set(&[&did_b3])
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?recipient={}",
                prehashed.replace('$', "%24")
            )),
            set(&[&hash_b2])
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?recipient=nobody%40example.org"
            )),
            BTreeSet::new()
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?issuer={first_issuer}&achievement={b1}&recipient=ada%40example.org"
            )),
            set(&[&ada_b1]),
            "filters combine"
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?issuer={second_issuer}&achievement={b1}"
            )),
            BTreeSet::new()
        );
        assert_eq!(
            uuids(&format!(
                "{prefix}/credentials?issuer={}",
                uuid::Uuid::new_v4()
            )),
            BTreeSet::new()
        );
        assert_validation(
            &api.fetch(&format!("{prefix}/credentials?issuer=nope")),
            &["issuer"],
        );
        assert_validation(
            &api.fetch(&format!(
                "{prefix}/credentials?achievement=nope&issuer=nope"
            )),
            &["issuer", "achievement"],
        );
        assert_validation(
            &api.fetch(&format!("{prefix}/achievements?issuer=nope")),
            &["issuer"],
        );
    }

    // Filters and pagination together.
    let page = api.fetch(&format!("/credentials?issuer={first_issuer}&limit=1"));
    assert_eq!(page.header("x-total-count"), Some("4"));
    let (ids, total) = collect_pages(
        api,
        &format!("/credentials?issuer={first_issuer}&limit=1"),
        1,
    );
    assert_eq!(total, 4);
    assert_eq!(ids.len(), 4);
}

/// GET /issuers/{id}/achievements and GET /achievements/{id}/credentials
/// list exactly that issuer's achievements and that achievement's
/// awards, in the prefix's version.
fn nested_lists_hold_the_right_items(api: &Api) {
    let first = uuid_of(&api.issuer("", "First"));
    let second = uuid_of(&api.issuer("", "Second"));
    let b1 = uuid_of(&api.achievement("", &first, "B1"));
    let b2 = uuid_of(&api.achievement("", &first, "B2"));
    let b3 = uuid_of(&api.achievement("", &second, "B3"));
    let on_b1 = [
        uuid_of(&api.award("", &b1, "x@example.org")),
        uuid_of(&api.award("", &b1, "y@example.org")),
    ];
    let on_b3 = uuid_of(&api.award("", &b3, "z@example.org"));
    let empty_issuer = uuid_of(&api.issuer("", "Empty"));

    for prefix in PREFIXES {
        let version = version_of(prefix);
        let listed = api.fetch(&format!("{prefix}/issuers/{first}/achievements"));
        listed.assert_status(200);
        assert_eq!(listed.header("x-total-count"), Some("2"));
        assert_eq!(
            ids_in(&listed.body),
            [
                api.at(&format!("/{version}/achievements/{b1}")),
                api.at(&format!("/{version}/achievements/{b2}"))
            ]
        );
        for doc in listed.body.as_array().into_iter().flatten() {
            assert_eq!(doc, &api.document(&id_of(doc)));
        }
        assert_eq!(
            ids_in(&api.document(&format!("{prefix}/issuers/{second}/achievements"))),
            [api.at(&format!("/{version}/achievements/{b3}"))]
        );
        let empty = api.fetch(&format!("{prefix}/issuers/{empty_issuer}/achievements"));
        empty.assert_status(200);
        assert_eq!(empty.body, json!([]));
        assert_eq!(empty.header("x-total-count"), Some("0"));

        for list in ["achievements", "badge-classes"] {
            let listed = api.fetch(&format!("{prefix}/{list}/{b1}/credentials"));
            listed.assert_status(200);
            assert_eq!(listed.header("x-total-count"), Some("2"));
            assert_eq!(
                ids_in(&listed.body),
                on_b1
                    .iter()
                    .map(|u| api.at(&format!("/{version}/credentials/{u}")))
                    .collect::<Vec<_>>()
            );
            for doc in listed.body.as_array().into_iter().flatten() {
                assert_eq!(doc, &api.document(&id_of(doc)));
            }
        }
        assert_eq!(
            ids_in(&api.document(&format!("{prefix}/achievements/{b3}/credentials"))),
            [api.at(&format!("/{version}/credentials/{on_b3}"))]
        );
        assert_eq!(
            api.document(&format!("{prefix}/achievements/{b2}/credentials")),
            json!([])
        );
    }
}

/// Follows `next` from `start` as `caller` until it is absent, checking
/// each page is a cursor page (no `X-Total-Count`, a `first` link, at most
/// `limit` items); returns every id seen and the size of each page.
fn walk(server: &Server, caller: &Caller, start: &str, limit: usize) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    let mut target = start.to_owned();
    for _ in 0..100 {
        let page = server.get_as(caller, &target);
        page.assert_status(200);
        assert_eq!(page.header("x-total-count"), None, "{target}: no total");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{target}");
        let first = link(&page, "first").unwrap_or_else(|| panic!("{target}: a first link"));
        assert!(first.ends_with("cursor="), "{target}: {first}");
        for rel in ["prev", "last"] {
            assert_eq!(link(&page, rel), None, "{target}: no {rel} link");
        }
        let page_ids = ids_in(&page.body);
        assert!(page_ids.len() <= limit, "{target}: at most {limit} items");
        sizes.push(page_ids.len());
        ids.extend(page_ids);
        match link(&page, "next") {
            Some(next) => {
                assert!(next.contains(&format!("limit={limit}")), "{next}");
                target = next;
            }
            None => return (ids, sizes),
        }
    }
    panic!("{start}: more than 100 pages");
}

/// The ids of the list at `path` in one offset page (at most 500).
fn offset_ids(api: &Api, path: &str) -> Vec<String> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let page = api.fetch(&format!("{path}{separator}limit=500"));
    page.assert_status(200);
    ids_in(&page.body)
}

/// 120 credentials, many sharing a creation time (made in batches): walked
/// by cursor 50 at a time, they come in the order of the offset list, each
/// once, in pages of 50, 50 and 20, the last without a `next` link; a list
/// of exactly two pages ends without an empty third; filters, prefixes,
/// aliases and the achievement's list walk the same way.
fn credentials_walk_by_cursor(api: &Api) {
    let first_issuer = uuid_of(&api.issuer("", "First"));
    let second_issuer = uuid_of(&api.issuer("", "Second"));
    let b1 = uuid_of(&api.achievement("", &first_issuer, "B1"));
    let b2 = uuid_of(&api.achievement("", &first_issuer, "B2"));
    let b3 = uuid_of(&api.achievement("", &second_issuer, "B3"));
    let recipients = ["ada@example.org", "bob@example.org", "cy@example.org"];
    let batch = |badge: &str, range: std::ops::Range<usize>| {
        api.post(
            "/credentials/batch?sign=false",
            &json!(range
                .map(|i| award_body(badge, recipients[i % recipients.len()]))
                .collect::<Vec<_>>()),
        )
        .assert_status(201);
    };
    batch(&b1, 0..50);
    batch(&b3, 50..80);
    for i in 80..100 {
        api.post(
            "/credentials?sign=false",
            &award_body(&b2, recipients[i % recipients.len()]),
        )
        .assert_status(201);
    }
    batch(&b3, 100..120);

    let all = offset_ids(api, "/credentials");
    assert_eq!(all.len(), 120);
    let (ids, sizes) = walk(api, &Caller::Anonymous, "/credentials?limit=50&cursor=", 50);
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(ids, all, "the cursor walk is the offset list");
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 120, "each once");

    // Exactly two full pages: the second says there is no more.
    let (ids, sizes) = walk(
        api,
        &Caller::Anonymous,
        &format!("/credentials?achievement={b1}&limit=25&cursor="),
        25,
    );
    assert_eq!(sizes, [25, 25]);
    assert_eq!(
        ids,
        offset_ids(api, &format!("/credentials?achievement={b1}"))
    );

    for (path, expected) in [
        (format!("/credentials?issuer={first_issuer}"), 70),
        (format!("/credentials?issuer={second_issuer}"), 50),
        (format!("/credentials?achievement={b3}"), 50),
        (format!("/achievements/{b3}/credentials"), 50),
        (format!("/badge-classes/{b2}/credentials"), 20),
        ("/credentials?recipient=Bob%40Example.org".to_owned(), 40),
        (
            format!("/assertions?issuer={second_issuer}&recipient=ada%40example.org"),
            16,
        ),
        (
            format!("/credentials?issuer={second_issuer}&achievement={b1}"),
            0,
        ),
        (format!("/credentials?issuer={}", uuid::Uuid::new_v4()), 0),
    ] {
        let by_offset = offset_ids(api, &path);
        assert_eq!(by_offset.len(), expected, "{path}");
        for prefix in PREFIXES {
            let separator = if path.contains('?') { '&' } else { '?' };
            let start = format!("{prefix}{path}{separator}limit=7&cursor=");
            let (ids, _) = walk(api, &Caller::Anonymous, &start, 7);
            let version = version_of(prefix);
            let expected: Vec<String> = by_offset
                .iter()
                .map(|id| id.replace("/v3/", &format!("/{version}/")))
                .collect();
            assert_eq!(ids, expected, "{start}");
        }
    }

    // Links keep the prefix and the filters.
    let page = api.fetch(&format!(
        "/v2/credentials?achievement={b1}&limit=10&cursor="
    ));
    let next = link(&page, "next").expect("a next link");
    assert!(next.starts_with(&api.at("/v2/credentials?")), "{next}");
    assert!(next.contains(&format!("achievement={b1}")), "{next}");
    assert_eq!(next.matches("cursor=").count(), 1, "{next}");

    // Offset paging is as before: totals and every link.
    let page = api.fetch("/credentials?limit=50&offset=50");
    assert_eq!(page.header("x-total-count"), Some("120"));
    for rel in ["first", "prev", "next", "last"] {
        assert!(link(&page, rel).is_some(), "{rel}");
    }
}

/// A cursor this server did not give, one altered, one cut short, or one
/// given with `offset`: 400 naming `cursor`, on every credential list.
fn bad_cursors_are_400(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for i in 0..3 {
        api.post(
            "/credentials?sign=false",
            &award_body(&badge, &format!("c{i}@example.org")),
        )
        .assert_status(201);
    }
    let page = api.fetch("/credentials?limit=1&cursor=");
    let next = link(&page, "next").expect("a next link");
    let token = next.rsplit("cursor=").next().expect("a cursor").to_owned();
    let mut altered = token.clone().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ASCII");
    let cut = &token[..token.len() - 2];
    for list in [
        "/credentials".to_owned(),
        "/assertions".to_owned(),
        format!("/achievements/{badge}/credentials"),
    ] {
        for prefix in PREFIXES {
            let path = format!("{prefix}{list}");
            for bad in [
                "garbage",
                "%00%FF",
                altered.as_str(),
                cut,
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ] {
                assert_validation(&api.fetch(&format!("{path}?cursor={bad}")), &["cursor"]);
            }
            for query in [
                format!("cursor={token}&offset=0"),
                "cursor=&offset=10".to_owned(),
                format!("offset=1&cursor={token}"),
            ] {
                assert_validation(&api.fetch(&format!("{path}?{query}")), &["cursor"]);
            }
            assert_validation(
                &api.fetch(&format!("{path}?cursor=garbage&limit=0")),
                &["cursor", "limit"],
            );
            api.fetch(&format!("{path}?cursor={token}"))
                .assert_status(200);
        }
    }
}

/// A cursor forged the way an attacker would: a real one moved to another
/// position (a microsecond earlier, another id) with its check recomputed
/// as it was once made, the first bytes of the SHA-256 of the rest. The
/// server's signature cannot be recomputed, so it is a 400 naming `cursor`
/// on every credential list; the real one still works.
fn forged_cursors_are_400(api: &Api) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, badge) = api.issuer_with_achievement();
    for i in 0..3 {
        api.award("", &badge, &format!("forged{i}@example.org"));
    }
    let page = api.fetch("/credentials?limit=1&cursor=");
    let next = link(&page, "next").expect("a next link");
    let token = next.rsplit("cursor=").next().expect("a cursor").to_owned();
    let real = engine.decode(&token).expect("a cursor is base64url");
    // A version byte, the creation time in microseconds, the id; then the
    // check.
    const BODY: usize = 1 + 8 + 16;
    let (body, check) = real.split_at(BODY);
    let micros = i64::from_be_bytes(body[1..9].try_into().expect("8 bytes"));
    let mut earlier = body.to_vec();
    earlier[1..9].copy_from_slice(&(micros - 1).to_be_bytes());
    let mut other_id = body.to_vec();
    other_id[9..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let forged: Vec<String> = [earlier, other_id]
        .into_iter()
        .map(|mut forged| {
            let recomputed = sha2::Sha256::digest(&forged);
            forged.extend_from_slice(&recomputed[..check.len()]);
            engine.encode(forged)
        })
        .collect();
    for list in [
        "/credentials".to_owned(),
        format!("/achievements/{badge}/credentials"),
    ] {
        for prefix in PREFIXES {
            let path = format!("{prefix}{list}");
            for bad in &forged {
                assert_validation(&api.fetch(&format!("{path}?cursor={bad}")), &["cursor"]);
            }
            api.fetch(&format!("{path}?cursor={token}"))
                .assert_status(200);
        }
    }
}

/// Cursors are signed with a key derived from `JWT_SECRET`: a server
/// restarted with the same secret (as another instance sharing it) follows
/// one it gave before; a server with another secret answers 400 naming
/// `cursor`.
fn cursors_hold_where_jwt_secret_is_shared(storage: &Storage) {
    let target = {
        let server = storage.launch_with_auth().start();
        let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
        let created = |path: &str, body: &serde_json::Value| {
            let response = server.post_as(&admin, path, body);
            response.assert_status(201);
            uuid_of(&response.body)
        };
        let issuer = created("/issuers", &issuer_body("Cursor issuer"));
        let badge = created("/achievements", &achievement_body(&issuer, "Badge"));
        for i in 0..3 {
            created(
                "/credentials?sign=false",
                &award_body(&badge, &format!("shared{i}@example.org")),
            );
        }
        let page = server.get_as(&admin, "/credentials?limit=1&cursor=");
        page.assert_status(200);
        let next = link(&page, "next").expect("a next link");
        let path = next.find("/credentials?").expect("a credentials link");
        next[path..].to_owned()
    };

    let restarted = storage.launch_with_auth().start();
    let admin = restarted.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let page = restarted.get_as(&admin, &target);
    page.assert_status(200);
    assert_eq!(ids_in(&page.body).len(), 1, "{target}");
    drop(restarted);

    let other = storage
        .launch_with_auth()
        .env("JWT_SECRET", "another-e2e-secret-0123456789abcdef")
        .start();
    let admin = other.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    assert_validation(&other.get_as(&admin, &target), &["cursor"]);
}

/// With authentication on, a cursor walk shows each caller what an offset
/// list does: an issuer-role user their own issuers' credentials, a key
/// scoped to an issuer that issuer's, a viewer everything; naming another's
/// issuer is a 403.
fn cursor_walks_apply_the_access_rules(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "alice", "alice-password-1", "issuer");
    server.create_user(&admin, "bob", "bob-password-12", "issuer");
    server.create_user(&admin, "victor", "victor-password", "viewer");
    let alice = server.login("alice", "alice-password-1");
    let bob = server.login("bob", "bob-password-12");
    let viewer = server.login("victor", "victor-password");
    let created = |caller: &Caller, path: &str, body: &serde_json::Value| {
        let response = server.post_as(caller, path, body);
        response.assert_status(201);
        uuid_of(&response.body)
    };
    let a1 = created(&alice, "/issuers", &issuer_body("A1"));
    let a2 = created(&alice, "/issuers", &issuer_body("A2"));
    let b1 = created(&bob, "/issuers", &issuer_body("B1"));
    let mut mine = BTreeSet::new();
    let mut a1_only = BTreeSet::new();
    let mut everything = BTreeSet::new();
    for (owner, issuer, count) in [(&alice, &a1, 6), (&bob, &b1, 7), (&alice, &a2, 5)] {
        let badge = created(owner, "/achievements", &achievement_body(issuer, "Badge"));
        for i in 0..count {
            let id = created(
                owner,
                "/credentials?sign=false",
                &award_body(&badge, &format!("r{i}@example.org")),
            );
            everything.insert(id.clone());
            if owner == &alice {
                mine.insert(id.clone());
            }
            if issuer == &a1 {
                a1_only.insert(id);
            }
        }
    }
    let (_, scoped) = server.create_api_key(&alice, &json!({"name": "A1 only", "issuerId": a1}));
    let scoped = Caller::Key(scoped);
    let uuids = |ids: Vec<String>| -> BTreeSet<String> {
        let count = ids.len();
        let set: BTreeSet<String> = ids
            .iter()
            .map(|id| id.rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(set.len(), count, "each credential once");
        set
    };
    for prefix in PREFIXES {
        let start = format!("{prefix}/credentials?limit=2&cursor=");
        for (caller, expected) in [
            (&alice, &mine),
            (&scoped, &a1_only),
            (&viewer, &everything),
            (&admin, &everything),
        ] {
            assert_eq!(
                &uuids(walk(&server, caller, &start, 2).0),
                expected,
                "{start}"
            );
        }
        assert_eq!(
            uuids(walk(&server, &bob, &start, 2).0).len(),
            7,
            "{start}: bob's own"
        );
        assert_eq!(
            &uuids(
                walk(
                    &server,
                    &alice,
                    &format!("{prefix}/credentials?issuer={a1}&limit=4&cursor="),
                    4
                )
                .0
            ),
            &a1_only
        );
        for (caller, query) in [
            (&alice, format!("issuer={b1}")),
            (&bob, format!("issuer={a1}")),
            (&scoped, format!("issuer={a2}")),
        ] {
            server
                .get_as(caller, &format!("{prefix}/credentials?{query}&cursor="))
                .assert_status(403);
        }
        server
            .get_as(&Caller::Anonymous, &format!("{prefix}/credentials?cursor="))
            .assert_status(401);
    }
}
