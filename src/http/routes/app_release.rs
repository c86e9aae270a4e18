//! The Android app's self-update (public): `GET /api/v1/app/version?abi=` answers the latest
//! release's metadata and `GET /api/v1/app/download?abi=` streams its APK, both from the folder
//! `APP_RELEASE_DIR` (default `public`):
//!
//! ```text
//! <APP_RELEASE_DIR>/latest.json
//! <APP_RELEASE_DIR>/apk/app-armeabi-v7a-release.apk
//! <APP_RELEASE_DIR>/apk/app-arm64-v8a-release.apk
//! ```
//!
//! Decisions (the existing system's behaviour in `platform-api.md` §20, except):
//! - a missing `latest.json` is 404 `APP_RELEASE_NOT_FOUND` and an unreadable or invalid one 503
//!   `APP_RELEASE_UNAVAILABLE` (the cause is logged), never a 500;
//! - `sha256` is the SHA-256 of the file actually served, computed once per file version
//!   (device, inode, size, mtime) off the async threads; a different value declared in
//!   `latest.json` is logged as a warning. The declared one is answered only while the APK is
//!   missing. The `ETag` (`"<sha256>-<abi>"`) therefore exists from the first download on,
//!   not only after a `/version` call;
//! - `Range` follows RFC 9110: an end past the file is clamped, `bytes=-N` is the last N bytes,
//!   a malformed or multi-range header is ignored (200 with the whole file), `If-Range` is
//!   honoured; an unsatisfiable range is 416 with `Content-Range: bytes */<size>` and the error
//!   body;
//! - the file is streamed from one open handle (a release swapped mid-download does not mix two
//!   files), and the response carries `X-No-Compression: 1`, which the compression layer honours.
//!
//! The ABI is an enum: unknown values mean `armeabi-v7a`, as in the existing system, so no
//! request can name another file.

use std::io::{Read, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Mutex;
use tokio_util::io::ReaderStream;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::AppState;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{request_host, request_scheme, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};

/// Bytes read from the file per body chunk.
const CHUNK_BYTES: usize = 256 * 1024;

const APK_CONTENT_TYPE: &str = "application/vnd.android.package-archive";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/app/version", get(version))
        .route("/api/v1/app/download", get(download))
        .layer(Extension(Arc::new(ReleaseCache::default())))
}

#[derive(OpenApi)]
#[openapi(paths(version, download), components(schemas(AppVersionDto)))]
pub struct ApiDoc;

/// The APK flavours published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abi {
    ArmeabiV7a,
    Arm64V8a,
}

impl Abi {
    /// `arm64-v8a`, else `armeabi-v7a` (also for absent or unknown values).
    fn parse(raw: Option<&str>) -> Abi {
        match raw.map(str::trim) {
            Some("arm64-v8a") => Abi::Arm64V8a,
            _ => Abi::ArmeabiV7a,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Abi::ArmeabiV7a => "armeabi-v7a",
            Abi::Arm64V8a => "arm64-v8a",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Abi::ArmeabiV7a => "app-armeabi-v7a-release.apk",
            Abi::Arm64V8a => "app-arm64-v8a-release.apk",
        }
    }

    fn index(self) -> usize {
        match self {
            Abi::ArmeabiV7a => 0,
            Abi::Arm64V8a => 1,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AbiQuery {
    /// `armeabi-v7a` (default; also for unknown values) or `arm64-v8a`.
    abi: Option<String>,
}

/// `latest.json` as the release tooling writes it; unknown keys are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LatestJson {
    version_name: String,
    version_code: i64,
    build_number: Option<i64>,
    #[serde(default)]
    changelog: serde_json::Value,
    released_at: Option<String>,
    min_supported_version: Option<String>,
    #[serde(default)]
    force_update: bool,
    sha256: Option<String>,
    #[serde(default)]
    downloads: std::collections::HashMap<String, DownloadEntry>,
}

#[derive(Deserialize)]
struct DownloadEntry {
    sha256: Option<String>,
}

impl LatestJson {
    /// The hash `latest.json` declares for `abi`: its own entry, else the top-level one.
    fn declared_sha256(&self, abi: Abi) -> Option<String> {
        self.downloads
            .get(abi.as_str())
            .and_then(|d| d.sha256.clone())
            .or_else(|| self.sha256.clone())
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    }
}

/// The latest release, for the app's update check.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AppVersionDto {
    /// `versionName` of `latest.json`, e.g. `1.0.14`.
    version: String,
    version_code: i64,
    /// `buildNumber`, else `versionCode`.
    build_number: i64,
    /// Where to download this ABI's APK (`/api/v1/app/download?abi=…` on the host asked).
    download_url: String,
    /// Size of the APK in bytes; `null` when it is not published.
    file_size: Option<u64>,
    /// As written in `latest.json` (text or a list).
    #[schema(value_type = Object)]
    changelog: serde_json::Value,
    released_at: Option<String>,
    min_supported_version: Option<String>,
    force_update: bool,
    /// SHA-256 (hex) of the APK served; `latest.json`'s value while the APK is missing.
    sha256: Option<String>,
    /// The ABI this answer describes.
    abi: &'static str,
}

/// One APK as last hashed: the file's identity and its SHA-256.
#[derive(Clone, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl FileId {
    fn of(m: &std::fs::Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }
}

struct Hashed {
    id: FileId,
    sha256: String,
    /// Whether a mismatch with `latest.json` was already logged for this file.
    mismatch_logged: bool,
}

/// Per-ABI hash of the published APK. The lock of an ABI is held while its hash is computed,
/// so concurrent first requests hash the file once.
#[derive(Default)]
struct ReleaseCache {
    apk: [Mutex<Option<Hashed>>; 2],
}

impl ReleaseCache {
    /// The SHA-256 of the open `file` (whose metadata is `meta`), from the cache when the file
    /// has not changed. Leaves the file's position unspecified.
    async fn sha256(
        &self,
        abi: Abi,
        file: &tokio::fs::File,
        meta: &std::fs::Metadata,
    ) -> std::io::Result<String> {
        let id = FileId::of(meta);
        let mut slot = self.apk[abi.index()].lock().await;
        if let Some(h) = slot.as_ref().filter(|h| h.id == id) {
            return Ok(h.sha256.clone());
        }
        let mut std_file = file.try_clone().await?.into_std().await;
        let sha256 = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use std::io::Seek;
            std_file.seek(SeekFrom::Start(0))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; CHUNK_BYTES];
            loop {
                let n = std_file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Ok(hex(&hasher.finalize()))
        })
        .await
        .map_err(std::io::Error::other)??;
        *slot = Some(Hashed {
            id,
            sha256: sha256.clone(),
            mismatch_logged: false,
        });
        Ok(sha256)
    }

    /// Logs once per file version that `latest.json` declares another hash than the file's.
    async fn check_declared(&self, abi: Abi, declared: Option<&str>) {
        let mut slot = self.apk[abi.index()].lock().await;
        if let (Some(h), Some(declared)) = (slot.as_mut(), declared) {
            if h.sha256 != declared && !h.mismatch_logged {
                h.mismatch_logged = true;
                tracing::warn!(
                    abi = abi.as_str(),
                    apk.sha256 = %h.sha256,
                    declared.sha256 = %declared,
                    "latest.json declares another sha256 than the published APK's; answering the APK's"
                );
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn apk_path(dir: &Path, abi: Abi) -> PathBuf {
    dir.join("apk").join(abi.file_name())
}

fn release_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "APP_RELEASE_NOT_FOUND",
        "No hay una versión de la aplicación publicada",
    )
}

fn apk_not_found(abi: Abi) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "APK_NOT_FOUND",
        format!(
            "APK para {} no encontrada. Por favor contacta al administrador.",
            abi.as_str()
        ),
    )
}

fn release_unavailable() -> ApiError {
    ApiError::service_unavailable(
        "APP_RELEASE_UNAVAILABLE",
        "La información de la versión de la aplicación no está disponible",
    )
}

async fn read_latest(dir: &Path) -> Result<LatestJson, ApiError> {
    let path = dir.join("latest.json");
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), "latest.json not found: no app release published");
            return Err(release_not_found());
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "latest.json cannot be read");
            return Err(release_unavailable());
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        tracing::error!(
            path = %path.display(),
            error = %e,
            "latest.json is invalid (needs versionName and versionCode)"
        );
        release_unavailable()
    })
}

/// The APK of `abi`, opened, with its metadata; `None` when it is not published.
async fn open_apk(
    dir: &Path,
    abi: Abi,
) -> Result<Option<(tokio::fs::File, std::fs::Metadata)>, ApiError> {
    let path = apk_path(dir, abi);
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "APK cannot be opened");
            return Err(release_unavailable());
        }
    };
    let meta = file.metadata().await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "APK cannot be read");
        release_unavailable()
    })?;
    if !meta.is_file() {
        return Ok(None);
    }
    Ok(Some((file, meta)))
}

fn hash_failed(abi: Abi, e: std::io::Error) -> ApiError {
    tracing::error!(abi = abi.as_str(), error = %e, "APK cannot be hashed");
    release_unavailable()
}

/// The latest release for an ABI: version, download URL, size and SHA-256 of the APK.
#[utoipa::path(
    get,
    path = "/api/v1/app/version",
    tag = "app",
    params(AbiQuery),
    responses(
        (status = 200, description = "`data` is an AppVersionDto", body = SuccessEnvelope),
        (status = 404, description = "APP_RELEASE_NOT_FOUND: no latest.json", body = ErrorBody),
        (status = 503, description = "APP_RELEASE_UNAVAILABLE: latest.json unreadable or invalid", body = ErrorBody),
    )
)]
async fn version(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<ReleaseCache>>,
    headers: HeaderMap,
    AppQuery(q): AppQuery<AbiQuery>,
) -> Result<Response, ApiError> {
    let abi = Abi::parse(q.abi.as_deref());
    let dir = &state.config.app_release_dir;
    let latest = read_latest(dir).await?;
    let declared = latest.declared_sha256(abi);
    let (file_size, sha256) = match open_apk(dir, abi).await? {
        Some((file, meta)) => {
            let sha = cache
                .sha256(abi, &file, &meta)
                .await
                .map_err(|e| hash_failed(abi, e))?;
            cache.check_declared(abi, declared.as_deref()).await;
            (Some(meta.len()), Some(sha))
        }
        None => (None, declared),
    };
    let path = format!("/api/v1/app/download?abi={}", abi.as_str());
    let download_url = match request_host(&headers) {
        Some(host) => format!("{}://{host}{path}", request_scheme(&state, &headers)),
        None => path,
    };
    let dto = AppVersionDto {
        build_number: latest.build_number.unwrap_or(latest.version_code),
        version: latest.version_name,
        version_code: latest.version_code,
        download_url,
        file_size,
        changelog: latest.changelog,
        released_at: latest.released_at,
        min_supported_version: latest.min_supported_version,
        force_update: latest.force_update,
        sha256,
        abi: abi.as_str(),
    };
    let mut res = ApiResponse::ok(dto).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    /// No usable range: send the whole file (absent, malformed, other unit, several ranges).
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A valid range that lies outside the file.
    Unsatisfiable,
}

fn parse_range(raw: &str, size: u64) -> RangeAsk {
    let Some((unit, spec)) = raw.trim().split_once('=') else {
        return RangeAsk::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match num(last) {
            None => RangeAsk::Whole,
            Some(0) => RangeAsk::Unsatisfiable,
            Some(_) if size == 0 => RangeAsk::Unsatisfiable,
            Some(n) => RangeAsk::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
        },
        // bytes=A- and bytes=A-B.
        (false, _) => {
            let Some(start) = num(first) else {
                return RangeAsk::Whole;
            };
            let end = if last.is_empty() {
                None
            } else {
                match num(last) {
                    Some(e) if e >= start => Some(e),
                    _ => return RangeAsk::Whole,
                }
            };
            if start >= size {
                return RangeAsk::Unsatisfiable;
            }
            RangeAsk::Part {
                start,
                end: end.map_or(size - 1, |e| e.min(size - 1)),
            }
        }
        (true, true) => RangeAsk::Whole,
    }
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, `*` matches anything).
fn none_match(header_value: &str, etag: &str) -> bool {
    header_value.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag.trim_start_matches("W/")
    })
}

/// Streams this ABI's APK; supports `Range`, `If-Range` and `If-None-Match`.
#[utoipa::path(
    get,
    path = "/api/v1/app/download",
    tag = "app",
    params(
        AbiQuery,
        ("Range" = Option<String>, Header, description = "`bytes=A-B`, `bytes=A-` or `bytes=-N`"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag from a previous download"),
        ("If-Range" = Option<String>, Header, description = "honour Range only if the file still has this ETag"),
    ),
    responses(
        (status = 200, description = "the whole APK", content_type = "application/vnd.android.package-archive", body = [u8],
            headers(
                ("ETag" = String, description = "\"<sha256>-<abi>\""),
                ("Accept-Ranges" = String, description = "bytes"),
                ("Content-Disposition" = String, description = "attachment; filename=\"app-<abi>-release.apk\""),
            )),
        (status = 206, description = "the requested byte range", content_type = "application/vnd.android.package-archive", body = [u8],
            headers(("Content-Range" = String, description = "bytes A-B/size"))),
        (status = 304, description = "If-None-Match matched: the client has this file"),
        (status = 404, description = "APK_NOT_FOUND: this ABI's APK is not published", body = ErrorBody),
        (status = 416, description = "RANGE_NOT_SATISFIABLE (Content-Range: bytes */size)", body = ErrorBody),
        (status = 503, description = "APP_RELEASE_UNAVAILABLE: the APK cannot be read", body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<ReleaseCache>>,
    headers: HeaderMap,
    AppQuery(q): AppQuery<AbiQuery>,
) -> Result<Response, ApiError> {
    let abi = Abi::parse(q.abi.as_deref());
    let Some((mut file, meta)) = open_apk(&state.config.app_release_dir, abi).await? else {
        tracing::warn!(abi = abi.as_str(), "APK not published");
        return Err(apk_not_found(abi));
    };
    let size = meta.len();
    let sha = cache
        .sha256(abi, &file, &meta)
        .await
        .map_err(|e| hash_failed(abi, e))?;
    let etag = format!("\"{sha}-{}\"", abi.as_str());
    let file_name = abi.file_name();

    let mut base = HeaderMap::new();
    let put = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(&mut base, header::ETAG, &etag);
    put(
        &mut base,
        header::CACHE_CONTROL,
        "public, max-age=86400, must-revalidate",
    );
    put(&mut base, header::ACCEPT_RANGES, "bytes");
    put(
        &mut base,
        header::HeaderName::from_static("x-no-compression"),
        "1",
    );

    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        if none_match(inm, &etag) {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            res.headers_mut().extend(base);
            return Ok(res);
        }
    }

    // If-Range: the range applies only to the same file (strong comparison on the ETag).
    let range_applies = headers
        .get(header::IF_RANGE)
        .map(|v| v.to_str().map(|s| s.trim() == etag).unwrap_or(false))
        .unwrap_or(true);
    let ask = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(raw) if range_applies => parse_range(raw, size),
        _ => RangeAsk::Whole,
    };
    let (status, start, len) = match ask {
        RangeAsk::Whole => (StatusCode::OK, 0, size),
        RangeAsk::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        RangeAsk::Unsatisfiable => {
            let mut res = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "RANGE_NOT_SATISFIABLE",
                "El rango solicitado está fuera del archivo",
            )
            .into_response();
            let h = res.headers_mut();
            put(h, header::CONTENT_RANGE, &format!("bytes */{size}"));
            put(h, header::ACCEPT_RANGES, "bytes");
            put(h, header::ETAG, &etag);
            return Ok(res);
        }
    };

    file.seek(SeekFrom::Start(start)).await.map_err(|e| {
        tracing::error!(abi = abi.as_str(), error = %e, "APK cannot be read");
        release_unavailable()
    })?;
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(len), CHUNK_BYTES));
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.extend(base);
    put(h, header::CONTENT_TYPE, APK_CONTENT_TYPE);
    put(h, header::CONTENT_LENGTH, &len.to_string());
    put(
        h,
        header::CONTENT_DISPOSITION,
        &format!("attachment; filename=\"{file_name}\"; filename*=UTF-8''{file_name}"),
    );
    put(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if status == StatusCode::PARTIAL_CONTENT {
        put(
            h,
            header::CONTENT_RANGE,
            &format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_routes_are_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, status) in [
            ("/api/v1/app/version", "200"),
            ("/api/v1/app/download", "206"),
        ] {
            assert!(
                doc["paths"][path]["get"]["responses"][status].is_object(),
                "{path}: {doc}"
            );
        }
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeAsk::*;
        let p = |raw| parse_range(raw, 100);
        assert_eq!(p("bytes=0-9"), Part { start: 0, end: 9 });
        assert_eq!(p("bytes=90-"), Part { start: 90, end: 99 });
        assert_eq!(p("bytes=90-500"), Part { start: 90, end: 99 });
        assert_eq!(p("bytes=-10"), Part { start: 90, end: 99 });
        assert_eq!(p("bytes=-500"), Part { start: 0, end: 99 });
        assert_eq!(p("BYTES = 5-5"), Part { start: 5, end: 5 });
        assert_eq!(p("bytes=100-"), Unsatisfiable);
        assert_eq!(p("bytes=100-200"), Unsatisfiable);
        assert_eq!(p("bytes=-0"), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        for ignored in [
            "bytes=9-2",
            "bytes=0-1,5-6",
            "items=0-5",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes",
            "",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(p(ignored), Whole, "{ignored:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"abc-arm64-v8a\"";
        assert!(none_match("\"abc-arm64-v8a\"", etag));
        assert!(none_match("W/\"abc-arm64-v8a\"", etag));
        assert!(none_match("\"x\", \"abc-arm64-v8a\"", etag));
        assert!(none_match("*", etag));
        assert!(!none_match("\"abc-armeabi-v7a\"", etag));
        assert!(!none_match("abc-arm64-v8a", etag));
    }

    #[test]
    fn unknown_abis_mean_the_default_and_name_no_other_file() {
        assert_eq!(Abi::parse(Some("arm64-v8a")), Abi::Arm64V8a);
        for raw in [None, Some(""), Some("x86"), Some("../../etc/passwd")] {
            assert_eq!(Abi::parse(raw), Abi::ArmeabiV7a);
        }
        assert_eq!(
            apk_path(Path::new("/srv/rel"), Abi::parse(Some("../x"))),
            PathBuf::from("/srv/rel/apk/app-armeabi-v7a-release.apk")
        );
    }

    #[test]
    fn hosts_with_odd_characters_are_not_echoed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("api.example.com:8443"),
        );
        assert_eq!(request_host(&h), Some("api.example.com:8443"));
        h.insert(header::HOST, HeaderValue::from_static("evil.com/phish?"));
        assert_eq!(request_host(&h), None);
    }
}
