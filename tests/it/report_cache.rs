//! The report cache against real PostgreSQL and Redis: generations move with every write that
//! changes report money (not with sales), per banca; two instances sharing Redis share answers,
//! and a payment on one instance is seen at once by a report read on the other.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{self, TestApp};
use crate::evaluation::{evaluate, numero, sell};
use crate::fixtures::{self, call, scalar, shop, Login, Shop};

async fn generation(s: &Shop, banca: Uuid) -> i64 {
    scalar(
        &s.w,
        &format!(
            "SELECT COALESCE((SELECT generation FROM report_generations
                              WHERE banca_id = '{banca}'), 0)"
        ),
    )
    .await
}

/// The business day of the shop's sorteo.
async fn sorteo_day(s: &Shop) -> String {
    scalar(
        &s.w,
        &format!(
            "SELECT to_char(scheduled_at AT TIME ZONE 'America/Costa_Rica', 'YYYY-MM-DD')
             FROM sorteos WHERE id = '{}'",
            s.sorteo
        ),
    )
    .await
}

#[tokio::test]
async fn generations_move_with_money_writes_of_their_banca_and_not_with_sales() {
    let s = shop().await;
    let (a, b) = (s.w.a.banca_id, s.w.b.banca_id);
    let (a0, b0) = (generation(&s, a).await, generation(&s, b).await);

    let t = sell(&s, &s.w.a.vendedores[0], json!([numero("07", 100.0)])).await;
    sell(&s, &s.w.a.vendedores[1], json!([numero("08", 10.0)])).await;
    assert_eq!(
        generation(&s, a).await,
        a0,
        "a sale changes no report money"
    );

    let (st, v) = evaluate(&s, &s.w.admin, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let a1 = generation(&s, a).await;
    assert!(a1 > a0, "an evaluation bumps its banca's generation");

    let (st, v) = call(
        &s.w.app,
        Method::POST,
        &format!("/api/v1/tickets/{t}/pay"),
        Some(&s.w.a.vendedores[0].token),
        Some(&json!({"amountPaid": 100, "method": "cash"})),
    )
    .await;
    assert!(st.is_success(), "{v}");
    let a2 = generation(&s, a).await;
    assert!(a2 > a1, "a prize payment bumps it");
    assert_eq!(generation(&s, b).await, b0, "banca B's answers stay cached");
}

/// Waits until the statement rebuilds the evaluation queued are done (they bump the
/// generation too, which would make the next read a miss).
async fn settled_queue(s: &Shop) {
    for _ in 0..100 {
        banca::services::statements::drain(s.w.app.state.pools.primary())
            .await
            .expect("drain");
        let n: i64 = scalar(&s.w, "SELECT count(*) FROM statement_refreshes").await;
        if n == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("statement rebuilds did not finish");
}

/// A second and third instance of the app on the world's database, sharing one Redis.
async fn instance(s: &Shop, prefix: &str) -> TestApp {
    let mut vars: Vec<(&str, &str)> = fixtures::SHOP_SECRETS.to_vec();
    vars.push(("REDIS_URL", "redis://127.0.0.1:6379"));
    vars.push(("REDIS_PREFIX", prefix));
    common::spawn_app(&s.w.db, &vars).await
}

async fn summary(app: &TestApp, who: &Login, day: &str) -> Value {
    let (st, v) = call(
        app,
        Method::GET,
        &format!("/api/v1/ventas/summary?date=range&fromDate={day}&toDate={day}"),
        Some(&who.token),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn instances_sharing_redis_share_answers_and_see_a_payment_at_once() {
    let s = shop().await;
    let w = &s.w;
    let t = sell(&s, &w.a.vendedores[0], json!([numero("07", 100.0)])).await;
    let (st, v) = evaluate(&s, &w.admin, json!({"winningNumber": "07"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let day = sorteo_day(&s).await;
    settled_queue(&s).await;
    let prefix = format!("test-{}:", Uuid::new_v4().simple());
    let one = instance(&s, &prefix).await;
    let two = instance(&s, &prefix).await;
    let who = &w.a.banca_user;

    let first = summary(&one, who, &day).await;
    assert_eq!(first["meta"]["cache"], "miss", "{}", first["meta"]);
    // The other instance has nothing in its own memory: its hit comes from Redis.
    let shared = summary(&two, who, &day).await;
    assert_eq!(shared["meta"]["cache"], "hit", "{}", shared["meta"]);
    assert_eq!(shared["data"], first["data"]);

    // A payment through instance two; instance one answers the new figure at once.
    let (st, v) = call(
        &two,
        Method::POST,
        &format!("/api/v1/tickets/{t}/pay"),
        Some(&w.a.vendedores[0].token),
        Some(&json!({"amountPaid": 40, "method": "cash"})),
    )
    .await;
    assert!(st.is_success(), "{v}");
    let after = summary(&one, who, &day).await;
    assert_eq!(after["meta"]["cache"], "miss", "{}", after["meta"]);
    assert_ne!(after["data"]["totalPaid"], first["data"]["totalPaid"]);
    assert_eq!(after["data"]["totalPaid"].as_f64(), Some(40.0));
}
