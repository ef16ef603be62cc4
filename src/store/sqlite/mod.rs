//! Skeleton: filled in by the store work.

use async_trait::async_trait;

use crate::model::{Grid, GridId};
use crate::store::{Backend, GridFilter, Store, StoreError, WriteMode};

/// Skeleton store.
pub struct SqliteStore;

impl SqliteStore {
    /// Connect and migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let _ = url;
        Ok(SqliteStore)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    async fn load_grids(&self) -> Result<Vec<Grid>, StoreError> {
        Ok(Vec::new())
    }
    async fn grid(&self, _id: &GridId) -> Result<Option<Grid>, StoreError> {
        Ok(None)
    }
    async fn grids(&self, _filter: &GridFilter) -> Result<Vec<Grid>, StoreError> {
        Ok(Vec::new())
    }
    async fn count_by_level(&self) -> Result<[u64; 5], StoreError> {
        Ok([0; 5])
    }
    async fn write_grids(&self, _grids: &[Grid], _mode: WriteMode) -> Result<(), StoreError> {
        Ok(())
    }
}
