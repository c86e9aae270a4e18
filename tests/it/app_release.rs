//! `GET /api/v1/app/version` and `GET /api/v1/app/download`: real files in a temporary
//! `APP_RELEASE_DIR`, served through the real router and middleware stack.

use std::path::Path;

use reqwest::header;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{self, assert_error, TestApp, TestDb};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic, incompressible-looking bytes (so a compressed answer would differ in size).
fn apk_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Publishes `bytes` as the APK of `abi`, atomically (write then rename), as a release script
/// would.
fn publish_apk(dir: &Path, abi: &str, bytes: &[u8]) {
    let apk_dir = dir.join("apk");
    std::fs::create_dir_all(&apk_dir).unwrap();
    let tmp = apk_dir.join(format!(".app-{abi}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, apk_dir.join(format!("app-{abi}-release.apk"))).unwrap();
}

fn write_latest(dir: &Path, v: &Value) {
    std::fs::write(
        dir.join("latest.json"),
        serde_json::to_vec_pretty(v).unwrap(),
    )
    .unwrap();
}

/// A client that neither asks for nor decodes compression, to see the bytes on the wire.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

async fn spawn(dir: &Path) -> (TestDb, TestApp) {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(&db, &[("APP_RELEASE_DIR", dir.to_str().unwrap())]).await;
    (db, app)
}

#[tokio::test]
async fn version_describes_the_published_apk_of_each_abi() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, app) = spawn(dir.path()).await;
    let client = raw_client();
    let version = |q: &str| {
        let url = app.url(&format!("/api/v1/app/version{q}"));
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    };

    // Nothing published: 404 with a code, not a 500.
    assert_error(version("").await, 404, "APP_RELEASE_NOT_FOUND").await;

    // An unreadable latest.json is the operator's problem: 503, cause only in the log.
    std::fs::write(dir.path().join("latest.json"), b"{ not json").unwrap();
    let body = assert_error(version("").await, 503, "APP_RELEASE_UNAVAILABLE").await;
    assert!(!body.to_string().contains("not json"), "{body}");

    let v7 = apk_bytes(300_000, 7);
    publish_apk(dir.path(), "armeabi-v7a", &v7);
    let declared_arm64 = "ab".repeat(32);
    write_latest(
        dir.path(),
        &json!({
            "versionName": "1.0.14",
            "versionCode": 20,
            "changelog": ["Arreglos de impresión", "Reportes más rápidos"],
            "releasedAt": "2026-11-20T10:00:00-06:00",
            "minSupportedVersion": "1.0.0",
            "forceUpdate": false,
            "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
            "downloads": { "arm64-v8a": { "sha256": declared_arm64 } },
            "someFutureField": true
        }),
    );

    let res = version("").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let host = app.addr.to_string();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["success"], true);
    let d = &v["data"];
    assert_eq!(d["version"], "1.0.14");
    assert_eq!(d["versionCode"], 20);
    assert_eq!(d["buildNumber"], 20, "no buildNumber: versionCode");
    assert_eq!(d["abi"], "armeabi-v7a");
    assert_eq!(
        d["downloadUrl"],
        format!("http://{host}/api/v1/app/download?abi=armeabi-v7a")
    );
    assert_eq!(d["fileSize"], 300_000);
    assert_eq!(
        d["sha256"],
        sha256_hex(&v7),
        "the served file's hash, not the stale one latest.json declares"
    );
    assert_eq!(
        d["changelog"],
        json!(["Arreglos de impresión", "Reportes más rápidos"])
    );
    assert_eq!(d["releasedAt"], "2026-11-20T10:00:00-06:00");
    assert_eq!(d["minSupportedVersion"], "1.0.0");
    assert_eq!(d["forceUpdate"], false);

    // Unknown ABIs mean the default; arm64 has no APK yet: its declared hash, no size.
    let v: Value = version("?abi=x86_64").await.json().await.unwrap();
    assert_eq!(v["data"]["abi"], "armeabi-v7a");
    let v: Value = version("?abi=arm64-v8a").await.json().await.unwrap();
    assert_eq!(v["data"]["abi"], "arm64-v8a");
    assert_eq!(v["data"]["fileSize"], Value::Null);
    assert_eq!(v["data"]["sha256"], declared_arm64);
    assert!(v["data"]["downloadUrl"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/app/download?abi=arm64-v8a"));

    // Behind a trusted proxy the URL keeps the client's scheme.
    let v: Value = client
        .get(app.url("/api/v1/app/version?abi=arm64-v8a"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["data"]["downloadUrl"],
        format!("https://{host}/api/v1/app/download?abi=arm64-v8a")
    );

    // buildNumber wins over versionCode when present; a new release is seen at once.
    write_latest(
        dir.path(),
        &json!({"versionName": "1.0.15", "versionCode": 21, "buildNumber": 2105, "forceUpdate": true}),
    );
    let v: Value = version("").await.json().await.unwrap();
    assert_eq!(
        (
            &v["data"]["version"],
            &v["data"]["buildNumber"],
            &v["data"]["forceUpdate"]
        ),
        (&json!("1.0.15"), &json!(2105), &json!(true))
    );
    assert_eq!(v["data"]["changelog"], Value::Null);

    // versionCode is required: the file is invalid without it.
    write_latest(dir.path(), &json!({"versionName": "1.0.16"}));
    assert_error(version("").await, 503, "APP_RELEASE_UNAVAILABLE").await;
}

#[tokio::test]
async fn download_streams_the_file_with_ranges_etags_and_no_compression() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, app) = spawn(dir.path()).await;
    let client = raw_client();
    let url = app.url("/api/v1/app/download?abi=arm64-v8a");

    // Not published yet.
    let res = client.get(&url).send().await.unwrap();
    let body = assert_error(res, 404, "APK_NOT_FOUND").await;
    assert!(body["message"].as_str().unwrap().contains("arm64-v8a"));

    let size = 1_500_000usize;
    let apk = apk_bytes(size, 64);
    publish_apk(dir.path(), "arm64-v8a", &apk);
    let etag = format!("\"{}-arm64-v8a\"", sha256_hex(&apk));

    // The whole file, byte for byte, uncompressed although the client accepts gzip.
    let res = client
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(
        h[header::CONTENT_TYPE],
        "application/vnd.android.package-archive"
    );
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"app-arm64-v8a-release.apk\"; filename*=UTF-8''app-arm64-v8a-release.apk"
    );
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    assert_eq!(h["x-no-compression"], "1");
    assert_eq!(
        h[header::CACHE_CONTROL],
        "public, max-age=86400, must-revalidate"
    );
    assert_eq!(h[header::ETAG], etag.as_str());
    assert_eq!(h[header::CONTENT_LENGTH], size.to_string().as_str());
    assert!(h.get(header::CONTENT_ENCODING).is_none(), "{h:?}");
    let got = res.bytes().await.unwrap();
    assert_eq!(got.len(), size);
    assert!(got[..] == apk[..], "downloaded bytes equal the file");

    // Ranges: explicit, open-ended, suffix, and an end past the file (clamped).
    for (range, start, end) in [
        ("bytes=0-99", 0usize, 99usize),
        ("bytes=1000000-", 1_000_000, size - 1),
        ("bytes=-4096", size - 4096, size - 1),
        ("bytes=1499990-9999999", 1_499_990, size - 1),
    ] {
        let res = client
            .get(&url)
            .header(header::RANGE, range)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(
            res.headers()[header::CONTENT_RANGE],
            format!("bytes {start}-{end}/{size}").as_str(),
            "{range}"
        );
        assert_eq!(
            res.headers()[header::CONTENT_LENGTH],
            (end - start + 1).to_string().as_str()
        );
        let part = res.bytes().await.unwrap();
        assert!(part[..] == apk[start..=end], "{range}: bytes match");
    }

    // Unsatisfiable: 416 with the size, in the error shape.
    let res = client
        .get(&url)
        .header(header::RANGE, format!("bytes={size}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[header::CONTENT_RANGE],
        format!("bytes */{size}").as_str()
    );
    assert_error(res, 416, "RANGE_NOT_SATISFIABLE").await;

    // A malformed or multi-range header is ignored: the whole file.
    for range in ["bytes=5-1", "bytes=0-1,10-20", "lines=1-2"] {
        let res = client
            .get(&url)
            .header(header::RANGE, range)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.bytes().await.unwrap().len(), size, "{range}");
    }

    // Revalidation: the same file is 304 without a body.
    let res = client
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()[header::ETAG], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());

    // A new release: new ETag, the old one no longer matches, a resumed download of the old
    // file (If-Range) gets the whole new file instead of a spliced one.
    let apk2 = apk_bytes(size + 10, 65);
    publish_apk(dir.path(), "arm64-v8a", &apk2);
    let etag2 = format!("\"{}-arm64-v8a\"", sha256_hex(&apk2));
    let res = client
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::ETAG], etag2.as_str());
    assert!(res.bytes().await.unwrap()[..] == apk2[..]);
    let res = client
        .get(&url)
        .header(header::RANGE, "bytes=100-")
        .header(header::IF_RANGE, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "stale If-Range: whole file");
    assert_eq!(res.bytes().await.unwrap().len(), size + 10);
    let res = client
        .get(&url)
        .header(header::RANGE, "bytes=100-")
        .header(header::IF_RANGE, &etag2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206, "current If-Range: the range");
    assert!(res.bytes().await.unwrap()[..] == apk2[100..]);

    // /version reports the file the download serves.
    write_latest(
        dir.path(),
        &json!({"versionName": "1.0.15", "versionCode": 21}),
    );
    let v: Value = client
        .get(app.url("/api/v1/app/version?abi=arm64-v8a"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        format!("\"{}-arm64-v8a\"", v["data"]["sha256"].as_str().unwrap()),
        etag2
    );
    assert_eq!(v["data"]["fileSize"], size + 10);

    // A path in the ABI names no other file.
    let res = client
        .get(app.url("/api/v1/app/download?abi=../../latest.json"))
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "APK_NOT_FOUND").await;
}
