//! Access control, CSRF, sessions, tokens, the OpenAPI document against the router, the
//! cross-workspace suite, and the pages — all through the router, in-process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::test_support::{
    PASSWORD, get, get_as, seeded_app, seeded_app_with_clock, send, send_raw, token_of,
};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tower::ServiceExt;

/// Every route path of the router (from axum's own route table, as its `Debug` prints it).
fn router_paths(app: &Router) -> BTreeSet<String> {
    let debug = format!("{app:?}");
    let mut out = BTreeSet::new();
    for part in debug.split("RouteId(").skip(1) {
        // `12): "/api/v1/…"`
        if let Some(rest) = part.split_once("): \"")
            && let Some((path, _)) = rest.1.split_once('"')
        {
            out.insert(path.to_owned());
        }
    }
    out
}

/// A concrete URI for a route pattern.
fn fill(pattern: &str, ws: &str) -> String {
    pattern
        .replace("{ws}", ws)
        .replace("{watch}", if ws == "acme" { "brand" } else { "main" })
        .replace("{login}", "ada")
        .replace("{token}", "not-a-token")
        .replace("{*path}", "app.css")
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "1".to_owned()
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn request(method: &Method, uri: &str, login: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("authorization", format!("Bearer {}", token_of(login)));
    let body = if *method == Method::GET || *method == Method::DELETE {
        Body::empty()
    } else {
        b = b.header("content-type", "application/json");
        Body::from("{}")
    };
    b.body(body).unwrap()
}

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

#[tokio::test]
async fn openapi_lists_exactly_the_routes_of_the_router() {
    let (app, _store, _dir) = seeded_app().await;
    let api: BTreeSet<String> = router_paths(&app)
        .into_iter()
        .filter(|p| p.starts_with("/api/v1/"))
        .collect();
    assert!(api.len() >= 15, "{api:?}");
    let documented = crate::openapi::documented_operations().unwrap();
    let doc_paths: BTreeSet<String> = documented.iter().map(|(_, p)| p.clone()).collect();
    let missing: Vec<_> = api.difference(&doc_paths).collect();
    let extra: Vec<_> = doc_paths.difference(&api).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes not in openapi.json: {missing:?}; documented but not routed: {extra:?}"
    );
    // Methods: every documented one is routed, every other one is 405. Each probe runs on a
    // fresh app, so that one probe's effects (a revoked token…) do not change another.
    for path in &api {
        for method in METHODS {
            let is_documented = documented
                .iter()
                .any(|(m, p)| p == path && *m == method.as_str());
            let (app, _store, _dir) = seeded_app().await;
            let req = request(&method, &fill(path, "acme"), "ada");
            let (status, body) = if path.ends_with("/live") && method == Method::GET {
                // A live feed never ends: its status and content type say it is routed.
                let response = app.clone().oneshot(req).await.unwrap();
                (response.status(), serde_json::Value::Null)
            } else {
                let (status, _, body) = send(&app, req).await;
                (status, body)
            };
            if is_documented {
                assert_ne!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}: {body}"
                );
                assert!(
                    !body.to_string().contains("no route for"),
                    "{method} {path}: {body}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is routed but not documented: {body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn openapi_document_is_served_without_credentials() {
    let (app, _store, _dir) = seeded_app().await;
    let req = Request::get("/api/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send_raw(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["openapi"], "3.1.0");
    assert!(body["paths"]["/api/v1/workspaces/{ws}/mentions"]["get"].is_object());
}

/// What a response says about workspace globex, which must be nothing.
fn assert_no_globex_data(what: &str, body: &str) {
    for secret in ["text of g1", "author_g1", "\"Main\"", ">Main<"] {
        assert!(!body.contains(secret), "{what} leaked {secret:?}: {body}");
    }
}

#[tokio::test]
async fn no_route_reaches_another_workspace() {
    let (app, _store, _dir) = seeded_app().await;
    let paths: Vec<String> = router_paths(&app)
        .into_iter()
        .filter(|p| p.contains("{ws}"))
        .collect();
    assert!(paths.iter().any(|p| p.starts_with("/api/v1/")), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("/w/")), "{paths:?}");
    let mut checked = 0;
    for path in &paths {
        for method in METHODS {
            for login in ["alice", "vera", "nobody"] {
                // globex exists (and has data); `nope` does not. Both must look the same.
                let (status, _, body) =
                    send_raw(&app, request(&method, &fill(path, "globex"), login)).await;
                assert!(
                    matches!(
                        status,
                        StatusCode::NOT_FOUND
                            | StatusCode::FORBIDDEN
                            | StatusCode::METHOD_NOT_ALLOWED
                    ),
                    "{login}: {method} {path} on globex answered {status}: {body}"
                );
                let text = body.to_string();
                assert_no_globex_data(&format!("{login}: {method} {path}"), &text);
                let (status2, _, body2) =
                    send_raw(&app, request(&method, &fill(path, "nope"), login)).await;
                assert_eq!(status, status2, "{login}: {method} {path}");
                assert_eq!(
                    text.replace("globex", "WS"),
                    body2.to_string().replace("nope", "WS"),
                    "{login}: {method} {path}: a foreign workspace must look like a missing one"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
    // The workspace list shows only one's own workspaces.
    let (_, body) = get_as(&app, "alice", "/api/v1/workspaces").await;
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["acme"]);
    let (_, body) = get_as(&app, "gus", "/api/v1/workspaces").await;
    assert_eq!(body["items"][0]["id"], "globex");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

/// Routes without `{ws}` in their path: a workspace named in the body needs membership,
/// and installation-wide on-call data needs a role somewhere.
#[tokio::test]
async fn routes_without_a_workspace_in_the_path_are_scoped_too() {
    let (app, _store, _dir) = seeded_app().await;
    let check = |login: &str, ws: &str| {
        Request::post("/api/v1/policy/check")
            .header("authorization", format!("Bearer {}", token_of(login)))
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({"text": "Nous sommes désolés.", "workspace": ws}).to_string(),
            ))
            .unwrap()
    };
    // alice is a member of acme only: globex's policy looks like a workspace that does
    // not exist.
    let (status, _, body) = send_raw(&app, check("alice", "globex")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status2, _, body2) = send_raw(&app, check("alice", "nope")).await;
    assert_eq!(status2, StatusCode::NOT_FOUND);
    assert_eq!(
        body.to_string().replace("globex", "WS"),
        body2.to_string().replace("nope", "WS")
    );
    let (status, _, body) = send_raw(&app, check("alice", "acme")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send_raw(&app, check("gus", "globex")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Rotations (names, override reasons) need at least responder somewhere; channel
    // health (which may call every endpoint) needs admin. Without the on-call service the
    // allowed calls answer 503, never 403.
    for (login, uri, expected) in [
        ("vera", "/api/v1/mobilize/oncall", StatusCode::FORBIDDEN),
        ("vera", "/api/v1/mobilize/rotations", StatusCode::FORBIDDEN),
        ("nobody", "/api/v1/mobilize/oncall", StatusCode::FORBIDDEN),
        (
            "rick",
            "/api/v1/mobilize/oncall",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            "mona",
            "/api/v1/mobilize/notifiers/health",
            StatusCode::FORBIDDEN,
        ),
        (
            "rick",
            "/api/v1/mobilize/notifiers/health",
            StatusCode::FORBIDDEN,
        ),
        (
            "alice",
            "/api/v1/mobilize/notifiers/health",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ] {
        let (status, _, body) = send_raw(&app, request(&Method::GET, uri, login)).await;
        assert_eq!(status, expected, "{login} {uri}: {body}");
    }
}

#[tokio::test]
async fn credentials_are_required_and_checked() {
    let (app, store, _dir) = seeded_app().await;
    let uri = "/api/v1/workspaces/acme/mentions";
    let (status, _, body) = send_raw(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
    let bad = Request::get(uri)
        .header("authorization", "Bearer vgt_wrong")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send_raw(&app, bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("token"),
        "{body}"
    );
    // Revoked tokens stop working.
    let ada = store
        .accounts()
        .user_by_login("ada")
        .await
        .unwrap()
        .unwrap();
    let tokens = store.accounts().list_api_tokens(ada.id).await.unwrap();
    let (status, _) = get(&app, uri).await;
    assert_eq!(status, StatusCode::OK);
    for t in tokens {
        store
            .accounts()
            .revoke_api_token(ada.id, t.id, crate::test_support::at(1))
            .await
            .unwrap();
    }
    let (status, body) = get(&app, uri).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

fn json_req(method: Method, uri: &str, token: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn roles_and_token_scopes_decide_what_changes() {
    let (app, _store, _dir) = seeded_app().await;
    let uri = "/api/v1/workspaces/acme/watches/brand";
    let edit = |name: &str| json!({"name": name, "query": "acme OR acmé", "languages": ["fr"]});
    // A read token cannot change anything, whoever owns it.
    let read = format!("{}_read", token_of("ada"));
    let (status, _, body) = send_raw(&app, json_req(Method::PUT, uri, &read, edit("X"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("read-only"));
    for (login, expected) in [
        ("vera", StatusCode::FORBIDDEN),
        ("rick", StatusCode::FORBIDDEN),
        ("mona", StatusCode::OK),
        ("alice", StatusCode::OK),
    ] {
        let (status, _, body) = send_raw(
            &app,
            json_req(Method::PUT, uri, &token_of(login), edit(login)),
        )
        .await;
        assert_eq!(status, expected, "{login}: {body}");
    }
    let (_, body) = get(&app, "/api/v1/workspaces/acme/watches").await;
    assert_eq!(body["items"][0]["name"], "alice");
    assert_eq!(body["items"][0]["query"], "acme OR acmé");
    // Members: only admins change roles; the last admin stays.
    let member = |login: &str| format!("/api/v1/workspaces/acme/members/{login}");
    let (status, _, _) = send_raw(
        &app,
        json_req(
            Method::PUT,
            &member("gus"),
            &token_of("mona"),
            json!({"role": "viewer"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send_raw(
        &app,
        json_req(
            Method::PUT,
            &member("gus"),
            &token_of("alice"),
            json!({"role": "viewer"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = get_as(&app, "gus", "/api/v1/workspaces/acme/levels").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = get_as(&app, "alice", "/api/v1/workspaces/acme/members").await;
    assert!(body.to_string().contains("\"gus\""), "{body}");
    // ada is admin too: demote her, then alice is the last admin and cannot leave.
    let (status, _, _) = send_raw(
        &app,
        json_req(
            Method::PUT,
            &member("ada"),
            &token_of("alice"),
            json!({"role": "viewer"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let req = Request::delete(member("alice"))
        .header("authorization", format!("Bearer {}", token_of("alice")))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send_raw(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("last admin"));
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_change_nothing() {
    let (app, _store, _dir) = seeded_app().await;
    let uri = "/api/v1/workspaces/acme/watches/brand";
    let token = token_of("ada");
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            Request::put(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from("{\"name\": "))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            Request::put(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            json_req(
                Method::PUT,
                uri,
                &token,
                json!({"name": "x", "query": "y", "extra": 1}),
            ),
            StatusCode::BAD_REQUEST,
            "extra",
        ),
        (
            json_req(
                Method::PUT,
                uri,
                &token,
                json!({"name": "x", "query": "a AND (b"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid query",
        ),
        (
            json_req(
                Method::PUT,
                uri,
                &token,
                json!({"name": "x".repeat(100), "query": "y"}),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
    ];
    for (req, status, fragment) in cases {
        let (got, _, body) = send_raw(&app, req).await;
        assert_eq!(got, status, "{body}");
        assert!(body["code"].is_string(), "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(fragment),
            "{body}"
        );
    }
    let (_, body) = get(&app, "/api/v1/workspaces/acme/watches").await;
    assert_eq!(body["items"][0]["name"], "Brand");
    assert_eq!(body["items"][0]["query"], "acme");
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_revocable() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/api/v1/tokens",
            &token_of("rick"),
            json!({"name": "ci", "scope": "read"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["token"].as_str().unwrap().to_owned();
    let id = body["id"].as_i64().unwrap();
    assert!(secret.starts_with("vgt_"));
    let (_, list) = get_as(&app, "rick", "/api/v1/tokens").await;
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never listed again"
    );
    assert!(list.to_string().contains("\"ci\""));
    let with_new = Request::get("/api/v1/me")
        .header("authorization", format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, me) = send_raw(&app, with_new).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["login"], "rick");
    assert_eq!(me["workspaces"][0]["role"], "responder");
    // Another user cannot revoke it; its owner can.
    let revoke = |login: &str| {
        Request::delete(format!("/api/v1/tokens/{id}"))
            .header("authorization", format!("Bearer {}", token_of(login)))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send_raw(&app, revoke("alice")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send_raw(&app, revoke("rick")).await.0,
        StatusCode::NO_CONTENT
    );
    let again = Request::get("/api/v1/me")
        .header("authorization", format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&app, again).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/api/v1/tokens",
            &token_of("rick"),
            json!({"name": "x", "scope": "admin"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("scope"));
}

/// The `Set-Cookie` value of `name`.
fn set_cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Opens the login page and posts the form; returns the response status and headers.
/// Plain HTTP to `127.0.0.1:8080`, no peer address.
async fn login(
    app: &Router,
    user: &str,
    password: &str,
    totp: &str,
    with_csrf: bool,
) -> (StatusCode, HeaderMap) {
    let (status, headers, _) = login_with(
        app,
        user,
        password,
        totp,
        with_csrf,
        "127.0.0.1:8080",
        None,
        None,
    )
    .await;
    (status, headers)
}

/// [`login`] with the `Host` header, the peer address (as the server's connect info gives
/// it) and an `X-Forwarded-For` header; also returns the login page that was shown.
#[allow(clippy::too_many_arguments)]
async fn login_with(
    app: &Router,
    user: &str,
    password: &str,
    totp: &str,
    with_csrf: bool,
    host: &str,
    peer: Option<&str>,
    forwarded_for: Option<&str>,
) -> (StatusCode, HeaderMap, String) {
    let (status, headers, page) = send_raw(
        app,
        Request::get("/login")
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csrf_cookie = set_cookie_value(&headers, crate::auth::LOGIN_CSRF_COOKIE).unwrap();
    let page = page.as_str().unwrap().to_owned();
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let token = if with_csrf { token } else { String::new() };
    let form = format!(
        "_csrf={token}&next=%2Fw%2Facme&login={user}&password={}&totp={totp}",
        crate::ui::url_encode(password).replace("%20", "+")
    );
    let mut req = Request::post("/login")
        .header("host", host)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie_pair(&csrf_cookie));
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req.body(Body::from(form)).unwrap();
    if let Some(p) = peer {
        let addr: std::net::SocketAddr = p.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
    }
    let (status, headers, _) = send_raw(app, req).await;
    (status, headers, page)
}

#[tokio::test]
async fn login_sessions_csrf_and_expiry() {
    let (app, _store, _dir, clock) = seeded_app_with_clock().await;
    // Without the form's CSRF token: refused, no session.
    let (status, headers) = login(&app, "alice", PASSWORD, "", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(set_cookie_value(&headers, crate::auth::SESSION_COOKIE).is_none());
    // Wrong password: 401, no session.
    let (status, headers) = login(&app, "alice", "wrong password!", "", true).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(set_cookie_value(&headers, crate::auth::SESSION_COOKIE).is_none());
    // Right password: a session cookie, HttpOnly and SameSite, and a redirect to `next`.
    let (status, headers) = login(&app, "alice", PASSWORD, "", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/w/acme");
    let set = set_cookie_value(&headers, crate::auth::SESSION_COOKIE).unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = cookie_pair(&set);
    let with_cookie = |method: Method, uri: &str, csrf: Option<&str>, body: Option<Value>| {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", &cookie);
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        }
    };
    let (status, _, page) = send_raw(&app, with_cookie(Method::GET, "/w/acme", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap().to_owned();
    assert!(page.contains("Brand") && page.contains("CEO"));
    let csrf = page
        .split("data-csrf=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // Cookie-authenticated JSON mutation: CSRF header required.
    let check = "/api/v1/workspaces/acme/query/check";
    let (status, _, body) = send_raw(
        &app,
        with_cookie(Method::POST, check, None, Some(json!({"query": "a"}))),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("CSRF"));
    let (status, _, body) = send_raw(
        &app,
        with_cookie(
            Method::POST,
            check,
            Some("wrong"),
            Some(json!({"query": "a"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = send_raw(
        &app,
        with_cookie(
            Method::POST,
            check,
            Some(&csrf),
            Some(json!({"query": "a AND (b"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ok"], false);
    assert!(body["error"]["position"].is_number());
    // A form post without its CSRF field changes nothing.
    let form = |csrf: &str| {
        Request::post("/w/acme/watches/brand")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "_csrf={csrf}&name=Hacked&query=x&languages="
            )))
            .unwrap()
    };
    let (status, _, _) = send_raw(&app, form("")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = get(&app, "/api/v1/workspaces/acme/watches").await;
    assert_eq!(body["items"][0]["name"], "Brand");
    let (status, _, page) = send_raw(&app, form(&csrf)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (_, body) = get(&app, "/api/v1/workspaces/acme/watches").await;
    assert_eq!(body["items"][0]["name"], "Hacked");
    // The session expires: the API says so, the pages send to the login page.
    clock.advance_millis(13 * 3_600_000);
    let (status, _, body) =
        send_raw(&app, with_cookie(Method::GET, "/api/v1/me", None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    let (status, headers, _) =
        send_raw(&app, with_cookie(Method::GET, "/w/acme", None, None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("/login?next=/w/acme") && location.ends_with("expired=1"),
        "{location}"
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let (app, _store, _dir, _clock) = seeded_app_with_clock().await;
    let (_, headers) = login(&app, "rick", PASSWORD, "", true).await;
    let cookie = cookie_pair(&set_cookie_value(&headers, crate::auth::SESSION_COOKIE).unwrap());
    let me = || {
        Request::get("/api/v1/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = send_raw(&app, me()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, page) = send_raw(
        &app,
        Request::get("/settings")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let csrf = page
        .as_str()
        .unwrap()
        .split("data-csrf=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(body["login"], "rick");
    let logout = Request::post("/logout")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={csrf}")))
        .unwrap();
    let (status, headers, _) = send_raw(&app, logout).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        set_cookie_value(&headers, crate::auth::SESSION_COOKIE)
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(send_raw(&app, me()).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_logins_are_throttled() {
    let (app, _store, _dir, clock) = seeded_app_with_clock().await;
    for _ in 0..5 {
        assert_eq!(
            login(&app, "mona", "bad password!!", "", true).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused during the window.
    assert_eq!(
        login(&app, "mona", PASSWORD, "", true).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    clock.advance_millis(16 * 60_000);
    assert_eq!(
        login(&app, "mona", PASSWORD, "", true).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn one_address_trying_many_logins_is_throttled_too() {
    let (app, _store, _dir, clock) = seeded_app_with_clock().await;
    let attacker = Some("198.51.100.7:40000");
    let host = "127.0.0.1:8080";
    // 20 failures spread over 20 logins (one each: no login reaches its own limit).
    for i in 0..20 {
        let (status, _, _) = login_with(
            &app,
            &format!("nobody{i}"),
            "bad password!!",
            "",
            true,
            host,
            attacker,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The address is now refused, even for a real account with its right password...
    let (status, _, _) = login_with(&app, "alice", PASSWORD, "", true, host, attacker, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ...while alice signs in from her own address, and a spoofed X-Forwarded-For from a
    // direct client changes nothing.
    let (status, _, _) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        host,
        Some("203.0.113.5:5000"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        host,
        attacker,
        Some("203.0.113.5"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Behind the local reverse proxy, the forwarded address is the one counted.
    let via_proxy = Some("127.0.0.1:5555");
    let (status, _, _) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        host,
        via_proxy,
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        host,
        via_proxy,
        Some("203.0.113.77"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The window ends.
    clock.advance_millis(16 * 60_000);
    let (status, _, _) = login_with(&app, "alice", PASSWORD, "", true, host, attacker, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn cookies_are_secure_off_loopback_and_the_login_page_says_why() {
    let (app, _store, _dir, _clock) = seeded_app_with_clock().await;
    // Plain HTTP to a public name: the cookie is Secure (the browser will drop it) and the
    // page explains what to do.
    let (status, headers, page) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        "vigie.example.org",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = set_cookie_value(&headers, crate::auth::SESSION_COOKIE).unwrap();
    assert!(set.contains("; Secure"), "{set}");
    assert!(page.contains("id=\"login-insecure\""), "{page}");
    // Loopback: no warning, no Secure flag.
    let (_, headers, page) = login_with(
        &app,
        "alice",
        PASSWORD,
        "",
        true,
        "localhost:8080",
        None,
        None,
    )
    .await;
    assert!(!page.contains("login-insecure"));
    let set = set_cookie_value(&headers, crate::auth::SESSION_COOKIE).unwrap();
    assert!(!set.contains("Secure"), "{set}");
}

#[tokio::test]
async fn totp_is_required_once_enabled() {
    let (app, store, _dir, clock) = seeded_app_with_clock().await;
    let secret = crate::auth::totp::base32_encode(b"0123456789abcdefghij");
    let vera = store
        .accounts()
        .user_by_login("vera")
        .await
        .unwrap()
        .unwrap();
    store
        .accounts()
        .set_totp_secret(vera.id, Some(&secret))
        .await
        .unwrap();
    assert_eq!(
        login(&app, "vera", PASSWORD, "", true).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "vera", PASSWORD, "000000", true).await.0,
        StatusCode::UNAUTHORIZED
    );
    let code = format!(
        "{:06}",
        crate::auth::totp::totp(
            b"0123456789abcdefghij",
            vigie_model::Clock::now(clock.as_ref())
        )
    );
    assert_eq!(
        login(&app, "vera", PASSWORD, &code, true).await.0,
        StatusCode::SEE_OTHER
    );
    // The same code a second time (seen over a shoulder, replayed): refused, even within
    // its 90 s of validity; the next step's code works.
    assert_eq!(
        login(&app, "vera", PASSWORD, &code, true).await.0,
        StatusCode::UNAUTHORIZED
    );
    clock.advance_millis(30_000);
    let next = format!(
        "{:06}",
        crate::auth::totp::totp(
            b"0123456789abcdefghij",
            vigie_model::Clock::now(clock.as_ref())
        )
    );
    assert_eq!(
        login(&app, "vera", PASSWORD, &next, true).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn pages_render_for_members() {
    let (app, _store, _dir) = seeded_app().await;
    let page = |uri: &str| {
        let app = app.clone();
        let uri = uri.to_owned();
        async move {
            let req = Request::get(&uri)
                .header("authorization", format!("Bearer {}", token_of("alice")))
                .body(Body::empty())
                .unwrap();
            let (status, headers, body) = send_raw(&app, req).await;
            (
                status,
                headers,
                body.as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let (status, headers, html) = page("/w/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    for fragment in [
        "Brand",
        "Alert",
        "12 mentions in 30 min",
        "dashboard-data",
        "uPlot",
    ] {
        assert!(html.contains(fragment), "dashboard lacks {fragment}");
    }
    let (_, _, html) = page("/w/acme/mentions?sentiment=negative").await;
    assert!(html.contains("text of m1") && !html.contains("text of m2"));
    assert!(html.contains("Why this sentiment"));
    let (_, _, html) = page("/w/acme/mentions?q=%22text+of+m3%22").await;
    assert!(
        html.contains("text of m3") && !html.contains("text of m1"),
        "{html}"
    );
    let (_, _, html) = page("/w/acme/mentions?q=a+AND+(b").await;
    assert!(html.contains("Error"), "query errors are shown");
    let (status, _, html) = page("/w/acme/watches/brand").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-query-check"));
    let (_, _, html) = page("/w/acme/settings").await;
    assert!(html.contains("alice") && html.contains("admin"));
    let (_, _, html) = page("/settings").await;
    assert!(html.contains("otpauth://totp/Vigie:alice"));
    // Vera (viewer) cannot open the editor.
    let req = Request::get("/w/acme/watches/brand")
        .header("authorization", format!("Bearer {}", token_of("vera")))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_raw(&app, req).await.0, StatusCode::FORBIDDEN);
    // French, per user.
    let (app_fr, store, _dir2) = seeded_app().await;
    let alice = store
        .accounts()
        .user_by_login("alice")
        .await
        .unwrap()
        .unwrap();
    store
        .accounts()
        .set_preferences(alice.id, "fr", "Europe/Paris")
        .await
        .unwrap();
    let req = Request::get("/w/acme")
        .header("authorization", format!("Bearer {}", token_of("alice")))
        .body(Body::empty())
        .unwrap();
    let (_, _, html) = send_raw(&app_fr, req).await;
    let html = html.as_str().unwrap();
    assert!(html.contains("lang=\"fr\"") && html.contains("Tableau") || html.contains("Veilles"));
    assert!(html.contains("data-tz=\"Europe/Paris\""));
    // Without a session, pages send to the login page.
    let (status, headers, _) = send_raw(
        &app,
        Request::get("/w/acme/mentions")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?next=/w/acme/mentions");
}

#[tokio::test]
async fn assets_are_embedded() {
    let (app, _store, _dir) = seeded_app().await;
    for (path, mime) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/vendor/uPlot.iife.min.js", "text/javascript"),
    ] {
        let (status, headers, _) =
            send_raw(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let ct = headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(
            ct.starts_with(mime) || ct.starts_with("application/javascript"),
            "{path}: {ct}"
        );
    }
    let (status, _, _) = send_raw(
        &app,
        Request::get("/assets/nope.js").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboard_data_and_live_feed() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, body) = get(&app, "/api/v1/workspaces/acme/dashboard?hours=24").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let volume: u64 = body["volume"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(volume, 5);
    let negative: u64 = body["negative"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(negative, 3);
    assert_eq!(body["level_changes"][0]["to"], 2);
    assert_eq!(body["share_of_voice"][0]["watch"], "brand");
    assert_eq!(body["share_of_voice"][0]["count"], 4);
    assert_eq!(body["top_terms"][0]["key"], "text");
    assert_eq!(body["total_mentions"], 5);
    let (status, body) = get(&app, "/api/v1/workspaces/acme/dashboard?hours=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The live feed sends a first event at once.
    let req = Request::get("/api/v1/workspaces/acme/live")
        .header("authorization", format!("Bearer {}", token_of("ada")))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body().into_data_stream();
    let first = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        futures_util::StreamExt::next(&mut body),
    )
    .await
    .unwrap()
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&first);
    assert!(
        text.contains("event: update") && text.contains("\"total_mentions\":5"),
        "{text}"
    );
}

#[tokio::test]
async fn query_preview_shows_matches() {
    let (app, _store, _dir) = seeded_app().await;
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/api/v1/workspaces/acme/query/preview",
            &token_of("ada"),
            json!({"query": "m2 OR m4"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scanned"], 5);
    assert_eq!(body["matched"], 2);
    assert_eq!(body["items"][0]["text"], "text of m4");
}
