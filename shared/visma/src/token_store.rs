//! Where a rotating refresh token lives between runs. eAccounting kills a refresh token on use
//! and hands out a new one: it must be saved before the new access token is used, or a crash
//! loses the company's consent. Implementations: a local file (local runs), memory (tests); the
//! AWS adapter stores it in Secrets Manager.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;

use crate::error::VismaError;

/// A secret string whose Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The newest refresh token, if one was saved.
    async fn load(&self) -> Result<Option<Secret>, VismaError>;
    /// Saves the new refresh token durably before it is relied on.
    async fn save(&self, token: &Secret) -> Result<(), VismaError>;
}

/// Tests and one-shot runs.
#[derive(Debug, Default)]
pub struct MemoryTokenStore(tokio::sync::Mutex<Option<Secret>>);

impl MemoryTokenStore {
    pub fn new(initial: Option<Secret>) -> Self {
        Self(tokio::sync::Mutex::new(initial))
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<Secret>, VismaError> {
        Ok(self.0.lock().await.clone())
    }

    async fn save(&self, token: &Secret) -> Result<(), VismaError> {
        *self.0.lock().await = Some(token.clone());
        Ok(())
    }
}

/// A file holding only the token, replaced atomically (write a sibling, then rename). On Unix the
/// file is created readable by its owner only (0600), whatever the umask: the token is a standing
/// grant to the company's books.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    pub path: PathBuf,
}

#[async_trait::async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<Secret>, VismaError> {
        match tokio::fs::read_to_string(&self.path).await {
            Ok(t) if !t.trim().is_empty() => Ok(Some(Secret::new(t.trim()))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&self.path, e)),
        }
    }

    async fn save(&self, token: &Secret) -> Result<(), VismaError> {
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| io_error(dir, e))?;
        }
        let tmp = self.path.with_extension("tmp");
        // A leftover sibling may have looser permissions: the mode applies only on creation.
        match tokio::fs::remove_file(&tmp).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&tmp, e)),
            _ => {}
        }
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&tmp).await.map_err(|e| io_error(&tmp, e))?;
        file.write_all(token.expose().as_bytes())
            .await
            .map_err(|e| io_error(&tmp, e))?;
        file.sync_all().await.map_err(|e| io_error(&tmp, e))?;
        drop(file);
        tokio::fs::rename(&tmp, &self.path)
            .await
            .map_err(|e| io_error(&self.path, e))
    }
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> VismaError {
    VismaError::Unavailable {
        target: "token store",
        what: format!("{}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("abc")), "Secret(***)");
    }

    #[tokio::test]
    async fn the_file_store_keeps_the_newest_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore {
            path: dir.path().join("state/eaccounting-SE.token"),
        };
        assert_eq!(store.load().await.unwrap(), None);
        store.save(&Secret::new("r1")).await.unwrap();
        store.save(&Secret::new("r2")).await.unwrap();
        assert_eq!(store.load().await.unwrap().unwrap().expose(), "r2");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_token_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eaccounting-SE.token");
        // A world-readable leftover from an interrupted save must not lend its mode.
        std::fs::write(path.with_extension("tmp"), "old").unwrap();
        std::fs::set_permissions(path.with_extension("tmp"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = FileTokenStore { path: path.clone() };
        store.save(&Secret::new("r1")).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode {mode:o}");
        assert_eq!(store.load().await.unwrap().unwrap().expose(), "r1");
    }
}
