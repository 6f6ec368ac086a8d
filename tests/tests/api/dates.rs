//! Dates round-trip exactly as given, to the microsecond, normalized to
//! UTC `Z`; finer precision is refused rather than silently cut, and so are
//! leap seconds and years outside 0001-9999.

use serde_json::json;

use crate::support::*;

on_both_backends!(
    dates_round_trip_exactly,
    finer_than_microseconds_is_refused,
    leap_seconds_and_year_0000_are_refused,
);

/// (given, served back)
const DATES: [(&str, &str); 8] = [
    ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
    ("2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.123Z"),
    ("2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z"),
    ("2024-05-01T12:00:00.000001Z", "2024-05-01T12:00:00.000001Z"),
    ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
    ("2024-05-01T14:00:00.123+02:00", "2024-05-01T12:00:00.123Z"),
    (
        "1999-12-31T23:59:59.999999-05:00",
        "2000-01-01T04:59:59.999999Z",
    ),
    ("2024-02-29T23:59:59+00:00", "2024-02-29T23:59:59Z"),
];

/// `issuedOn` / `validFrom` and `expires` / `validUntil` come back exactly
/// as given (offsets normalized to `Z`) as created, as stored, in both
/// versions and in lists.
fn dates_round_trip_exactly(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for (given, expected) in DATES {
        // OB 2.0 style through /v2.
        let created = api.create(
            "/v2/credentials",
            &json!({"badge": badge, "recipient": {"identity": "dates@example.org"},
                    "issuedOn": given, "expires": "2099-01-01T00:00:00.5Z"}),
            JSON_LD,
        );
        assert_eq!(created["issuedOn"], json!(expected), "issuedOn {given}");
        assert_eq!(created["expires"], json!("2099-01-01T00:00:00.500Z"));
        let uuid = uuid_of(&created);
        let v2 = api.document(&format!("/v2/credentials/{uuid}"));
        assert_eq!(v2["issuedOn"], json!(expected), "stored issuedOn {given}");
        let v3 = api.document(&format!("/v3/credentials/{uuid}"));
        assert_eq!(v3["validFrom"], json!(expected), "validFrom {given}");
        assert_eq!(v3["validUntil"], json!("2099-01-01T00:00:00.500Z"));

        // OB 3.0 style through /v3, as the end of validity.
        let created = api.create(
            "/v3/credentials",
            &json!({"credentialSubject": {"id": "did:example:dates", "achievement": badge},
                    "validFrom": "1990-01-01T00:00:00Z", "validUntil": given}),
            VC_JSON_LD,
        );
        assert_eq!(created["validUntil"], json!(expected), "validUntil {given}");
        assert_eq!(created["validFrom"], json!("1990-01-01T00:00:00Z"));
        let uuid = uuid_of(&created);
        let v3 = api.document(&format!("/v3/credentials/{uuid}"));
        assert_eq!(
            v3["validUntil"],
            json!(expected),
            "stored validUntil {given}"
        );
        let v2 = api.document(&format!("/v2/credentials/{uuid}"));
        assert_eq!(v2["expires"], json!(expected), "expires {given}");
        assert_eq!(v2["issuedOn"], json!("1990-01-01T00:00:00Z"));
    }
    let listed = api.document(&format!("/v2/credentials?achievement={badge}&limit=500"));
    let issued: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter(|doc| doc["expires"] == json!("2099-01-01T00:00:00.500Z"))
        .map(|doc| doc["issuedOn"].as_str().expect("issuedOn"))
        .collect();
    let expected: Vec<&str> = DATES.iter().map(|(_, e)| *e).collect();
    assert_eq!(
        issued, expected,
        "lists show the same dates, in creation order"
    );

    // Without issuedOn, the time of issue, in UTC.
    let now = api.award("/v2", &badge, "now@example.org");
    let now = api.document(&id_of(&now));
    let issued_on = now["issuedOn"].as_str().expect("issuedOn");
    assert!(
        issued_on.ends_with('Z') && issued_on.len() >= 20,
        "{issued_on}"
    );
}

/// Nanoseconds, dates without a time, and impossible dates are 400 naming
/// the field as sent.
fn finer_than_microseconds_is_refused(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for bad in [
        "2024-05-01T12:00:00.123456789Z",
        "2024-05-01T12:00:00.1234567Z",
        "2024-05-01",
        "2024-05-01T12:00:00",
        "2024-04-31T12:00:00Z",
        "2024-05-01T25:00:00Z",
        "",
    ] {
        assert_refused_in_every_date_field(api, &badge, bad, "");
    }
    assert_eq!(api.total("/credentials"), 0, "nothing stored");
}

/// A leap second (`23:59:60`, which PostgreSQL would read as the next
/// minute) and year 0000, or an offset that puts the instant outside the
/// years 0001-9999 in UTC: 400 naming the field and saying why.
fn leap_seconds_and_year_0000_are_refused(api: &Api) {
    let (_, badge) = api.issuer_with_achievement();
    for (bad, why) in [
        ("2016-12-31T23:59:60Z", "leap second"),
        ("2016-12-31T23:59:60.250Z", "leap second"),
        ("2017-01-01T00:59:60+01:00", "leap second"),
        ("0000-01-01T00:00:00Z", "0001 to 9999"),
        ("0000-12-31T23:59:59Z", "0001 to 9999"),
        ("0001-01-01T00:30:00+01:00", "0001 to 9999"),
        ("9999-12-31T23:59:59-01:00", "0001 to 9999"),
    ] {
        assert_refused_in_every_date_field(api, &badge, bad, why);
    }
    assert_eq!(api.total("/credentials"), 0, "nothing stored");
    // The edges of the range are dates like any other.
    let created = api.create(
        "/v2/credentials",
        &json!({"badge": badge, "recipient": {"identity": "edges@example.org"},
                "issuedOn": "0001-01-01T00:00:00Z", "expires": "9999-12-31T23:59:59Z"}),
        JSON_LD,
    );
    assert_eq!(created["issuedOn"], json!("0001-01-01T00:00:00Z"));
    let v3 = api.document(&format!("/v3/credentials/{}", uuid_of(&created)));
    assert_eq!(v3["validUntil"], json!("9999-12-31T23:59:59Z"));
}

/// `bad` is a 400 in `issuedOn`, `validFrom` and `validUntil`, and
/// `expires`, each message containing `why`.
fn assert_refused_in_every_date_field(api: &Api, badge: &str, bad: &str, why: &str) {
    for (path, body, fields) in [
        (
            "/v2/credentials",
            json!({"badge": badge, "recipient": {"identity": "a@example.org"}, "issuedOn": bad}),
            &["issuedOn"][..],
        ),
        (
            "/v3/credentials",
            json!({"credentialSubject": {"id": "did:example:1", "achievement": badge},
                    "validFrom": bad, "validUntil": bad}),
            &["validFrom", "validUntil"][..],
        ),
        (
            "/credentials",
            json!({"badge": badge, "recipient": {"identity": "a@example.org"}, "expires": bad}),
            &["expires"][..],
        ),
    ] {
        let response = api.post(path, &body);
        assert_validation(&response, fields);
        for field in fields {
            let message = response.body["details"][field].to_string();
            assert!(message.contains(why), "{path} {field} {bad}: {message}");
        }
    }
}
