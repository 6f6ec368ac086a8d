//! Reading the e-mail keys of requests: `notify` and `notifyEmail` of an
//! award, `notifyRecipients` of an achievement. Kept apart from the
//! credential and achievement readers, which call in here.

use std::collections::HashMap;

use openbadges_domain::mail::NotifyRequest;
use openbadges_domain::{DomainError, Email};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::requests::{Body, Errors};

/// `notifyRecipients` of an achievement: `false` when absent.
pub(crate) fn notify_recipients(b: &Body<'_>, errors: &mut Errors) -> bool {
    b.boolean("notifyRecipients", errors).unwrap_or(false)
}

/// `notify` and `notifyEmail` of one award body. A body that is not an
/// object is the credential reader's to refuse: here it asks for nothing.
pub fn notify_request(body: &Value) -> Result<NotifyRequest, DomainError> {
    if !body.is_object() {
        return Ok(NotifyRequest::default());
    }
    let mut errors = Errors::default();
    let Some(b) = Body::root(body, &mut errors) else {
        return errors.finish(|| None);
    };
    let request = read(&b, &mut errors);
    errors.finish(|| Some(request))
}

fn read(b: &Body<'_>, errors: &mut Errors) -> NotifyRequest {
    NotifyRequest {
        notify: b.boolean("notify", errors),
        email: b.parse(&["notifyEmail"], false, errors, Email::parse),
    }
}

/// The e-mail keys of a batch's items, in order, with errors named
/// `credentials[3].notifyEmail`. The batch's shape (an array, or an object
/// with `credentials` or `assertions`) and its limits are checked by the
/// credential reader: a batch of another shape asks for nothing here, so
/// that its error is reported once. Only the two keys are read, skipping
/// the rest.
pub fn batch_notify_requests(text: &[u8]) -> Result<Vec<NotifyRequest>, DomainError> {
    read_batch(text).unwrap_or_else(|| Ok(Vec::new()))
}

/// `None` when the batch is not of a shape the credential reader takes.
fn read_batch(text: &[u8]) -> Option<Result<Vec<NotifyRequest>, DomainError>> {
    #[derive(Deserialize)]
    struct Item {
        notify: Option<Value>,
        #[serde(rename = "notifyEmail")]
        notify_email: Option<Value>,
    }
    let body: &RawValue = serde_json::from_slice(text).ok()?;
    let (key, items) = match body.get().trim_start().as_bytes().first() {
        Some(b'[') => ("credentials", body),
        _ => {
            let mut object: HashMap<String, &RawValue> = serde_json::from_str(body.get()).ok()?;
            match (object.remove("credentials"), object.remove("assertions")) {
                (Some(items), _) => ("credentials", items),
                (None, Some(items)) => ("assertions", items),
                (None, None) => return None,
            }
        }
    };
    let items: Vec<&RawValue> = serde_json::from_str(items.get()).ok()?;
    let mut errors = Errors::default();
    let mut requests = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // Items that are not objects are refused by the credential reader.
        let Ok(item) = serde_json::from_str::<Item>(item.get()) else {
            requests.push(NotifyRequest::default());
            continue;
        };
        let mut object = serde_json::Map::new();
        if let Some(notify) = item.notify {
            object.insert("notify".to_owned(), notify);
        }
        if let Some(email) = item.notify_email {
            object.insert("notifyEmail".to_owned(), email);
        }
        let object = Value::Object(object);
        let b = Body::nested(&object, format!("{key}[{i}]"), &mut errors);
        requests.push(b.map(|b| read(&b, &mut errors)).unwrap_or_default());
    }
    Some(errors.finish(|| Some(requests)))
}

/// Both readers' errors in one answer: the body's and the e-mail keys'.
pub fn merge<T, U>(
    first: Result<T, DomainError>,
    second: Result<U, DomainError>,
) -> Result<(T, U), DomainError> {
    match (first, second) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(DomainError::Validation(mut a)), Err(DomainError::Validation(b))) => {
            a.extend(b);
            Err(DomainError::Validation(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(error: DomainError) -> Vec<String> {
        match error {
            DomainError::Validation(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn single_awards_read_notify_and_the_address() {
        let asked = notify_request(&json!({"notify": true, "notifyEmail": "a@example.org"}))
            .expect("valid");
        assert_eq!(asked.notify, Some(true));
        assert_eq!(
            asked.email.map(|e| e.as_str().to_owned()),
            Some("a@example.org".to_owned())
        );
        assert_eq!(
            notify_request(&json!({})).expect("valid"),
            NotifyRequest::default()
        );
        let refused =
            notify_request(&json!({"notify": "yes", "notifyEmail": "nope"})).expect_err("invalid");
        assert_eq!(fields(refused), vec!["notify", "notifyEmail"]);
    }

    #[test]
    fn batch_items_are_read_in_order_with_their_index() {
        let text = br#"{"credentials": [{"notify": true}, {"x": 1}, {"notifyEmail": "bad"}]}"#;
        assert_eq!(
            fields(batch_notify_requests(text).expect_err("invalid")),
            vec!["credentials[2].notifyEmail"]
        );
        // Shapes the credential reader refuses ask for nothing here, so
        // that their one error is not reported twice.
        for text in [&br#"{"credentials": "all"}"#[..], b"42", b"[{", b"{}"] {
            assert_eq!(batch_notify_requests(text).expect("lenient"), Vec::new());
        }
        assert_eq!(
            notify_request(&json!("x")).expect("lenient"),
            NotifyRequest::default()
        );
        let text = br#"[{"notify": true}, {"notify": false, "notifyEmail": "b@example.org"}]"#;
        let read = batch_notify_requests(text).expect("valid");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].notify, Some(true));
        assert_eq!(read[1].notify, Some(false));
    }
}
