//! Requests with credentials: who calls ([`Caller`]), logging in, and
//! making users and API keys through the API.

use serde_json::{json, Value};

use crate::{Launch, Response, Server, Storage};

/// The administrator `AUTH_ADMIN_USERNAME` creates in [`Storage::launch_with_auth`].
pub const ADMIN_USERNAME: &str = "admin";
/// Their password, `AUTH_ADMIN_PASSWORD`.
pub const ADMIN_PASSWORD: &str = "bootstrap-admin-password-e2e";
/// The `JWT_SECRET` of [`Storage::launch_with_auth`] (at least 32 characters).
pub const JWT_SECRET: &str = "e2e-login-token-secret-0123456789abcdef";

impl Storage {
    /// A launch on this storage with authentication as a fresh install has
    /// it: the bootstrap administrator [`ADMIN_USERNAME`], a fixed
    /// [`JWT_SECRET`], `BASE_URL` at the server's own address, and no rate
    /// limit (the scenarios send many requests from one address).
    pub fn launch_with_auth(&self) -> Launch {
        self.launch()
            .base_url_at_own_address()
            .env("AUTH_ADMIN_USERNAME", ADMIN_USERNAME)
            .env("AUTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("JWT_SECRET", JWT_SECRET)
            .env("RATE_LIMIT_PER_MINUTE", "0")
    }
}

/// The credentials a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// None.
    Anonymous,
    /// `Authorization: Bearer <token>`, a login token.
    Token(String),
    /// `X-API-Key: <key>`.
    Key(String),
    /// `Authorization: Bearer <key>`, an API key as a bearer credential.
    BearerKey(String),
    /// Any `Authorization` value, as given.
    Authorization(String),
}

impl Caller {
    /// The request headers that present these credentials.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Anonymous => Vec::new(),
            Self::Token(secret) | Self::BearerKey(secret) => {
                vec![("Authorization", format!("Bearer {secret}"))]
            }
            Self::Key(key) => vec![("X-API-Key", key.clone())],
            Self::Authorization(value) => vec![("Authorization", value.clone())],
        }
    }

    /// The secret presented (token or key), if any.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::Token(secret)
            | Self::Key(secret)
            | Self::BearerKey(secret)
            | Self::Authorization(secret) => Some(secret),
        }
    }
}

/// The id of a JSON answer (`id` as is: users and keys have bare UUIDs).
#[track_caller]
fn id_in(response: &Response) -> String {
    response.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no id in {}", response.request, response.text))
        .to_owned()
}

impl Server {
    /// `method target` as `caller`, with an optional JSON body.
    pub fn send_as(
        &self,
        caller: &Caller,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> Response {
        let headers = caller.headers();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let body = body.map(Value::to_string);
        self.send(method, target, &headers, body.as_deref())
    }

    /// `GET target` as `caller`.
    pub fn get_as(&self, caller: &Caller, target: &str) -> Response {
        self.send_as(caller, "GET", target, None)
    }

    /// `POST target body` as `caller`.
    pub fn post_as(&self, caller: &Caller, target: &str, body: &Value) -> Response {
        self.send_as(caller, "POST", target, Some(body))
    }

    /// `PUT target body` as `caller`.
    pub fn put_as(&self, caller: &Caller, target: &str, body: &Value) -> Response {
        self.send_as(caller, "PUT", target, Some(body))
    }

    /// `DELETE target` as `caller`.
    pub fn delete_as(&self, caller: &Caller, target: &str) -> Response {
        self.send_as(caller, "DELETE", target, None)
    }

    /// An issuer named `name` and one achievement of it, `badge_name`, made
    /// by `caller`: their UUIDs.
    #[track_caller]
    pub fn issuer_with_badge(
        &self,
        caller: &Caller,
        name: &str,
        badge_name: &str,
    ) -> (String, String) {
        let issuer = self.post_as(caller, "/issuers", &crate::issuer_body(name));
        issuer.assert_status(201);
        let issuer = crate::uuid_of(&issuer.body);
        let badge = self.post_as(
            caller,
            "/achievements",
            &crate::achievement_body(&issuer, badge_name),
        );
        badge.assert_status(201);
        (issuer, crate::uuid_of(&badge.body))
    }

    /// `did:web` of `issuer` (a UUID) on a server whose `BASE_URL` is its
    /// own address `http://127.0.0.1:<port>`: the port is `%3A`-encoded.
    pub fn did_of(&self, issuer: &str) -> String {
        let host = self
            .base_url()
            .strip_prefix("http://")
            .expect("an http base URL")
            .replace(':', "%3A");
        format!("did:web:{host}:issuers:{issuer}")
    }

    /// `POST /auth/login` as is.
    pub fn try_login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/auth/login",
            &json!({"usernameOrEmail": username, "password": password}),
        )
    }

    /// Logs in, expecting 200 with a token; returns the token as a caller.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str) -> Caller {
        let response = self.try_login(username, password);
        response.assert_status(200);
        let token = response.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {}", response.text));
        Caller::Token(token.to_owned())
    }

    /// `POST /users` as `admin`, expecting 201; returns the user's id.
    #[track_caller]
    pub fn create_user(
        &self,
        admin: &Caller,
        username: &str,
        password: &str,
        role: &str,
    ) -> String {
        let response = self.post_as(
            admin,
            "/users",
            &json!({
                "username": username,
                "email": format!("{username}@users.example.org"),
                "password": password,
                "role": role,
            }),
        );
        response.assert_status(201);
        id_in(&response)
    }

    /// `POST /api-keys body` as `caller`, expecting 201; returns the key's
    /// id and the key.
    #[track_caller]
    pub fn create_api_key(&self, caller: &Caller, body: &Value) -> (String, String) {
        let response = self.post_as(caller, "/api-keys", body);
        response.assert_status(201);
        let key = response.body["key"]
            .as_str()
            .unwrap_or_else(|| panic!("no key in {}", response.text))
            .to_owned();
        (id_in(&response), key)
    }

    /// `X-Total-Count` of the list at `path` as `caller`, expecting 200.
    #[track_caller]
    pub fn total_as(&self, caller: &Caller, path: &str) -> u64 {
        let response = self.get_as(caller, path);
        response.assert_status(200);
        response
            .expect_header("x-total-count")
            .parse()
            .unwrap_or_else(|e| panic!("{}: X-Total-Count: {e}", response.request))
    }
}
