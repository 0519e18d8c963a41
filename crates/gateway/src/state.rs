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
    pub fn new(settings: Settings, db: Db) -> AppState {
        AppState(Arc::new(Inner {
            settings,
            store: Store::new(db.clone()),
            db,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
