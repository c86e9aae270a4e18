//! `create-admin` and `seed-demo` against a real database.

use crate::common::{banca_command, TestDb};

#[tokio::test]
async fn create_admin_stores_an_argon2id_hash_and_refuses_duplicates() {
    let db = TestDb::migrated().await;
    let run = |username: &str, password: Option<&str>| {
        let mut c = banca_command();
        c.args(["create-admin", "--username", username, "--name", "Dueña"])
            .envs(db.app_env());
        if let Some(p) = password {
            c.env("BANCA_ADMIN_PASSWORD", p);
        }
        c.output().unwrap()
    };

    let out = run("Admin.Root", Some("clave-segura-1"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created ADMIN Admin.Root"));

    let mut conn = db.connect().await;
    let (role, hash, name): (String, String, String) = sqlx::query_as(
        "SELECT role::text, password_hash, name FROM users WHERE username = 'admin.root'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(role, "ADMIN");
    assert_eq!(name, "Dueña");
    assert!(hash.starts_with("$argon2id$"));
    assert_eq!(
        banca::domain::password::verify("clave-segura-1", &hash),
        banca::domain::password::Verified::Yes
    );

    // Usernames are case-insensitive.
    let out = run("ADMIN.ROOT", Some("otra-clave-2"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));

    let out = run("second", Some("short"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("al menos 8"));

    let out = run("third", None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BANCA_ADMIN_PASSWORD"));

    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1, "failed attempts wrote nothing");
}

#[tokio::test]
async fn seed_demo_is_repeatable_and_refused_in_production() {
    let db = TestDb::migrated().await;
    for _ in 0..2 {
        let out = banca_command()
            .arg("seed-demo")
            .envs(db.app_env())
            .env("DEMO_PASSWORD", "demo-pass-123")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("demo banca ready"), "{stdout}");
        assert!(stdout.contains("demo.vendedor"), "{stdout}");
        assert!(
            !stdout.contains("demo-pass-123"),
            "a chosen password is not echoed"
        );
    }
    let mut conn = db.connect().await;
    let counts: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bancas), (SELECT count(*) FROM ventanas),
                (SELECT count(*) FROM users), (SELECT count(*) FROM user_bancas)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(counts, (1, 1, 4, 1));
    let vendedor: (Option<uuid::Uuid>, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT ventana_id, banca_id FROM users WHERE username = 'demo.vendedor'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(vendedor.0.is_some() && vendedor.1.is_some());

    let out = banca_command()
        .arg("seed-demo")
        .env("NODE_ENV", "production")
        .envs(db.app_env())
        .env("CORS_ORIGIN", "https://app.banca.cr")
        .env("JWT_ACCESS_SECRET", "a".repeat(40))
        .env("JWT_REFRESH_SECRET", "b".repeat(40))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused in production"));
}
