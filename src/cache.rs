//! The Redis connection (optional): shared caches and limits across instances use it; the
//! source of truth is always PostgreSQL, so Redis being down degrades, never corrupts.

use std::time::Duration;

use tokio::sync::Mutex;

use crate::config::ServiceUrl;

/// A lazily connected Redis client that reconnects after a failure.
pub struct Redis {
    client: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    pub prefix: String,
}

impl Redis {
    pub fn new(url: &ServiceUrl, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Redis {
            client: redis::Client::open(url.expose())?,
            conn: Mutex::new(None),
            prefix: prefix.to_string(),
        })
    }

    /// A connection, reusing the current one or opening a new one within `timeout`.
    pub async fn connection(
        &self,
        timeout: Duration,
    ) -> Result<redis::aio::MultiplexedConnection, String> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let conn = tokio::time::timeout(timeout, self.client.get_multiplexed_async_connection())
            .await
            .map_err(|_| "timed out connecting to Redis".to_string())?
            .map_err(|e| e.to_string())?;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// `PING` within `timeout`; drops the connection on failure so the next call reconnects.
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        let mut conn = self.connection(timeout).await?;
        let res: Result<Result<String, _>, _> =
            tokio::time::timeout(timeout, redis::cmd("PING").query_async(&mut conn)).await;
        match res {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                *self.conn.lock().await = None;
                Err(e.to_string())
            }
            Err(_) => {
                *self.conn.lock().await = None;
                Err("timed out waiting for PING".into())
            }
        }
    }
}
