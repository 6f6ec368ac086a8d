"""A black-box OAuth 2.0 client of the Open Badges 3.0 Service API.

It plays the part of another host or wallet that a learner connects to this
server, using a standard OAuth 2.0 library (authlib) rather than any of the
server's own code, and checks every answer against the OB 3.0 API and
security specifications and RFC 6749, 7009, 7591, 7636 and 8414:

  discovery (the Service Description Document) and the RFC 8414 metadata
  -> dynamic client registration (RFC 7591)
  -> authorization with PKCE S256, logging in through the HTML form as a
     browser would (a denied and a wrong-password attempt first)
  -> the authorization code for tokens (client_secret_basic)
  -> upsertCredential (JSON: create 201, replace 200; compact JWS as
     text/plain: create 201, replace 200)
  -> getCredentials page by page (limit=1), X-Total-Count and Link
  -> getProfile, putProfile
  -> refresh (rotation: the old refresh token fails)
  -> on a second authorization: revocation (RFC 7009), after which every
     call fails with 401 and an Imsx_StatusInfo body.

Each check prints one line; the first failed check prints FAILED with what
was expected and what came, and the exit status is 1. With --save DIR the
bodies worth validating against the OB 3.0 JSON Schemas (a getCredentials
page, getProfile, an error) and the discovery document are written there.

Usage:
  client.py --base-url URL --username NAME --password PASSWORD
            --credential FILE [--credential FILE ...] --jws FILE
            [--expect-held N] [--redirect-base URL] [--save DIR]
"""

import argparse
import base64
import hashlib
import html.parser
import json
import os
import sys
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

SCOPE_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ = SCOPE_BASE + "credential.readonly"
CREDENTIAL_UPSERT = SCOPE_BASE + "credential.upsert"
PROFILE_READ = SCOPE_BASE + "profile.readonly"
PROFILE_UPDATE = SCOPE_BASE + "profile.update"
OB_SCOPES = [CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE]
# offline_access asks for a refresh token, as the specification's examples do.
REQUESTED_SCOPE = " ".join(OB_SCOPES + ["offline_access"])
API = "/ims/ob/v3p0"
TIMEOUT = 30


class Failure(Exception):
    """A check that did not hold."""


CHECKS = [0]


def ok(message):
    CHECKS[0] += 1
    print(f"ok: {message}", flush=True)


def check(condition, message, detail=None):
    """Fails with `message` (and `detail`, what came) unless `condition`."""
    if not condition:
        if detail is not None:
            raise Failure(f"{message}\n  got: {detail}")
        raise Failure(message)
    ok(message)


def describe(response):
    """The status, content type and the start of the body of an answer."""
    body = response.text
    if len(body) > 600:
        body = body[:600] + "..."
    return (
        f"{response.request.method} {response.url} -> {response.status_code} "
        f"({response.headers.get('Content-Type')}): {body}"
    )


def expect_status(response, status, what):
    check(
        response.status_code == status,
        f"{what}: {status}",
        describe(response),
    )


def json_body(response, what):
    try:
        return response.json()
    except ValueError:
        raise Failure(f"{what}: the body is not JSON\n  got: {describe(response)}")


def media_type(response):
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def save(directory, name, document):
    if directory:
        with open(os.path.join(directory, name), "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)


# --- discovery -------------------------------------------------------------


def discover(base, web, saved):
    """The SDD and the RFC 8414 metadata; returns the metadata."""
    response = web.get(base + API + "/discovery", headers={"Accept": "application/json"})
    expect_status(response, 200, "discovery answers without a token")
    check(media_type(response) == "application/json", "discovery is JSON", media_type(response))
    sdd = json_body(response, "discovery")
    save(saved, "discovery.json", sdd)
    check(str(sdd.get("openapi", "")).startswith("3.0"), "discovery is OpenAPI 3.0", sdd.get("openapi"))
    info = sdd.get("info", {})
    check(bool(info.get("title")), "discovery names the server (info.title)", info)
    for field in ("termsOfService", "x-imssf-privacyPolicyUrl"):
        check(
            is_url(info.get(field)),
            f"discovery info.{field} is a fully qualified URL",
            info.get(field),
        )
    acg = sdd.get("components", {}).get("securitySchemes", {}).get("OAuth2ACG")
    check(isinstance(acg, dict), "discovery has the OAuth2ACG security scheme", sdd.get("components"))
    check(acg.get("type") == "oauth2", "OAuth2ACG is of type oauth2", acg.get("type"))
    check(is_url(acg.get("x-imssf-registrationUrl")), "OAuth2ACG names x-imssf-registrationUrl", acg)
    flow = acg.get("flows", {}).get("authorizationCode", {})
    for field in ("authorizationUrl", "tokenUrl", "refreshUrl"):
        check(is_url(flow.get(field)), f"the authorizationCode flow names {field}", flow)
    check(
        set(OB_SCOPES) <= set(flow.get("scopes", {})),
        "the authorizationCode flow lists the four OB scopes",
        flow.get("scopes"),
    )
    paths = sdd.get("paths", {})
    for path, method, operation in (
        ("/credentials", "get", "getCredentials"),
        ("/credentials", "post", "upsertCredential"),
        ("/profile", "get", "getProfile"),
        ("/profile", "put", "putProfile"),
    ):
        found = [
            p for p, item in paths.items()
            if p.rstrip("/").endswith(path) and method in item
        ]
        check(bool(found), f"discovery describes {operation} ({method.upper()} {path})", list(paths))

    response = web.get(base + "/.well-known/oauth-authorization-server")
    expect_status(response, 200, "RFC 8414 metadata answers")
    metadata = AuthorizationServerMetadata(json_body(response, "metadata"))
    save(saved, "oauth-authorization-server.json", dict(metadata))
    try:
        metadata.validate()
    except ValueError as error:
        raise Failure(f"the RFC 8414 metadata is invalid (authlib): {error}\n  got: {dict(metadata)}")
    ok("the RFC 8414 metadata validates (authlib's AuthorizationServerMetadata)")
    # RFC 8414 section 3.3: the issuer is the URL the metadata was asked of.
    check(
        metadata["issuer"].rstrip("/") == base.rstrip("/"),
        "the metadata's issuer is the server's base URL",
        metadata["issuer"],
    )
    for field in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "revocation_endpoint"):
        check(is_url(metadata.get(field)), f"the metadata names {field}", metadata.get(field))
    check(
        metadata["registration_endpoint"] == acg["x-imssf-registrationUrl"],
        "the SDD and the metadata name the same registration endpoint",
        (metadata["registration_endpoint"], acg["x-imssf-registrationUrl"]),
    )
    check(
        metadata["authorization_endpoint"] == flow["authorizationUrl"]
        and metadata["token_endpoint"] == flow["tokenUrl"],
        "the SDD and the metadata name the same authorization and token endpoints",
        (metadata["authorization_endpoint"], metadata["token_endpoint"], flow),
    )
    check(metadata.get("response_types_supported") == ["code"], "response_types_supported is [code]",
          metadata.get("response_types_supported"))
    check(metadata.get("code_challenge_methods_supported") == ["S256"], "PKCE: only S256",
          metadata.get("code_challenge_methods_supported"))
    check(metadata.get("token_endpoint_auth_methods_supported") == ["client_secret_basic"],
          "token endpoint authentication: only client_secret_basic",
          metadata.get("token_endpoint_auth_methods_supported"))
    check(
        {"authorization_code", "refresh_token"} <= set(metadata.get("grant_types_supported", [])),
        "grant types: authorization_code and refresh_token",
        metadata.get("grant_types_supported"),
    )
    check(
        set(OB_SCOPES) <= set(metadata.get("scopes_supported", [])),
        "scopes_supported lists the four OB scopes",
        metadata.get("scopes_supported"),
    )
    return metadata


def is_url(value):
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- registration ----------------------------------------------------------


def register(metadata, web, redirect_base):
    redirect_uri = redirect_base + "/callback"
    request = {
        "client_name": "authlib black-box client",
        "client_uri": redirect_base + "/",
        "logo_uri": redirect_base + "/logo.png",
        "tos_uri": redirect_base + "/terms",
        "policy_uri": redirect_base + "/privacy",
        "software_id": "8a1e8d0e-6a0b-4d0f-9a43-authlib-test",
        "software_version": "1.0.0",
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": REQUESTED_SCOPE,
        "contacts": ["badges@client.example.org"],
    }
    response = web.post(metadata["registration_endpoint"], json=request)
    expect_status(response, 201, "registration without an initial access token")
    client = json_body(response, "registration")
    for field in ("client_id", "client_secret"):
        check(isinstance(client.get(field), str) and client[field], f"registration answers a {field}", client)
    for field in ("client_id_issued_at", "client_secret_expires_at"):
        check(
            isinstance(client.get(field), int) and client[field] >= 0,
            f"registration answers {field} as a non-negative integer",
            client.get(field),
        )
    # RFC 7591 section 3.2.1 and the OB security section: every field sent
    # comes back (the server may have adjusted its value).
    missing = [field for field in request if field not in client]
    check(not missing, "registration returns every metadata field sent", missing)
    check(client["redirect_uris"] == [redirect_uri], "the redirect URI is registered as sent",
          client["redirect_uris"])
    return client, redirect_uri


# --- authorization through the HTML form -----------------------------------


class FormParser(html.parser.HTMLParser):
    """Collects the forms of a page: action, method, inputs and buttons."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": [],
                "buttons": [],
            }
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "button"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            name = attrs.get("name")
            if kind == "submit":
                if name:
                    self.current["buttons"].append((name, attrs.get("value") or ""))
            elif kind in ("checkbox", "radio") and "checked" not in attrs:
                # A browser sends only the boxes that are checked.
                pass
            elif name:
                self.current["fields"].append((name, kind, attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def login_form(page_url, response):
    """The form of the authorize page with username and password fields."""
    parser = FormParser()
    parser.feed(response.text)
    for form in parser.forms:
        names = {name for name, _, _ in form["fields"]}
        if {"username", "password"} <= names:
            form["action"] = urllib.parse.urljoin(page_url, form["action"] or page_url)
            return form
    raise Failure(f"the authorize page has no form with username and password\n  got: {describe(response)}")


def submit(browser, form, username, password, decision):
    """Posts the form as a browser would, with the button `decision`."""
    fields = []
    for name, kind, value in form["fields"]:
        if name == "username":
            fields.append((name, username))
        elif name == "password":
            fields.append((name, password))
        elif kind in ("checkbox", "radio"):
            # Checked by the page (scope boxes and the like): kept.
            fields.append((name, value or "on"))
        else:
            fields.append((name, value))
    check(
        (("decision", decision) in form["buttons"]),
        f"the authorize form has a decision={decision} button",
        form["buttons"],
    )
    fields.append(("decision", decision))
    check(form["method"] == "post", "the authorize form is posted", form["method"])
    return browser.post(form["action"], data=fields, allow_redirects=False)


def open_authorize_page(browser, url, client_name):
    response = browser.get(url, headers={"Accept": "text/html"})
    expect_status(response, 200, "the authorize page answers")
    check(media_type(response) == "text/html", "the authorize page is HTML", media_type(response))
    check(client_name in response.text, "the authorize page names the client", client_name)
    policy = response.headers.get("Content-Security-Policy", "")
    check(
        "frame-ancestors 'none'" in policy,
        "the authorize page cannot be framed (CSP frame-ancestors 'none')",
        policy,
    )
    return login_form(url, response)


def redirect_query(response, redirect_uri):
    """The query of a redirect to `redirect_uri`."""
    check(response.status_code in (302, 303), "the form answers with a redirect", describe(response))
    location = response.headers.get("Location", "")
    check(location.split("?")[0] == redirect_uri, "the redirect goes to the registered redirect URI", location)
    return location, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def authorize(metadata, client, redirect_uri, username, password, rehearse):
    """One authorization with PKCE: returns (OAuth2Session with a token, token response)."""
    session = OAuth2Session(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        scope=REQUESTED_SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
    )
    captured = {}

    def keep(response):
        captured["response"] = response
        return response

    session.register_compliance_hook("access_token_response", keep)
    session.register_compliance_hook("refresh_token_response", keep)
    browser = requests.Session()

    if rehearse:
        # The user says no: access_denied back to the client, with its state.
        url, state = session.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=generate_token(64)
        )
        form = open_authorize_page(browser, url, client["client_name"])
        denied = submit(browser, form, username, password, "deny")
        _, query = redirect_query(denied, redirect_uri)
        check(query.get("error") == "access_denied", "deny: error=access_denied", query)
        check(query.get("state") == state, "deny: the state comes back", query)
        check("code" not in query, "deny: no code", query)

        # A wrong password: the page again, no redirect and no code.
        url, _ = session.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=generate_token(64)
        )
        form = open_authorize_page(browser, url, client["client_name"])
        wrong = submit(browser, form, username, password + "-wrong", "allow")
        check(
            wrong.status_code in (200, 401) and "Location" not in wrong.headers,
            "a wrong password shows the page again (200 or 401), without a redirect",
            describe(wrong),
        )
        check(media_type(wrong) == "text/html", "a wrong password answers HTML", media_type(wrong))

    verifier = generate_token(64)
    url, state = session.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    check(
        query.get("code_challenge_method") == "S256"
        and query.get("code_challenge") == pkce_s256(verifier),
        "authlib sends an S256 code challenge",
        query,
    )
    form = open_authorize_page(browser, url, client["client_name"])
    allowed = submit(browser, form, username, password, "allow")
    location, query = redirect_query(allowed, redirect_uri)
    check(bool(query.get("code")), "allow: the redirect carries a code", location)
    check(query.get("state") == state, "allow: the state comes back", query)
    check(
        set(query.get("scope", "").split()) == set(REQUESTED_SCOPE.split()),
        "allow: the redirect confirms the scopes granted",
        query.get("scope"),
    )

    try:
        token = session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=location,
            state=state,
            code_verifier=verifier,
            # The OB security section requires scope in the token request.
            scope=REQUESTED_SCOPE,
        )
    except OAuthError as error:
        raise Failure(f"the code is exchanged for tokens: {error}")
    check_token_response(captured["response"], token, "the code is exchanged for tokens")
    return session, captured


def pkce_s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_token_response(response, token, what):
    expect_status(response, 200, what)
    check(str(token.get("token_type", "")).lower() == "bearer", f"{what}: token_type bearer", token.get("token_type"))
    check(bool(token.get("access_token")), f"{what}: an access token", list(token))
    check(bool(token.get("refresh_token")), f"{what}: a refresh token (offline_access)", list(token))
    check(
        isinstance(token.get("expires_in"), int) and token["expires_in"] > 0,
        f"{what}: expires_in is a positive number of seconds",
        token.get("expires_in"),
    )
    check(
        set(str(token.get("scope", "")).split()) == set(REQUESTED_SCOPE.split()),
        f"{what}: the scope granted",
        token.get("scope"),
    )
    check(
        "no-store" in response.headers.get("Cache-Control", ""),
        f"{what}: Cache-Control no-store",
        response.headers.get("Cache-Control"),
    )


# --- the resource API ------------------------------------------------------


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def get_credentials(base, access_token, query):
    return requests.get(
        base + API + "/credentials",
        params=query,
        headers={**bearer(access_token), "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def entries(page):
    """The credentials of a getCredentials body: JSON ones, then JWS strings."""
    credential = page.get("credential", [])
    jws = page.get("compactJwsString", [])
    if isinstance(credential, dict):
        credential = [credential]
    if isinstance(jws, str):
        jws = [jws]
    return list(credential), list(jws)


def link_offsets(response, what):
    """rel -> (limit, offset) of the Link header."""
    links = {}
    for rel, link in response.links.items():
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link["url"]).query))
        try:
            links[rel] = (int(query["limit"]), int(query.get("offset", "0")), link["url"])
        except (KeyError, ValueError):
            raise Failure(f"{what}: the {rel} link has no limit and offset\n  got: {link['url']}")
    return links


def page_through(base, access_token, saved, what):
    """Every credential, one per page, following the next links; checks the
    paging headers on each page. Returns (JSON credentials, JWS strings)."""
    response = get_credentials(base, access_token, {"limit": 1, "offset": 0})
    expect_status(response, 200, f"{what}: getCredentials")
    total_text = response.headers.get("X-Total-Count")
    check(total_text is not None and total_text.isdigit(), f"{what}: X-Total-Count is a count", total_text)
    total = int(total_text)
    credentials, strings = [], []
    offset = 0
    pages = 0
    while True:
        pages += 1
        check(pages <= total + 1, f"{what}: page {pages} is within the total", pages)
        body = json_body(response, "getCredentials")
        if offset == 0:
            save(saved, "getcredentials-page.json", body)
        on_page = entries(body)
        count = len(on_page[0]) + len(on_page[1])
        check(count == min(1, total - offset), f"{what}: offset {offset} holds {min(1, total - offset)} credential", count)
        credentials += on_page[0]
        strings += on_page[1]
        check(
            response.headers.get("X-Total-Count") == str(total),
            f"{what}: offset {offset}: X-Total-Count stays {total}",
            response.headers.get("X-Total-Count"),
        )
        if "Link" not in response.headers:
            # api.txt: Link MUST be there when the list is incomplete, MAY
            # be when it is complete.
            check(offset + 1 >= total, f"{what}: offset {offset}: no Link header, and the list is complete", total)
            break
        links = link_offsets(response, f"{what}: offset {offset}")
        last = max(total - 1, 0)
        check(links.get("first", (None, None))[:2] == (1, 0), f"{what}: offset {offset}: rel=first is offset 0", links)
        check(links.get("last", (None, None))[:2] == (1, last), f"{what}: offset {offset}: rel=last is offset {last}", links)
        if offset > 0:
            check(
                links.get("prev", (None, None))[:2] == (1, offset - 1),
                f"{what}: offset {offset}: rel=prev is offset {offset - 1}",
                links,
            )
        if offset + 1 < total:
            check(
                links.get("next", (None, None))[:2] == (1, offset + 1),
                f"{what}: offset {offset}: rel=next is offset {offset + 1}",
                links,
            )
        else:
            check("next" not in links, f"{what}: offset {offset}: the last page has no rel=next", links)
            break
        next_url = links["next"][2]
        offset += 1
        response = requests.get(
            urllib.parse.urljoin(response.url, next_url),
            headers={**bearer(access_token), "Accept": "application/json"},
            timeout=TIMEOUT,
        )
        expect_status(response, 200, f"{what}: getCredentials at offset {offset} (followed rel=next)")
    check(
        len(credentials) + len(strings) == total,
        f"{what}: {total} credentials in all, one per page",
        len(credentials) + len(strings),
    )
    return credentials, strings


def upsert_json(base, access_token, credential, status, what):
    response = requests.post(
        base + API + "/credentials",
        data=json.dumps(credential),
        headers={**bearer(access_token), "Content-Type": "application/json", "Accept": "application/json"},
        timeout=TIMEOUT,
    )
    expect_status(response, status, what)
    check(json_body(response, what) == credential, f"{what}: the credential is echoed", describe(response))


def upsert_jws(base, access_token, jws, status, what):
    response = requests.post(
        base + API + "/credentials",
        data=jws.encode("ascii"),
        headers={**bearer(access_token), "Content-Type": "text/plain", "Accept": "text/plain"},
        timeout=TIMEOUT,
    )
    expect_status(response, status, what)
    check(response.text.strip() == jws, f"{what}: the compact JWS is echoed", describe(response))


def get_profile(base, access_token):
    return requests.get(
        base + API + "/profile",
        headers={**bearer(access_token), "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def put_profile(base, access_token, profile):
    return requests.put(
        base + API + "/profile",
        data=json.dumps(profile),
        headers={**bearer(access_token), "Content-Type": "application/json", "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def is_imsx_failure(response):
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("imsx_codeMajor") == "failure"
        and body.get("imsx_severity") == "error"
    )


def every_call_fails(base, access_token, credential, saved, what):
    """The four operations with `access_token`: each 401 with Imsx_StatusInfo."""
    calls = {
        "getCredentials": lambda: get_credentials(base, access_token, {"limit": 1}),
        "upsertCredential": lambda: requests.post(
            base + API + "/credentials",
            data=json.dumps(credential),
            headers={**bearer(access_token), "Content-Type": "application/json"},
            timeout=TIMEOUT,
        ),
        "getProfile": lambda: get_profile(base, access_token),
        "putProfile": lambda: put_profile(
            base, access_token, {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "Profile"}
        ),
    }
    for operation, call in calls.items():
        response = call()
        expect_status(response, 401, f"{what}: {operation}")
        check(is_imsx_failure(response), f"{what}: {operation} answers Imsx_StatusInfo failure/error", describe(response))
        if operation == "getCredentials":
            save(saved, "error-unauthorized.json", response.json())


def refresh_fails(session, metadata, refresh_token, what):
    try:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
    except OAuthError as error:
        check(error.error == "invalid_grant", f"{what}: invalid_grant", error.error)
        return
    raise Failure(f"{what}: the token endpoint issued tokens")


# --- the whole flow --------------------------------------------------------


def run(args):
    base = args.base_url.rstrip("/")
    web = requests.Session()
    credentials = []
    for path in args.credential:
        with open(path, encoding="utf-8") as file:
            credentials.append(json.load(file))
    with open(args.jws, encoding="ascii") as file:
        jws = file.read().strip()

    metadata = discover(base, web, args.save)
    client, redirect_uri = register(metadata, web, args.redirect_base.rstrip("/"))

    session, captured = authorize(metadata, client, redirect_uri, args.username, args.password, rehearse=True)
    token = dict(session.token)
    access = token["access_token"]

    before, before_jws = page_through(base, access, args.save, "before the upserts")
    if args.expect_held is not None:
        check(
            len(before) + len(before_jws) == args.expect_held,
            f"the backpack holds the {args.expect_held} credential(s) it had before the client",
            len(before) + len(before_jws),
        )

    # upsertCredential: create, then the same credential again replaces it.
    first, *others = credentials
    upsert_json(base, access, first, 201, "upsertCredential (JSON, new)")
    upsert_json(base, access, first, 200, "upsertCredential (JSON, the same again)")
    for number, credential in enumerate(others, start=2):
        upsert_json(base, access, credential, 201, f"upsertCredential (JSON #{number}, new)")
    upsert_jws(base, access, jws, 201, "upsertCredential (compact JWS, new)")
    upsert_jws(base, access, jws, 200, "upsertCredential (compact JWS, the same again)")

    after, after_jws = page_through(base, access, args.save, "after the upserts")
    check(
        len(after) + len(after_jws) == len(before) + len(before_jws) + len(credentials) + 1,
        "each new credential is held once (replacing adds none)",
        (len(before) + len(before_jws), len(after) + len(after_jws)),
    )
    for number, credential in enumerate(credentials, start=1):
        check(credential in after, f"getCredentials returns JSON credential #{number} as sent", credential.get("id"))
    check(jws in after_jws, "getCredentials returns the compact JWS as sent", after_jws)

    # getProfile, then putProfile with a changed profile, read back.
    response = get_profile(base, access)
    expect_status(response, 200, "getProfile")
    profile = json_body(response, "getProfile")
    save(args.save, "profile.json", profile)
    types = profile.get("type")
    check(types == "Profile" or (isinstance(types, list) and "Profile" in types), "getProfile is a Profile", types)
    changed = dict(profile)
    changed["name"] = "Ada Lovelace (from the authlib client)"
    changed["phone"] = "+44 20 7946 0000"
    response = put_profile(base, access, changed)
    expect_status(response, 200, "putProfile")
    echoed = json_body(response, "putProfile")
    check(
        echoed.get("name") == changed["name"] and echoed.get("phone") == changed["phone"],
        "putProfile answers the profile as changed",
        echoed,
    )
    response = get_profile(base, access)
    expect_status(response, 200, "getProfile after putProfile")
    check(json_body(response, "getProfile") == echoed, "getProfile returns the profile put", response.text)

    # Refresh: a new pair; the old refresh token is spent.
    try:
        refreshed = dict(session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"]))
    except OAuthError as error:
        raise Failure(f"refresh: {error}")
    check_token_response(captured["response"], refreshed, "refresh")
    check(refreshed["access_token"] != access, "refresh: a new access token", None)
    check(refreshed["refresh_token"] != token["refresh_token"], "refresh: a new refresh token (rotation)", None)
    response = get_credentials(base, refreshed["access_token"], {"limit": 1})
    expect_status(response, 200, "getCredentials with the refreshed access token")
    refresh_fails(session, metadata, token["refresh_token"], "the old refresh token, once rotated")

    # A second authorization of the same client, then revocation (RFC 7009)
    # of its refresh token: every call with its access token fails.
    session, _ = authorize(metadata, client, redirect_uri, args.username, args.password, rehearse=False)
    second = dict(session.token)
    response = get_profile(base, second["access_token"])
    expect_status(response, 200, "getProfile on a second authorization")
    try:
        response = session.revoke_token(
            metadata["revocation_endpoint"], token=second["refresh_token"], token_type_hint="refresh_token"
        )
    except OAuthError as error:
        raise Failure(f"revocation: {error}")
    expect_status(response, 200, "revocation of the refresh token (RFC 7009)")
    every_call_fails(base, second["access_token"], first, args.save, "after revocation")
    refresh_fails(session, metadata, second["refresh_token"], "the revoked refresh token")
    response = session.revoke_token(
        metadata["revocation_endpoint"], token="no-such-token-" + generate_token(20), token_type_hint="access_token"
    )
    expect_status(response, 200, "revocation of an unknown token answers 200 (RFC 7009)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="the server's BASE_URL")
    parser.add_argument("--username", required=True, help="the learner's username or e-mail")
    parser.add_argument("--password", required=True, help="the learner's password")
    parser.add_argument("--credential", action="append", required=True,
                        help="a signed OB 3.0 credential (JSON file) to upsert; repeatable")
    parser.add_argument("--jws", required=True, help="a file holding a compact JWS (VC-JWT) credential")
    parser.add_argument("--expect-held", type=int,
                        help="how many credentials the backpack holds before the upserts")
    parser.add_argument("--redirect-base", default="http://localhost:8765",
                        help="where the client's redirect URI and pages live (never fetched)")
    parser.add_argument("--save", help="a directory to write the documents to validate")
    args = parser.parse_args()
    if args.save:
        os.makedirs(args.save, exist_ok=True)
    try:
        run(args)
    except Failure as failure:
        print(f"FAILED: {failure}", flush=True)
        return 1
    except requests.RequestException as error:
        print(f"FAILED: the server did not answer: {error}", flush=True)
        return 1
    print(f"service API client: all {CHECKS[0]} checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
