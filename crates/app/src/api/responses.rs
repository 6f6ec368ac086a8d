//! The error answers most operations share, declared once as components of
//! the OpenAPI document (`#/components/responses/...`). An operation names
//! one with `(status = 401, response = Unauthorized)`; the document then
//! refers to it instead of repeating it.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::ToResponse;

/// 401 of every operation that requires credentials.
pub struct Unauthorized;

impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        let www_authenticate = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("`Bearer`."))
            .build();
        let response = ResponseBuilder::new()
            .description(
                "No valid credentials: none sent, or an unknown, revoked or expired key, or an \
                 invalid or expired token.",
            )
            .header("WWW-Authenticate", www_authenticate)
            .content("application/json", json_of("Unauthorized"))
            .build();
        ("Unauthorized", RefOr::T(response))
    }
}

/// 503 of every operation that reads or writes the database.
pub struct Unavailable;

impl<'r> ToResponse<'r> for Unavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        let response = ResponseBuilder::new()
            .description("The database is unavailable; retry later.")
            .content("application/json", json_of("ErrorMessage"))
            .build();
        ("Unavailable", RefOr::T(response))
    }
}

/// A JSON body of the schema component `schema`.
fn json_of(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .build()
}
