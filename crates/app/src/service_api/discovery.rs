//! `GET /ims/ob/v3p0/discovery`: the Service Description Document, a
//! profiled copy of the 1EdTech OpenAPI 3.0 file of the Open Badges API:
//! who this server is (`info`: title, terms of service, privacy policy,
//! image), where to register and get tokens (`OAuth2ACG`), the four
//! operations it implements and their scopes, and the schemas of their
//! bodies. Unprotected, cacheable for an hour.

use actix_web::{web, HttpResponse};
use openbadges_domain::oauth::Scope;
use serde_json::{json, Value};

use crate::oauth::{AUTHORIZE_PATH, REGISTER_PATH, TOKEN_PATH};
use crate::state::AppState;

/// Where the Service API lives under `BASE_URL`.
pub const API_PATH: &str = "/ims/ob/v3p0";

fn scope_descriptions() -> Value {
    let mut scopes = serde_json::Map::new();
    for scope in [
        Scope::CredentialReadonly,
        Scope::CredentialUpsert,
        Scope::ProfileReadonly,
        Scope::ProfileUpdate,
        Scope::OfflineAccess,
    ] {
        scopes.insert(scope.as_str().to_owned(), json!(scope.description()));
    }
    Value::Object(scopes)
}

fn imsx_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Imsx_StatusInfo"}}}
    })
}

/// The error answers every operation may give.
fn errors() -> Value {
    json!({
        "400": imsx_response("Bad request: a parameter or the body is invalid."),
        "401": imsx_response("No valid access token."),
        "403": imsx_response("The access token lacks the operation's scope."),
        "404": imsx_response("Not found."),
        "405": imsx_response("Method not allowed."),
        "500": imsx_response("Internal server error."),
        "default": imsx_response("An error.")
    })
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(map), Value::Object(errors)) = (responses.as_object_mut(), errors()) {
        for (status, response) in errors {
            map.entry(status).or_insert(response);
        }
    }
    responses
}

fn security(scope: Scope) -> Value {
    json!([{ "OAuth2ACG": [scope.as_str()] }])
}

fn paths() -> Value {
    let credential = json!({"$ref": "#/components/schemas/AchievementCredential"});
    let jws =
        json!({"type": "string", "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$"});
    json!({
        "/credentials": {
            "get": {
                "operationId": "getCredentials",
                "summary": "The credentials of the authenticated learner's backpack",
                "tags": ["OpenBadgeCredentials"],
                "parameters": [
                    {"name": "limit", "in": "query", "required": false,
                     "schema": {"type": "integer", "minimum": 1, "maximum": crate::service_api::MAX_LIMIT}},
                    {"name": "offset", "in": "query", "required": false,
                     "schema": {"type": "integer", "minimum": 0}},
                    {"name": "since", "in": "query", "required": false,
                     "description": "Only credentials valid from (issued) after this time.",
                     "schema": {"type": "string", "format": "date-time"}}
                ],
                "security": security(Scope::CredentialReadonly),
                "responses": with_errors(json!({
                    "200": {
                        "description": "A page of credentials, oldest received first.",
                        "headers": {
                            "X-Total-Count": {"schema": {"type": "integer"}},
                            "Link": {"schema": {"type": "string"}}
                        },
                        "content": {"application/json": {"schema":
                            {"$ref": "#/components/schemas/GetOpenBadgeCredentialsResponse"}}}
                    }
                }))
            },
            "post": {
                "operationId": "upsertCredential",
                "summary": "Add a credential to the backpack, or replace the equal one it holds",
                "tags": ["OpenBadgeCredentials"],
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": credential},
                    "text/plain": {"schema": jws}
                }},
                "security": security(Scope::CredentialUpsert),
                "responses": with_errors(json!({
                    "200": {"description": "Replaced.", "content": {
                        "application/json": {"schema": credential}, "text/plain": {"schema": jws}}},
                    "201": {"description": "Created.", "content": {
                        "application/json": {"schema": credential}, "text/plain": {"schema": jws}}},
                    "304": {"description": "Not modified."}
                }))
            }
        },
        "/profile": {
            "get": {
                "operationId": "getProfile",
                "summary": "The authenticated learner's profile",
                "tags": ["Profile"],
                "security": security(Scope::ProfileReadonly),
                "responses": with_errors(json!({
                    "200": {"description": "The profile.", "content": {"application/json":
                        {"schema": {"$ref": "#/components/schemas/Profile"}}}}
                }))
            },
            "put": {
                "operationId": "putProfile",
                "summary": "Replace the authenticated learner's profile",
                "tags": ["Profile"],
                "requestBody": {"required": true, "content": {"application/json":
                    {"schema": {"$ref": "#/components/schemas/Profile"}}}},
                "security": security(Scope::ProfileUpdate),
                "responses": with_errors(json!({
                    "200": {"description": "The profile as stored.", "content": {"application/json":
                        {"schema": {"$ref": "#/components/schemas/Profile"}}}},
                    "202": {"description": "Accepted."},
                    "304": {"description": "Not modified."}
                }))
            }
        },
        "/discovery": {
            "get": {
                "operationId": "getServiceDescription",
                "summary": "This document",
                "tags": ["Discovery"],
                "responses": {
                    "200": {"description": "The Service Description Document.",
                            "content": {"application/json": {"schema": {"type": "object"}}}},
                    "default": imsx_response("An error.")
                }
            }
        }
    })
}

fn schemas() -> Value {
    json!({
        "GetOpenBadgeCredentialsResponse": {
            "type": "object",
            "properties": {
                "credential": {"type": "array", "items": {"$ref": "#/components/schemas/AchievementCredential"}},
                "compactJwsString": {"type": "array", "items": {"type": "string",
                    "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$"}}
            },
            "additionalProperties": false
        },
        "AchievementCredential": {
            "type": "object",
            "description": "An OpenBadgeCredential (AchievementCredential) with an embedded proof, as the 1EdTech \
                ob_v3p0_achievementcredential_schema.json defines it.",
            "properties": {
                "@context": {"type": "array", "items": {}},
                "id": {"type": "string", "format": "uri"},
                "type": {"type": "array", "items": {"type": "string"}},
                "issuer": {"$ref": "#/components/schemas/Profile"},
                "validFrom": {"type": "string", "format": "date-time"},
                "credentialSubject": {"type": "object"},
                "proof": {"type": "array", "items": {"type": "object"}}
            },
            "required": ["@context", "type", "issuer", "validFrom", "credentialSubject"],
            "additionalProperties": true
        },
        "Profile": {
            "type": "object",
            "description": "An OB 3.0 Profile, as the 1EdTech ob_v3p0_profile_schema.json defines it.",
            "properties": {
                "@context": {"type": "array", "items": {}},
                "id": {"type": "string", "format": "uri"},
                "type": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "name": {"type": "string"},
                "email": {"type": "string"},
                "url": {"type": "string", "format": "uri"}
            },
            "required": ["id", "type"],
            "additionalProperties": true
        },
        "Imsx_StatusInfo": {
            "type": "object",
            "properties": {
                "imsx_codeMajor": {"type": "string", "enum": ["failure", "processing", "success", "unsupported"]},
                "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
                "imsx_description": {"type": "string"},
                "imsx_codeMinor": {"$ref": "#/components/schemas/Imsx_CodeMinor"}
            },
            "required": ["imsx_codeMajor", "imsx_severity"],
            "additionalProperties": false
        },
        "Imsx_CodeMinor": {
            "type": "object",
            "properties": {
                "imsx_codeMinorField": {"type": "array", "minItems": 1,
                    "items": {"$ref": "#/components/schemas/Imsx_CodeMinorField"}}
            },
            "required": ["imsx_codeMinorField"],
            "additionalProperties": false
        },
        "Imsx_CodeMinorField": {
            "type": "object",
            "properties": {
                "imsx_codeMinorFieldName": {"type": "string"},
                "imsx_codeMinorFieldValue": {"type": "string", "enum": [
                    "forbidden", "fullsuccess", "internal_server_error", "invalid_data",
                    "invalid_query_parameter", "misdirected_request", "not_acceptable", "not_allowed",
                    "not_found", "not_modified", "server_busy", "unauthorizedrequest", "unknown"]}
            },
            "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
            "additionalProperties": false
        }
    })
}

/// The Service Description Document of the server at `base`.
pub fn document(base: &str, service: &crate::config::ServiceSettings) -> Value {
    let mut info = json!({
        "title": service.name,
        "description": "The Open Badges 3.0 Service API of this server: a host of learners' badges \
            (getCredentials, upsertCredential, getProfile, putProfile), authorized with OAuth 2.0.",
        "version": "3.0",
        "termsOfService": service.terms_url,
        "x-imssf-privacyPolicyUrl": service.privacy_url,
    });
    if let Some(image) = &service.image_url {
        info["x-imssf-image"] = json!(image);
    }
    json!({
        "openapi": "3.0.1",
        "info": info,
        "servers": [{"url": format!("{base}{API_PATH}"), "description": "This server"}],
        "tags": [
            {"name": "OpenBadgeCredentials", "description": "Exchange OpenBadgeCredentials"},
            {"name": "Profile", "description": "The learner's profile"},
            {"name": "Discovery", "description": "This document"}
        ],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "OAuth2ACG": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 Authorization Code Grant authorization, PKCE S256 required",
                    "x-imssf-name": service.name,
                    "x-imssf-privacyPolicyUrl": service.privacy_url,
                    "x-imssf-termsOfServiceUrl": service.terms_url,
                    "x-imssf-registrationUrl": format!("{base}{REGISTER_PATH}"),
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": format!("{base}{AUTHORIZE_PATH}"),
                            "tokenUrl": format!("{base}{TOKEN_PATH}"),
                            "refreshUrl": format!("{base}{TOKEN_PATH}"),
                            "scopes": scope_descriptions()
                        }
                    }
                }
            },
            "schemas": schemas()
        }
    })
}

/// `GET /ims/ob/v3p0/discovery`.
#[utoipa::path(
    get,
    path = "/ims/ob/v3p0/discovery",
    tag = "service-api",
    operation_id = "getServiceDescription",
    summary = "OB 3.0 Service Description Document (OpenAPI 3.0 with the OAuth2ACG scheme)",
    description = "Public. What a client reads first: the registration, authorization and token URLs, the \
        scopes, the operations, the terms of service (SERVICE_TERMS_URL) and privacy policy \
        (SERVICE_PRIVACY_URL).",
    responses((status = 200, description = "The document.", body = Object))
)]
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(document(
            &state.settings.http.base_url,
            &state.settings.service,
        ))
}
