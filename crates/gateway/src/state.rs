//! What every handler can reach.

use std::sync::Arc;

use cordee_pathway::store::{Db, Store};

use crate::config::Settings;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub db: Db,
    pub store: Store,
}

impl AppState {
    pub fn new(settings: Settings, db: Db, store: Store) -> AppState {
        AppState(Arc::new(Inner {
            settings,
            db,
            store,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
