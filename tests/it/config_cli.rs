//! `check-config` and `--help` of the real binary.

use crate::common::banca_command;

#[test]
fn invalid_configuration_stops_with_one_line_per_problem() {
    let out = banca_command()
        .arg("check-config")
        .env("PORT", "http")
        .env("BUSINESS_TIMEZONE", "Costa Rica")
        .env("CORS_ORIGIN", "*")
        .env("REDIS_URL", "https://upstash.example")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid configuration (3 problem(s))"),
        "{err}"
    );
    assert!(
        err.contains("  - PORT: must be a number, got \"http\""),
        "{err}"
    );
    assert!(
        err.contains("  - BUSINESS_TIMEZONE: is not an IANA time zone"),
        "{err}"
    );
    assert!(
        err.contains("  - REDIS_URL: an https:// (REST) URL"),
        "{err}"
    );
}

#[test]
fn check_config_prints_the_effective_configuration_redacted() {
    let out = banca_command()
        .arg("check-config")
        .env("NODE_ENV", "production")
        .env(
            "DATABASE_URL",
            "postgresql://banca:s3cr3t-pw@db:6543/banca?pgbouncer=true",
        )
        .env("DIRECT_URL", "postgresql://banca:s3cr3t-pw@db:5432/banca")
        .env("JWT_ACCESS_SECRET", "x".repeat(40))
        .env("JWT_REFRESH_SECRET", "y".repeat(40))
        .env("CORS_ORIGIN", "https://app.banca.cr")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DATABASE_URL=postgresql://banca:[redacted]@db:6543/banca?pgbouncer=true"),
        "{text}"
    );
    assert!(text.contains("JWT_ACCESS_SECRET=[redacted]"), "{text}");
    assert!(
        text.contains("BUSINESS_TIMEZONE=America/Costa_Rica"),
        "{text}"
    );
    assert!(text.contains("PORT=3000"), "{text}");
    assert!(
        text.trim_end().ends_with("configuration OK (production)"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t-pw"));
    assert!(!text.contains(&"x".repeat(40)));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let out = banca_command().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "serve",
        "migrate",
        "create-admin",
        "seed-demo",
        "check-config",
    ] {
        assert!(text.contains(sub), "{sub} missing from --help");
        let out = banca_command().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example"),
            "{sub} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("banca {sub}")) || help.contains("banca "),
            "{help}"
        );
    }
}
