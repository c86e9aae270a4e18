//! With no DATABASE_URL: use the local server (creating the database), or start a private
//! cluster from the installed server binaries, or explain what to install.

use std::time::Duration;

use crate::common::{self, banca_command, ServerProcess};

#[tokio::test]
async fn serve_without_database_url_creates_the_database_and_gets_ready() {
    let name = format!("banca_local_{}", uuid::Uuid::new_v4().simple());
    let work = tempfile::tempdir().unwrap();
    let admin = url::Url::parse(&common::admin_url()).unwrap();
    let mut cmd = banca_command();
    cmd.current_dir(work.path())
        .env("PGHOST", admin.host_str().unwrap())
        .env("PGPORT", admin.port().unwrap_or(5432).to_string())
        .env("PGUSER", admin.username())
        .env("PGPASSWORD", admin.password().unwrap_or(""))
        .env("PGDATABASE", &name);
    let mut server = ServerProcess::spawn(cmd);
    let ready = server.wait_ready(Duration::from_secs(60)).await;
    server.sigterm();
    let code = server.wait_exit(Duration::from_secs(30));
    let out = server.output();
    common::drop_database(&name);
    assert!(ready, "readyz never answered 200:\n{out}");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("created the database"), "{out}");
    assert!(out.contains("using the local PostgreSQL server"), "{out}");
}

#[tokio::test]
async fn serve_without_any_server_starts_a_private_cluster() {
    let work = tempfile::tempdir().unwrap();
    // The cluster may run as the `postgres` account: it must be able to reach the folder.
    std::process::Command::new("chmod")
        .arg("755")
        .arg(work.path())
        .status()
        .unwrap();
    let data = work.path().join("pg");
    let mut cmd = banca_command();
    cmd.current_dir(work.path())
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", common::closed_port().to_string())
        .env("PGUSER", "postgres")
        .env("LOCAL_PG_DIR", &data);
    let installed = banca::db::bootstrap::find_pg_bin_dir().is_some();
    let mut server = ServerProcess::spawn(cmd);
    if !installed {
        // Without server binaries the command explains what to install and stops.
        let code = server.wait_exit(Duration::from_secs(30));
        let out = server.output();
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("install PostgreSQL"), "{out}");
        return;
    }
    let ready = server.wait_ready(Duration::from_secs(120)).await;
    assert!(ready, "private cluster never got ready");
    assert!(data.join("postmaster.pid").exists(), "cluster is running");
    server.sigterm();
    let code = server.wait_exit(Duration::from_secs(60));
    let out = server.output();
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("started a private PostgreSQL cluster"),
        "{out}"
    );
    assert!(
        out.contains("stopped the private PostgreSQL cluster"),
        "{out}"
    );
    assert!(
        !data.join("postmaster.pid").exists(),
        "cluster stopped at shutdown"
    );
}

#[tokio::test]
async fn production_never_uses_a_local_default() {
    let out = banca_command()
        .arg("serve")
        .env("NODE_ENV", "production")
        .env("JWT_ACCESS_SECRET", "a".repeat(40))
        .env("JWT_REFRESH_SECRET", "b".repeat(40))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DATABASE_URL: is required in production"),
        "{err}"
    );
}
