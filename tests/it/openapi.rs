//! The OpenAPI document against the code: every route the source registers is documented,
//! every documented operation reaches a handler (not the router's 404/405 fallbacks), and the
//! document holds together (responses everywhere, every `$ref` resolves, unique operation ids,
//! path parameters declared, no schema name shared by two different schemas). Plus the
//! browsable page and its Content-Security-Policy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use crate::common::{self, TestDb};

const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// `(METHOD, path)` of every `.route("…", get(..).post(..)…)` under `src/`, chains spanning
/// several lines included.
fn code_routes() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    collect_rs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        routes.extend(routes_in(&text));
    }
    routes
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The routes registered in one source text.
fn routes_in(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let args = rest.trim_start();
        let Some(literal) = args.strip_prefix('"') else {
            continue;
        };
        let Some(end) = literal.find('"') else {
            continue;
        };
        let path = &literal[..end];
        // The method router: identifiers called at depth 0 are the methods
        // (`get(list).post(create)`, `axum::routing::get(h)`); the call closes `.route(`.
        let mut depth = 0usize;
        let mut ident = String::new();
        for c in literal[end + 1..].chars() {
            match c {
                '(' => {
                    if depth == 0 && METHODS.contains(&ident.as_str()) {
                        found.push((ident.to_uppercase(), path.to_string()));
                    }
                    depth += 1;
                    ident.clear();
                }
                ')' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    ident.clear();
                }
                c if c.is_alphanumeric() || c == '_' => ident.push(c),
                _ => ident.clear(),
            }
        }
    }
    found
}

#[test]
fn the_route_scanner_reads_multi_line_chains() {
    let src = r#"
        Router::new()
            .route("/api/v1/a", post(create).get(list))
            .route(
                "/api/v1/a/{id}",
                get(one).put(update).patch(update).delete(remove),
            )
            .route("/api/v1/b", axum::routing::get(get_thing))
            .route("/api/v1/c/{id}/restore", patch(restore_with(State(x))))
    "#;
    let got: Vec<(String, String)> = routes_in(src);
    let want: Vec<(String, String)> = [
        ("POST", "/api/v1/a"),
        ("GET", "/api/v1/a"),
        ("GET", "/api/v1/a/{id}"),
        ("PUT", "/api/v1/a/{id}"),
        ("PATCH", "/api/v1/a/{id}"),
        ("DELETE", "/api/v1/a/{id}"),
        ("GET", "/api/v1/b"),
        ("PATCH", "/api/v1/c/{id}/restore"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// `(METHOD, path) → operation` of the document.
fn documented(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()), op.clone());
            }
        }
    }
    ops
}

/// Every `$ref` in `v` (with the JSON pointer where it sits).
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.to_string(), r.to_string()));
                    }
                } else {
                    refs(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A value the path parameter `p` of `op` accepts (a UUID unless its schema says otherwise).
fn sample_param(op: &Value, p: &str) -> String {
    let schema = op["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|x| x["name"] == p && x["in"] == "path"))
        .map(|x| x["schema"].clone())
        .unwrap_or(Value::Null);
    match schema["type"].as_str() {
        Some("integer") | Some("number") => "1".into(),
        Some("string") if schema["format"] != "uuid" => schema["enum"]
            .get(0)
            .and_then(Value::as_str)
            .unwrap_or("x")
            .to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

fn placeholders(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

/// The checks of the document's structure; returns the problems found.
fn structural_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")) {
        problems.push(format!("openapi version is {}", doc["openapi"]));
    }
    if doc["info"]["version"] != env!("CARGO_PKG_VERSION") {
        problems.push(format!("info.version is {}", doc["info"]["version"]));
    }
    let mut ids = BTreeMap::<String, String>::new();
    for ((method, path), op) in documented(doc) {
        let name = format!("{method} {path}");
        let responses = op["responses"].as_object();
        if responses.is_none_or(|r| r.is_empty()) {
            problems.push(format!("{name}: no responses"));
        }
        for (status, r) in responses.into_iter().flatten() {
            if r.get("description")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                problems.push(format!("{name}: response {status} has no description"));
            }
        }
        match op["operationId"].as_str() {
            None => problems.push(format!("{name}: no operationId")),
            Some(id) => {
                if let Some(other) = ids.insert(id.to_string(), name.clone()) {
                    problems.push(format!("{name}: operationId {id} also used by {other}"));
                }
            }
        }
        if op["tags"].as_array().is_none_or(|t| t.is_empty()) {
            problems.push(format!("{name}: no tag"));
        }
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        if declared != placeholders(&path) {
            problems.push(format!(
                "{name}: path parameters declared {declared:?}, path has {:?}",
                placeholders(&path)
            ));
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "path" && p["required"] != true {
                problems.push(format!("{name}: path parameter {} not required", p["name"]));
            }
        }
    }
    let mut all = Vec::new();
    refs(doc, "#", &mut all);
    for (at, r) in all {
        let target = r.strip_prefix('#').and_then(|pointer| doc.pointer(pointer));
        if target.is_none() {
            problems.push(format!("{at}: $ref {r} does not resolve"));
        }
    }
    problems
}

#[test]
fn no_schema_name_is_shared_by_two_different_schemas() {
    let conflicts = banca::http::openapi::schema_conflicts();
    assert!(
        conflicts.is_empty(),
        "schema names defined differently by two route modules (use #[schema(as = module::Name)]): {conflicts:#?}"
    );
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(&db, &[]).await;

    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json")));
    let doc: Value = res.json().await.unwrap();

    // (c) The document holds together.
    let problems = structural_problems(&doc);
    assert!(problems.is_empty(), "document problems: {problems:#?}");

    // (a) Every route in the code is in the document.
    let ops = documented(&doc);
    let code = code_routes();
    assert!(
        code.len() > 100,
        "the scanner found only {} routes",
        code.len()
    );
    let missing: Vec<_> = code
        .iter()
        .filter(|r| !ops.contains_key(*r))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes registered in src/ but missing from /api/v1/openapi.json \
         (add #[utoipa::path] and list the handler in the module's ApiDoc): {missing:#?}"
    );

    // (b) Every documented operation reaches a handler: anonymous requests (so nothing is
    // changed) must not end in the router's own 404/405 fallbacks.
    let mut unrouted = Vec::new();
    for ((method, path), op) in &ops {
        let mut url = path.clone();
        for p in placeholders(path) {
            url = url.replace(&format!("{{{p}}}"), &sample_param(op, &p));
        }
        let mut req = app.client.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(&url),
        );
        if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
            req = req.header("content-type", "application/json").body("{}");
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let fallback_404 =
            status == 404 && body["code"] == "NOT_FOUND" && body["message"] == "Ruta no encontrada";
        let fallback_405 = status == 405 && body["code"] == "METHOD_NOT_ALLOWED";
        if fallback_404 || fallback_405 || status >= 500 {
            unrouted.push(format!("{method} {path} → {status} {body}"));
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented operations the router does not serve (or that fail): {unrouted:#?}"
    );
}

#[tokio::test]
async fn the_docs_page_is_served_with_a_policy_that_lets_it_load() {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(&db, &[]).await;
    let res = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'unsafe-eval' https://cdn.jsdelivr.net"),
        "{csp}"
    );
    assert!(!csp.contains("upgrade-insecure-requests"), "{csp}");
    assert_eq!(
        h["x-content-type-options"], "nosniff",
        "house headers still apply"
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"data-url="/api/v1/openapi.json""#),
        "{html}"
    );
    assert!(html.contains("https://cdn.jsdelivr.net/npm/@scalar/api-reference"));

    // The rest of the API keeps the house policy.
    let res = app
        .client
        .get(app.url("/api/v1/healthz"))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
}
