//! The isolation matrix: every person of banca A tries every route against every object of
//! banca B. Each attempt must be refused (403 or 404), and nothing in the database may change;
//! lists must not show B's objects. Later issues add their routes to `targeted_cases` and
//! `list_cases`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{self, call, Login, Tenant, World};

/// One request aimed at an object of the victim tenant.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn case(method: Method, path: String, body: Option<Value>) -> Case {
    Case { method, path, body }
}

/// Every route of the identity issue that names one of `v`'s objects, with a valid body.
fn targeted_cases(v: &Tenant, v_session: &Login) -> Vec<Case> {
    use Method as M;
    let b = v.banca_id;
    let mut cases = vec![
        case(M::GET, format!("/api/v1/bancas/{b}"), None),
        case(
            M::PUT,
            format!("/api/v1/bancas/{b}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/bancas/{b}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(M::DELETE, format!("/api/v1/bancas/{b}"), None),
        case(M::PATCH, format!("/api/v1/bancas/{b}/restore"), None),
        case(
            M::GET,
            format!("/api/v1/bancas/{b}/commission-policy"),
            None,
        ),
        case(
            M::PUT,
            format!("/api/v1/bancas/{b}/commission-policy"),
            Some(json!({ "commissionPolicyJson": null })),
        ),
        case(
            M::POST,
            "/api/v1/auth/set-active-banca".into(),
            Some(json!({ "bancaId": b })),
        ),
        case(
            M::POST,
            "/api/v1/ventanas".into(),
            Some(
                json!({ "bancaId": b, "name": "Intrusa", "code": "INTR", "username": "intrusa", "password": "clave-intrusa-1" }),
            ),
        ),
        case(
            M::DELETE,
            format!("/api/v1/auth/sessions/{}", v_session.session_id),
            None,
        ),
        // ADMIN-only global settings: every attacker (no ADMIN among them) gets 403.
        case(M::GET, "/api/v1/sorteos/auto-config".into(), None),
        case(
            M::PATCH,
            "/api/v1/sorteos/auto-config".into(),
            Some(json!({ "autoOpenEnabled": true, "openCronSchedule": "0 8 * * *" })),
        ),
    ];
    // Jobs (ADMIN only): the settlement configuration and the auto-date job's health and run.
    cases.extend([
        case(
            M::GET,
            "/api/v1/account-statements/auto-config".into(),
            None,
        ),
        case(
            M::PATCH,
            "/api/v1/account-statements/auto-config".into(),
            Some(json!({ "enabled": true, "cronSchedule": "0 4 * * *" })),
        ),
        case(M::GET, "/api/v1/restrictions/cron-health".into(), None),
        case(
            M::POST,
            "/api/v1/restrictions/cron-health/execute".into(),
            None,
        ),
        case(M::POST, "/api/v1/account-statements/execute".into(), None),
    ]);
    for ventana in v.ventanas {
        cases.extend([
            case(M::GET, format!("/api/v1/ventanas/{ventana}"), None),
            case(M::PUT, format!("/api/v1/ventanas/{ventana}"), Some(json!({ "name": "Tomada" }))),
            case(M::PATCH, format!("/api/v1/ventanas/{ventana}"), Some(json!({ "name": "Tomada" }))),
            case(M::DELETE, format!("/api/v1/ventanas/{ventana}"), None),
            case(M::PATCH, format!("/api/v1/ventanas/{ventana}/restore"), None),
            case(M::GET, format!("/api/v1/ventanas/{ventana}/commission-policy"), None),
            case(M::PUT, format!("/api/v1/ventanas/{ventana}/commission-policy"), Some(json!({ "commissionPolicyJson": null }))),
            case(
                M::POST,
                "/api/v1/users".into(),
                Some(json!({ "name": "Intruso", "username": "intruso.x", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": ventana })),
            ),
            case(
                M::POST,
                "/api/v1/vendedores".into(),
                Some(json!({ "ventanaId": ventana, "code": "INT1", "name": "Intruso", "username": "intruso.y", "password": "clave-intrusa-1" })),
            ),
            case(
                M::POST,
                "/api/v1/auth/register".into(),
                Some(json!({ "name": "Intruso", "username": "intruso.z", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": ventana })),
            ),
        ]);
    }
    for u in v.logins() {
        let id = u.user_id;
        cases.extend([
            case(M::GET, format!("/api/v1/users/{id}"), None),
            case(
                M::PATCH,
                format!("/api/v1/users/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(M::DELETE, format!("/api/v1/users/{id}"), None),
            case(M::PATCH, format!("/api/v1/users/{id}/restore"), None),
            case(M::GET, format!("/api/v1/users/{id}/bancas"), None),
            case(
                M::POST,
                format!("/api/v1/users/{id}/bancas"),
                Some(json!({ "bancaId": b })),
            ),
            case(
                M::PATCH,
                format!("/api/v1/users/{id}/bancas/{b}/default"),
                None,
            ),
            case(M::DELETE, format!("/api/v1/users/{id}/bancas/{b}"), None),
            case(
                M::GET,
                format!("/api/v1/users/{id}/commission-policy"),
                None,
            ),
            case(
                M::PUT,
                format!("/api/v1/users/{id}/commission-policy"),
                Some(json!({ "commissionPolicyJson": null })),
            ),
            case(M::GET, format!("/api/v1/auth/sessions/user/{id}"), None),
        ]);
    }
    for s in &v.vendedores {
        let id = s.user_id;
        cases.extend([
            case(M::GET, format!("/api/v1/vendedores/{id}"), None),
            case(
                M::PUT,
                format!("/api/v1/vendedores/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(
                M::PATCH,
                format!("/api/v1/vendedores/{id}"),
                Some(json!({ "name": "Tomado" })),
            ),
            case(M::DELETE, format!("/api/v1/vendedores/{id}"), None),
            case(M::PATCH, format!("/api/v1/vendedores/{id}/restore"), None),
        ]);
    }
    // Account statement reads and export naming the victim's banca, ventanas or vendedores.
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
    cases.extend([
        case(
            M::GET,
            format!("/api/v1/accounts/statement?scope=all&dimension=banca&bancaId={b}"),
            None,
        ),
        case(
            M::GET,
            format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=banca&bancaId={b}"),
            None,
        ),
        case(
            M::GET,
            format!("/api/v1/accounts/export?format=csv&scope=all&dimension=banca&bancaId={b}"),
            None,
        ),
    ]);
    for ventana in v.ventanas {
        cases.extend([
            case(M::GET, format!("/api/v1/accounts/statement?scope=all&dimension=ventana&ventanaId={ventana}"), None),
            case(M::GET, format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=ventana&ventanaId={ventana}"), None),
            case(M::GET, format!("/api/v1/accounts/export?format=xlsx&scope=all&dimension=ventana&ventanaId={ventana}"), None),
        ]);
    }
    for s in &v.vendedores {
        let id = s.user_id;
        cases.extend([
            case(M::GET, format!("/api/v1/accounts/statement?scope=mine&dimension=vendedor&vendedorId={id}"), None),
            case(M::GET, format!("/api/v1/accounts/statement?scope=all&dimension=vendedor&vendedorId={id}&date=range&fromDate={day}&toDate={day}"), None),
            case(M::GET, format!("/api/v1/accounts/statement/{day}/bySorteo?dimension=vendedor&vendedorId={id}"), None),
            case(M::GET, format!("/api/v1/accounts/export?format=csv&scope=all&dimension=vendedor&vendedorId={id}&date={day}"), None),
        ]);
    }
    cases
}

/// The victim's catalog objects, made by an ADMIN through the API.
struct Catalog {
    loteria: uuid::Uuid,
    sorteo: uuid::Uuid,
    multiplier: uuid::Uuid,
    override_id: String,
    rule_id: String,
    /// A ticket sold by the victim's first vendedor, and a cancelled one.
    ticket: String,
    ticket_number: String,
    cancelled: String,
}

async fn catalog_of(w: &World, v: &Tenant) -> Catalog {
    let loteria =
        fixtures::loteria(&w.app, Some(v.banca_id), "TICA B", json!({ "digits": 2 })).await;
    let at = chrono::Utc::now() + chrono::Duration::days(2);
    let sorteo = fixtures::sorteo(&w.app, loteria, at, "OPEN").await;
    let multiplier = fixtures::multiplier(&w.app, loteria, "Base", 90, "NUMERO").await;
    let admin = Some(w.admin.token.as_str());
    let (s, o) = call(
        &w.app,
        Method::POST,
        "/api/v1/multiplier-overrides",
        admin,
        Some(&json!({ "scope": "VENTANA", "scopeId": v.ventanas[0], "loteriaId": loteria, "multiplierType": "NUMERO", "baseMultiplierX": 85 })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, r) = call(
        &w.app,
        Method::POST,
        "/api/v1/restrictions",
        admin,
        Some(&json!({ "ventanaId": v.ventanas[0], "number": "05", "maxAmount": 100, "loteriaId": loteria })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, e) = call(
        &w.app,
        Method::POST,
        &format!("/api/v1/sorteos/{sorteo}/listas/exclude"),
        admin,
        Some(&json!({ "ventanaId": v.ventanas[1], "reason": "prueba" })),
    )
    .await;
    assert_eq!(s.as_u16() / 100, 2, "{e}");
    let seller = &v.vendedores[0];
    let sell = |n: &str| json!({ "loteriaId": loteria, "sorteoId": sorteo, "jugadas": [{ "type": "NUMERO", "number": n, "amount": 100 }] });
    let (s, t) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&sell("11")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (s, c) = call(
        &w.app,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&sell("12")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let cancelled = c["data"]["id"].as_str().unwrap().to_string();
    let (s, c) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/tickets/{cancelled}/cancel"),
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    Catalog {
        ticket: t["data"]["id"].as_str().unwrap().to_string(),
        ticket_number: t["data"]["ticketNumber"].as_str().unwrap().to_string(),
        cancelled,
        loteria,
        sorteo,
        multiplier,
        override_id: o["data"]["id"].as_str().unwrap().to_string(),
        rule_id: r["data"][0]["id"].as_str().unwrap().to_string(),
    }
}

/// Every catalog route naming one of the victim's catalog objects.
fn catalog_cases(v: &Tenant, c: &Catalog) -> Vec<Case> {
    use Method as M;
    let (l, so, m, o, r) = (
        c.loteria,
        c.sorteo,
        c.multiplier,
        &c.override_id,
        &c.rule_id,
    );
    let mut cases = vec![
        case(M::GET, format!("/api/v1/loterias/{l}"), None),
        case(
            M::PUT,
            format!("/api/v1/loterias/{l}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/loterias/{l}"),
            Some(json!({ "name": "Tomada" })),
        ),
        case(M::DELETE, format!("/api/v1/loterias/{l}"), None),
        case(M::PATCH, format!("/api/v1/loterias/{l}/restore"), None),
        case(
            M::GET,
            format!("/api/v1/loterias/{l}/preview_schedule"),
            None,
        ),
        case(M::POST, format!("/api/v1/loterias/{l}/seed_sorteos"), None),
        case(M::GET, format!("/api/v1/sorteos/{so}"), None),
        case(
            M::PUT,
            format!("/api/v1/sorteos/{so}"),
            Some(json!({ "name": "Tomado" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/sorteos/{so}"),
            Some(json!({ "name": "Tomado" })),
        ),
        case(M::DELETE, format!("/api/v1/sorteos/{so}"), None),
        case(M::GET, format!("/api/v1/sorteos/{so}/listas"), None),
        case(
            M::POST,
            format!("/api/v1/sorteos/{so}/listas/exclude"),
            Some(json!({ "ventanaId": v.ventanas[0] })),
        ),
        case(
            M::POST,
            format!("/api/v1/sorteos/{so}/listas/include"),
            Some(json!({ "ventanaId": v.ventanas[1] })),
        ),
        case(M::GET, format!("/api/v1/multipliers/{m}"), None),
        case(
            M::PUT,
            format!("/api/v1/multipliers/{m}"),
            Some(json!({ "name": "Tomado" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/multipliers/{m}"),
            Some(json!({ "name": "Tomado" })),
        ),
        case(M::DELETE, format!("/api/v1/multipliers/{m}"), None),
        case(M::PATCH, format!("/api/v1/multipliers/{m}/restore"), None),
        case(M::GET, format!("/api/v1/multiplier-overrides/{o}"), None),
        case(
            M::PUT,
            format!("/api/v1/multiplier-overrides/{o}"),
            Some(json!({ "baseMultiplierX": 99 })),
        ),
        case(M::DELETE, format!("/api/v1/multiplier-overrides/{o}"), None),
        case(
            M::PATCH,
            format!("/api/v1/multiplier-overrides/{o}/restore"),
            None,
        ),
        case(M::GET, format!("/api/v1/restrictions/{r}"), None),
        case(
            M::PATCH,
            format!("/api/v1/restrictions/{r}"),
            Some(json!({ "maxAmount": 1 })),
        ),
        case(M::DELETE, format!("/api/v1/restrictions/{r}"), None),
        case(M::PATCH, format!("/api/v1/restrictions/{r}/restore"), None),
        case(
            M::PUT,
            "/api/v1/restrictions/bulk".into(),
            Some(json!({ "ids": [r], "data": { "maxAmount": 1 } })),
        ),
        case(
            M::DELETE,
            "/api/v1/restrictions/bulk".into(),
            Some(json!({ "ids": [r] })),
        ),
        case(
            M::GET,
            format!(
                "/api/v1/diagnostics/cutoff?userId={}&ventanaId={}&sorteoId={so}",
                v.vendedores[0].user_id, v.ventanas[0]
            ),
            None,
        ),
        case(
            M::GET,
            format!(
                "/api/v1/users/{}/allowed-multipliers?loteriaId={l}",
                v.vendedores[0].user_id
            ),
            None,
        ),
        case(
            M::GET,
            format!(
                "/api/v1/users/{}/allowed-multipliers-batch",
                v.vendedores[0].user_id
            ),
            None,
        ),
    ];
    let (t, tn, tc) = (&c.ticket, &c.ticket_number, &c.cancelled);
    let seller = v.vendedores[0].user_id;
    cases.extend([
        case(M::GET, format!("/api/v1/tickets/{t}"), None),
        case(M::GET, format!("/api/v1/tickets/{t}/image"), None),
        case(M::GET, format!("/api/v1/tickets/by-number/{tn}"), None),
        case(M::PATCH, format!("/api/v1/tickets/{t}/cancel"), None),
        case(M::PATCH, format!("/api/v1/tickets/{tc}/restore"), None),
        case(M::POST, format!("/api/v1/tickets/{t}/print"), None),
        case(
            M::POST,
            format!("/api/v1/tickets/{t}/pay"),
            Some(json!({ "amountPaid": 10 })),
        ),
        case(
            M::POST,
            format!("/api/v1/tickets/{t}/reverse-payment"),
            Some(json!({ "reason": "prueba de aislamiento" })),
        ),
        case(
            M::POST,
            format!("/api/v1/tickets/{t}/finalize-payment"),
            Some(json!({})),
        ),
        case(
            M::GET,
            format!("/api/v1/ticket-payments/tickets/{t}/payment-history"),
            None,
        ),
        case(
            M::PATCH,
            format!("/api/v1/sorteos/{so}/evaluate"),
            Some(json!({ "winningNumber": "11" })),
        ),
        case(
            M::PATCH,
            format!("/api/v1/sorteos/{so}/revert-evaluation"),
            Some(json!({})),
        ),
        case(
            M::GET,
            format!("/api/v1/tickets/validation/balances?sorteoId={so}&vendedorId={seller}"),
            None,
        ),
        case(
            M::GET,
            format!("/api/v1/tickets/numbers-summary?sorteoId={so}&vendedorId={seller}"),
            None,
        ),
        case(
            M::GET,
            format!(
                "/api/v1/tickets/numbers-summary?sorteoId={so}&ventanaId={}",
                v.ventanas[0]
            ),
            None,
        ),
    ]);
    for action in [
        "open",
        "close",
        "force-open",
        "activate-and-open",
        "set-active",
        "reset-to-scheduled",
        "restore",
    ] {
        cases.push(case(
            M::PATCH,
            format!("/api/v1/sorteos/{so}/{action}"),
            None,
        ));
    }
    cases
}

/// Creations on the attacker's side that name the victim's catalog objects.
fn catalog_body_cases(v: &Tenant, c: &Catalog) -> Vec<Case> {
    use Method as M;
    let l = c.loteria;
    let at = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    vec![
        case(
            M::POST,
            "/api/v1/loterias".into(),
            Some(json!({ "name": "Intrusa", "bancaId": v.banca_id, "rulesJson": {} })),
        ),
        case(
            M::POST,
            "/api/v1/sorteos".into(),
            Some(json!({ "loteriaId": l, "scheduledAt": at, "name": "Intruso" })),
        ),
        case(
            M::POST,
            "/api/v1/multipliers".into(),
            Some(json!({ "loteriaId": l, "name": "Intruso", "valueX": 80, "kind": "NUMERO" })),
        ),
        case(
            M::POST,
            "/api/v1/multiplier-overrides".into(),
            Some(
                json!({ "scope": "VENTANA", "scopeId": v.ventanas[1], "loteriaId": l, "multiplierType": "NUMERO", "baseMultiplierX": 80 }),
            ),
        ),
        case(
            M::POST,
            "/api/v1/restrictions".into(),
            Some(json!({ "ventanaId": v.ventanas[1], "number": "07", "maxAmount": 5 })),
        ),
        case(
            M::POST,
            "/api/v1/restrictions".into(),
            Some(json!({ "bancaId": v.banca_id, "maxAmount": 5 })),
        ),
        // Selling into the victim's sorteo, or as the victim's vendedor.
        case(
            M::POST,
            "/api/v1/tickets".into(),
            Some(
                json!({ "loteriaId": l, "sorteoId": c.sorteo, "vendedorId": v.vendedores[0].user_id, "jugadas": [{ "type": "NUMERO", "number": "20", "amount": 100 }] }),
            ),
        ),
        case(
            M::POST,
            "/api/v1/tickets".into(),
            Some(
                json!({ "loteriaId": l, "sorteoId": c.sorteo, "jugadas": [{ "type": "NUMERO", "number": "20", "amount": 100 }] }),
            ),
        ),
        case(
            M::POST,
            "/api/v1/ticket-payments".into(),
            Some(json!({ "ticketId": c.ticket, "amountPaid": 10 })),
        ),
        case(
            M::POST,
            "/api/v1/tickets/numbers-summary/pdf".into(),
            Some(json!({ "sorteoId": c.sorteo, "vendedorId": v.vendedores[0].user_id })),
        ),
    ]
}

/// The day of the victim's account movement: two days back, never in the business future.
fn movement_day() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() - chrono::Duration::days(2)
}

/// A movement of the victim's first vendedor, posted by the ADMIN; returns the movement's and
/// its statement's ids.
async fn account_movement_of(w: &World, v: &Tenant) -> (String, String) {
    let (s, m) = call(
        &w.app,
        Method::POST,
        "/api/v1/accounts/payment",
        Some(&w.admin.token),
        Some(&json!({ "date": movement_day().to_string(), "vendedorId": v.vendedores[0].user_id, "amount": 25, "type": "payment", "method": "cash" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    (
        m["data"]["payment"]["id"].as_str().unwrap().to_string(),
        m["data"]["statement"]["id"].as_str().unwrap().to_string(),
    )
}

/// Account routes naming the victim's movement, statement or vendedor (403 or 404).
fn account_cases(v: &Tenant, payment: &str, statement: &str) -> Vec<Case> {
    use Method as M;
    vec![
        case(
            M::POST,
            "/api/v1/accounts/reverse-payment".into(),
            Some(json!({ "paymentId": payment, "reason": "prueba de aislamiento" })),
        ),
        case(
            M::DELETE,
            format!("/api/v1/accounts/statement/{statement}"),
            None,
        ),
        case(
            M::POST,
            "/api/v1/accounts/reset-balance".into(),
            Some(json!({ "vendedorId": v.vendedores[0].user_id })),
        ),
        case(
            M::POST,
            "/api/v1/accounts/reset-balance".into(),
            Some(json!({ "vendedorId": v.vendedores[1].user_id, "revert": true })),
        ),
    ]
}

/// Movements posted on the victim's banca, ventanas or vendedores (400, 403 or 404).
fn account_body_cases(v: &Tenant) -> Vec<Case> {
    use Method as M;
    let day = movement_day().to_string();
    let mov = |target: Value| {
        let mut b = json!({ "date": day, "amount": 5, "type": "collection", "method": "cash" });
        for (k, x) in target.as_object().unwrap() {
            b[k] = x.clone();
        }
        case(M::POST, "/api/v1/accounts/payment".into(), Some(b))
    };
    vec![
        mov(json!({ "vendedorId": v.vendedores[0].user_id })),
        mov(json!({ "ventanaId": v.ventanas[1] })),
        mov(json!({ "bancaId": v.banca_id })),
        mov(json!({ "ventanaId": v.ventanas[0], "bancaId": v.banca_id })),
    ]
}

/// The commission reports of the victim's day, naming its ventana, vendedor, lotería and
/// multiplier: they answer (200) without the victim's objects.
fn commission_cases(v: &Tenant, c: &Catalog) -> Vec<String> {
    let ventana = v.ventanas[0];
    let seller = v.vendedores[0].user_id;
    let day = chrono::Utc::now().date_naive();
    let mut out = Vec::new();
    for d in [day, day + chrono::Duration::days(2)] {
        out.extend([
            format!("/api/v1/commissions/{d}/breakdown?scope=all&dimension=ventana&ventanaId={ventana}"),
            format!("/api/v1/commissions/{d}/breakdown?scope=all&dimension=vendedor&vendedorId={seller}"),
            format!("/api/v1/commissions/detail?date={d}&scope=all&dimension=ventana&ventanaId={ventana}"),
            format!("/api/v1/commissions/detail?date={d}&scope=all&dimension=vendedor&vendedorId={seller}"),
            format!(
                "/api/v1/commissions/tickets?date={d}&loteriaId={}&multiplierId={}&scope=all&dimension=ventana",
                c.loteria, c.multiplier
            ),
            format!(
                "/api/v1/commissions/tickets?date={d}&loteriaId={}&multiplierId=unknown&scope=all&dimension=vendedor&vendedorId={seller}",
                c.loteria
            ),
            format!(
                "/api/v1/commissions?scope=all&dimension=ventana&loteriaId={}&date=range&fromDate={d}&toDate={d}",
                c.loteria
            ),
        ]);
    }
    out
}

fn list_cases(v: &Tenant) -> Vec<String> {
    let b = v.banca_id;
    let ventana = v.ventanas[0];
    vec![
        "/api/v1/bancas?pageSize=100".into(),
        "/api/v1/ventanas?pageSize=100".into(),
        format!("/api/v1/users?pageSize=1000&bancaId={b}"),
        format!("/api/v1/users?pageSize=1000&ventanaId={ventana}"),
        format!("/api/v1/vendedores?pageSize=100&ventanaId={ventana}"),
        "/api/v1/activity-logs?pageSize=100".into(),
        format!("/api/v1/activity-logs/user/{}", v.vendedores[0].user_id),
        format!("/api/v1/activity-logs/target/BANCA/{b}"),
        "/api/v1/activity-logs/action/BANCA_UPDATE".into(),
        format!("/api/v1/ventanas?pageSize=100&bancaId={b}"),
        "/api/v1/users?pageSize=1000".into(),
        "/api/v1/users?pageSize=1000&role=BANCA".into(),
        "/api/v1/vendedores?pageSize=100".into(),
        "/api/v1/auth/me".into(),
        "/api/v1/loterias?pageSize=100".into(),
        "/api/v1/sorteos?pageSize=100".into(),
        "/api/v1/multipliers?pageSize=100".into(),
        "/api/v1/multiplier-overrides?pageSize=100".into(),
        "/api/v1/restrictions?pageSize=100".into(),
        "/api/v1/restrictions/grouped".into(),
        "/api/v1/restrictions/me".into(),
        "/api/v1/account-statements/auto-status".into(),
        "/api/v1/listas-excluidas".into(),
        "/api/v1/tickets?pageSize=100&date=week".into(),
        format!(
            "/api/v1/tickets?vendedorId={}&date=week",
            v.vendedores[0].user_id
        ),
        format!("/api/v1/tickets?ventanaId={ventana}&date=week"),
        "/api/v1/tickets?pageSize=100&scope=all".into(),
        "/api/v1/tickets/filter-options?date=week".into(),
        "/api/v1/tickets/numbers-summary?scope=all".into(),
        "/api/v1/tickets/numbers-summary/filter-options".into(),
        "/api/v1/sorteos/evaluated-summary?date=week".into(),
        "/api/v1/sorteos/auto-status".into(),
        // Account statement reads: the attacker's own scope only.
        {
            let d = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
            format!("/api/v1/accounts/statement?scope=all&dimension=vendedor&date=range&fromDate={d}&toDate={d}")
        },
        "/api/v1/accounts/statement?scope=mine&dimension=vendedor".into(),
        "/api/v1/accounts/statement?scope=all&dimension=banca".into(),
        "/api/v1/accounts/statement?scope=mine&dimension=ventana".into(),
        {
            let d = chrono::Utc::now().date_naive() - chrono::Duration::days(2);
            format!("/api/v1/accounts/statement/{d}/bySorteo?dimension=vendedor")
        },
        "/api/v1/accounts/historical-entities".into(),
        "/api/v1/accounts/balance/current?scope=mine&dimension=ventana".into(),
        "/api/v1/commissions?scope=all&dimension=ventana&date=week".into(),
        format!("/api/v1/commissions?scope=all&dimension=ventana&ventanaId={ventana}&date=week"),
        format!(
            "/api/v1/commissions?scope=all&dimension=vendedor&vendedorId={}&date=week",
            v.vendedores[0].user_id
        ),
        format!("/api/v1/commissions?scope=mine&dimension=vendedor&date=week&ventanaId={ventana}"),
        format!(
            "/api/v1/commissions/export?format=csv&scope=all&dimension=ventana&ventanaId={ventana}&date=week"
        ),
        format!("/api/v1/accounts/payment-history?date={}", movement_day()),
        format!(
            "/api/v1/accounts/payment-history?date={}&ventanaId={ventana}",
            movement_day()
        ),
        format!(
            "/api/v1/accounts/payment-history?date={}&vendedorId={}",
            movement_day(),
            v.vendedores[0].user_id
        ),
        {
            let today = chrono::Utc::now().date_naive();
            let from = today - chrono::Duration::days(2);
            let to = today + chrono::Duration::days(3);
            format!(
                "/api/v1/sorteos/evaluated-summary?date=range&fromDate={from}&toDate={to}\
                 &ignoreReset=true"
            )
        },
    ]
}

/// Requests on the attacker's own objects that name the victim's objects in the body: they
/// must be refused (400, 403 or 404) and change nothing.
fn body_cases(own: &Tenant, v: &Tenant) -> Vec<Case> {
    use Method as M;
    let b = v.banca_id;
    let vb = v.ventanas[0];
    let mut cases = Vec::new();
    for u in own.logins() {
        cases.push(case(
            M::PATCH,
            format!("/api/v1/users/{}", u.user_id),
            Some(json!({ "ventanaId": vb })),
        ));
        cases.push(case(
            M::PATCH,
            format!("/api/v1/users/{}", u.user_id),
            Some(json!({ "bancaId": b })),
        ));
    }
    for s in &own.vendedores {
        cases.push(case(
            M::PATCH,
            format!("/api/v1/vendedores/{}", s.user_id),
            Some(json!({ "ventanaId": vb })),
        ));
    }
    cases.extend([
        case(M::POST, format!("/api/v1/users/{}/bancas", own.banca_user.user_id), Some(json!({ "bancaId": b }))),
        case(
            M::POST,
            "/api/v1/users".into(),
            Some(json!({ "name": "Intruso", "username": "intruso.w", "password": "clave-intrusa-1", "role": "BANCA", "bancaIds": [b] })),
        ),
        case(
            M::POST,
            "/api/v1/users".into(),
            Some(json!({ "name": "Intruso", "username": "intruso.v", "password": "clave-intrusa-1", "role": "VENDEDOR", "ventanaId": vb, "bancaId": b })),
        ),
    ]);
    cases
}

/// A digest of every row the identity routes can change.
async fn snapshot(w: &World) -> String {
    let mut conn = w.db.connect().await;
    let mut out = String::new();
    for table in [
        "bancas",
        "ventanas",
        "users",
        "user_bancas",
        "auth_sessions",
        "refresh_tokens",
        "activity_logs",
        "loterias",
        "sorteos",
        "loteria_multipliers",
        "multiplier_overrides",
        "restriction_rules",
        "sorteo_lista_exclusions",
        "tickets",
        "jugadas",
        "sale_counters",
        "idempotency_keys",
        "ticket_payments",
        "sorteos_auto_config",
        "account_statement_settlement_config",
        "job_runs",
        "account_payments",
        "account_statements",
        "monthly_closing_balances",
    ] {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.push_str(&format!("{table}:{}\n", digest.unwrap_or_default()));
    }
    out
}

fn ids_of(t: &Tenant) -> Vec<String> {
    let mut ids = vec![t.banca_id.to_string()];
    ids.extend(t.ventanas.iter().map(|v| v.to_string()));
    ids.extend(t.logins().iter().map(|l| l.user_id.to_string()));
    ids
}

#[tokio::test]
async fn no_one_in_banca_a_reaches_banca_b() {
    let w = fixtures::world().await;
    // Give B some activity to look at.
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        &format!("/api/v1/bancas/{}", w.b.banca_id),
        Some(&w.admin.token),
        Some(&json!({ "address": "San José" })),
    )
    .await;
    assert_eq!(s, 200);
    let victim_session = w.b.vendedores[0].clone();
    let cat = catalog_of(&w, &w.b).await;
    let (b_payment, b_statement) = account_movement_of(&w, &w.b).await;
    let b_entry: uuid::Uuid = {
        let mut conn = w.db.connect().await;
        sqlx::query_scalar("SELECT id FROM activity_logs WHERE banca_id = $1 LIMIT 1")
            .bind(w.b.banca_id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    let before = snapshot(&w).await;
    let mut b_ids = ids_of(&w.b);
    b_ids.extend([
        cat.loteria.to_string(),
        cat.sorteo.to_string(),
        cat.multiplier.to_string(),
    ]);
    b_ids.extend([cat.override_id.clone(), cat.rule_id.clone()]);
    b_ids.extend([
        cat.ticket.clone(),
        cat.ticket_number.clone(),
        cat.cancelled.clone(),
    ]);
    b_ids.extend([b_payment.clone(), b_statement.clone()]);
    let mut failures = Vec::new();
    let mut attempts = 0usize;

    for attacker in w.a.logins() {
        let mut targeted = targeted_cases(&w.b, &victim_session);
        targeted.push(case(
            Method::GET,
            format!("/api/v1/activity-logs/{b_entry}"),
            None,
        ));
        targeted.extend(catalog_cases(&w.b, &cat));
        targeted.extend(account_cases(&w.b, &b_payment, &b_statement));
        for c in targeted {
            attempts += 1;
            let (status, body) = call(
                &w.app,
                c.method.clone(),
                &c.path,
                Some(&attacker.token),
                c.body.as_ref(),
            )
            .await;
            if !matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                failures.push(format!(
                    "{:?} {} {} as {} → {status}: {body}",
                    attacker.role, c.method, c.path, attacker.username
                ));
            } else if body["code"].as_str().is_none() {
                failures.push(format!(
                    "{} {} as {}: refusal without a code: {body}",
                    c.method, c.path, attacker.username
                ));
            }
        }
        let mut creations = body_cases(&w.a, &w.b);
        creations.extend(catalog_body_cases(&w.b, &cat));
        creations.extend(account_body_cases(&w.b));
        for c in creations {
            attempts += 1;
            let (status, body) = call(
                &w.app,
                c.method.clone(),
                &c.path,
                Some(&attacker.token),
                c.body.as_ref(),
            )
            .await;
            if !matches!(
                status,
                StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            ) {
                failures.push(format!(
                    "{:?} {} {} {:?} as {} → {status}: {body}",
                    attacker.role, c.method, c.path, c.body, attacker.username
                ));
            }
        }
        let lists = list_cases(&w.b)
            .into_iter()
            .chain(commission_cases(&w.b, &cat))
            .flat_map(|p| [(p.clone(), false), (p, true)]);
        for (path, foreign_header) in lists {
            attempts += 1;
            // Plain, and with the victim's banca named as the active banca.
            let mut req = w
                .app
                .client
                .get(w.app.url(&path))
                .bearer_auth(&attacker.token);
            if foreign_header {
                req = req.header("x-active-banca-id", w.b.banca_id.to_string());
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            match status {
                StatusCode::OK => {
                    let text = body["data"].to_string();
                    for id in &b_ids {
                        if text.contains(id.as_str()) {
                            failures.push(format!(
                                "GET {path} as {} shows B's {id}",
                                attacker.username
                            ));
                        }
                    }
                }
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {}
                other => failures.push(format!(
                    "GET {path} as {} → {other}: {body}",
                    attacker.username
                )),
            }
        }
    }
    // Reports (cierres, dashboard, ventas, /reports) naming B's ventanas, vendedores and
    // sorteos: refused with a code, or answered with none of B's objects.
    let report_paths: Vec<String> = crate::cierres::isolation_paths(&w.b)
        .into_iter()
        .chain(crate::dashboard::isolation_paths(&w.b))
        .chain(crate::ventas::isolation_paths(&w.b))
        .chain(crate::reports::isolation_paths(&w.b))
        .collect();
    assert!(
        report_paths.len() > 30,
        "{} report paths",
        report_paths.len()
    );
    for attacker in w.a.logins() {
        for path in &report_paths {
            attempts += 1;
            let res = w
                .app
                .client
                .get(w.app.url(path))
                .bearer_auth(&attacker.token)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            match status {
                StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if body["code"].as_str().is_none() {
                        failures.push(format!("GET {path}: refusal without a code: {text}"));
                    }
                }
                // An answer of the caller's own scope (an entity id or `bancaId` outside
                // it simply matches nothing).
                StatusCode::OK => {
                    for id in &b_ids {
                        if text.contains(id.as_str()) {
                            failures.push(format!(
                                "GET {path} as {} shows B's {id}",
                                attacker.username
                            ));
                        }
                    }
                }
                other => failures.push(format!(
                    "GET {path} as {} → {other}: {text}",
                    attacker.username
                )),
            }
        }
    }
    // 5 attackers × (≈110 targeted + ≈25 creations + 30 list reads + report reads).
    assert!(attempts > 700, "the matrix ran only {attempts} requests");
    assert!(
        failures.is_empty(),
        "{} isolation failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot(&w).await,
        before,
        "a refused request changed the database"
    );
    // B's people still work.
    for l in w.b.logins() {
        assert_eq!(
            call(&w.app, Method::GET, "/api/v1/auth/me", Some(&l.token), None)
                .await
                .0,
            200
        );
    }
}
