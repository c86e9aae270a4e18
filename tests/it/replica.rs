//! Read replica: unreachable → reads served by the primary, logged once; readyz says so.

use std::io::Write;
use std::sync::{Arc, Mutex};

use banca::db::ReadSource;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::{self, TestDb};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn unreachable_replica_falls_back_to_the_primary_and_logs_once() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = TestDb::migrated().await;
    let replica = format!(
        "postgres://postgres@127.0.0.1:{}/banca",
        common::closed_port()
    );
    let app = common::spawn_app(&db, &[("DATABASE_URL_REPLICA", &replica)]).await;

    for _ in 0..3 {
        let (name, source) = app
            .state
            .pools
            .read(|pool| async move {
                sqlx::query_scalar::<_, String>("SELECT current_database()::text")
                    .fetch_one(&pool)
                    .await
            })
            .await
            .expect("read served");
        assert_eq!(name, db.name);
        assert_eq!(source, ReadSource::Primary);
    }

    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "a missing replica does not make the service unready"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["checks"]["replica"], "fallback");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let count = text.matches("read replica unreachable").count();
    assert_eq!(count, 1, "logged once, not per read:\n{text}");
}

#[tokio::test]
async fn reachable_replica_serves_reads() {
    let db = TestDb::migrated().await;
    // The same server stands in for a replica: what matters is which pool answered.
    let app = common::spawn_app(&db, &[("DATABASE_URL_REPLICA", &db.url)]).await;
    let (_, source) = app
        .state
        .pools
        .read(|pool| async move {
            sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&pool)
                .await
        })
        .await
        .unwrap();
    assert_eq!(source, ReadSource::Replica);
    // A query error (not a connection error) is returned, not retried on the primary.
    let err = app
        .state
        .pools
        .read(|pool| async move {
            sqlx::query_scalar::<_, i32>("SELECT nope")
                .fetch_one(&pool)
                .await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, sqlx::Error::Database(_)));
}
