//! Migrations: a fresh database migrates, a second run is a no-op, concurrent runs both succeed.

use crate::common::{banca_command, TestDb};

async fn tables(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn fresh_database_migrates_and_second_run_is_a_no_op() {
    let db = TestDb::empty().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let first = banca::db::migrate::run(&pool).await.unwrap();
    assert_eq!(first.applied_now, first.total);
    assert!(first.total >= 1);
    let names = tables(&db).await;
    for t in [
        "bancas",
        "ventanas",
        "users",
        "user_bancas",
        "_sqlx_migrations",
    ] {
        assert!(names.contains(&t.to_string()), "{t} missing from {names:?}");
    }
    let second = banca::db::migrate::run(&pool).await.unwrap();
    assert_eq!(second.applied_now, 0);
    assert_eq!(tables(&db).await, names);

    // Money columns are exact and times carry a zone.
    let types: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_name = 'bancas' AND column_name IN ('default_min_bet', 'global_max_per_number', 'created_at')
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        types,
        vec![
            ("created_at".into(), "timestamp with time zone".into()),
            ("default_min_bet".into(), "numeric".into()),
            ("global_max_per_number".into(), "numeric".into()),
        ]
    );
    pool.close().await;
}

#[tokio::test]
async fn concurrent_migrate_runs_both_succeed() {
    let db = TestDb::empty().await;
    let a = sqlx::PgPool::connect(&db.url).await.unwrap();
    let b = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (ra, rb) = tokio::join!(banca::db::migrate::run(&a), banca::db::migrate::run(&b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        ra.applied_now + rb.applied_now,
        ra.total,
        "each migration applied exactly once"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&a)
        .await
        .unwrap();
    assert_eq!(n as usize, ra.total);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn the_migrate_command_runs_twice_and_concurrently() {
    let db = TestDb::empty().await;
    let run = |url: String| {
        std::thread::spawn(move || {
            banca_command()
                .arg("migrate")
                .env("DATABASE_URL", &url)
                .output()
                .unwrap()
        })
    };
    let (x, y) = (run(db.url.clone()), run(db.url.clone()));
    for out in [x.join().unwrap(), y.join().unwrap()] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("up to date"), "{stdout}");
    }
    let again = run(db.url.clone()).join().unwrap();
    assert!(again.status.success());
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.starts_with("migrations: 0 applied now"), "{stdout}");
}
