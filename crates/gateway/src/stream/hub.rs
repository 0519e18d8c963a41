//! Fan-out of committed events to connected devices.
//!
//! One task reads the store's committed events in cursor order, works out who may
//! receive each (an account's own events go to its devices; a conversation's to its
//! audience, cached per conversation and dropped whenever a team, a group, the
//! matrix or a consent changes), renders the JSON once, and puts it in each device's
//! bounded queue. A patient thread reaches a device only if the exercice its session
//! acts under may read the thread's category. A device whose queue is full is cut
//! off with a `resync` — it catches up from its cursor — so a slow phone never slows
//! anyone else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cordee_pathway::Millis;
use cordee_pathway::account::ProfessionGroup;
use cordee_pathway::ids::{AccountId, ConversationId, PatientId, SessionId};
use cordee_pathway::store::Audience;
use cordee_pathway::store::{Change, Store};
use cordee_pathway::stream::{StreamEvent, StreamKind, Topic};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;

use super::push::{PushNotice, PushSender};
use super::render;
use crate::clock::Clock;

/// Events a device may have queued before it is considered too slow.
pub const QUEUE: usize = 1024;

#[derive(Clone, Debug)]
pub struct Frame {
    pub cursor: i64,
    pub conversation_id: Option<ConversationId>,
    /// Set for patient threads: delivering the frame is a read of that patient's data.
    pub patient_id: Option<PatientId>,
    pub json: Arc<str>,
}

struct Device {
    id: u64,
    session: Option<SessionId>,
    /// The matrix column the session acts under (its chosen exercice).
    group: Option<ProfessionGroup>,
    tx: mpsc::Sender<Frame>,
    cut_off: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    devices: HashMap<AccountId, Vec<Device>>,
}

#[derive(Clone)]
pub struct Hub {
    registry: Arc<Mutex<Registry>>,
}

/// A connected device's end: its queue, whether the hub cut it off (too slow), and
/// whether its session ended.
pub struct Registration {
    pub rx: mpsc::Receiver<Frame>,
    pub cut_off: Arc<AtomicBool>,
    pub ended: Arc<AtomicBool>,
    id: u64,
    account: AccountId,
    hub: Hub,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut reg) = self.hub.registry.lock()
            && let Some(list) = reg.devices.get_mut(&self.account)
        {
            list.retain(|d| d.id != self.id);
            if list.is_empty() {
                reg.devices.remove(&self.account);
            }
        }
    }
}

impl Hub {
    pub fn start(store: Store, push: Arc<dyn PushSender>, clock: Clock) -> Hub {
        let hub = Hub {
            registry: Arc::new(Mutex::new(Registry::default())),
        };
        tokio::spawn(fan_out(hub.clone(), store, push, clock));
        hub
    }

    /// `session` is the login the stream was opened under (none for internal actors);
    /// `group` the matrix column its exercice reads with.
    pub fn register(
        &self,
        account: AccountId,
        session: Option<SessionId>,
        group: Option<ProfessionGroup>,
    ) -> Registration {
        let (tx, rx) = mpsc::channel(QUEUE);
        let cut_off = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let id = match self.registry.lock() {
            Ok(mut reg) => {
                reg.next_id += 1;
                let id = reg.next_id;
                reg.devices.entry(account).or_default().push(Device {
                    id,
                    session,
                    group,
                    tx,
                    cut_off: Arc::clone(&cut_off),
                    ended: Arc::clone(&ended),
                });
                id
            }
            Err(_) => 0,
        };
        Registration {
            rx,
            cut_off,
            ended,
            id,
            account,
            hub: self.clone(),
        }
    }

    /// Ends at once the streams opened under `session` (logout, or revoked from
    /// another device: a lost phone must stop receiving now, not at its next
    /// heartbeat). Frames already queued for them are not sent. Streams held by other
    /// gateway instances end at their next heartbeat, which rechecks the session.
    pub fn end_session(&self, account: AccountId, session: SessionId) {
        let Ok(mut reg) = self.registry.lock() else {
            return;
        };
        if let Some(list) = reg.devices.get_mut(&account) {
            list.retain(|d| {
                let ending = d.session == Some(session);
                if ending {
                    d.ended.store(true, Ordering::SeqCst);
                }
                !ending
            });
            if list.is_empty() {
                reg.devices.remove(&account);
            }
        }
    }

    /// Makes the streams opened under `session` reconnect (`resync`): its exercice
    /// changed, and what they may receive with it.
    pub fn resync_session(&self, account: AccountId, session: SessionId) {
        let Ok(mut reg) = self.registry.lock() else {
            return;
        };
        if let Some(list) = reg.devices.get_mut(&account) {
            list.retain(|d| {
                let cut = d.session == Some(session);
                if cut {
                    d.cut_off.store(true, Ordering::SeqCst);
                }
                !cut
            });
            if list.is_empty() {
                reg.devices.remove(&account);
            }
        }
    }

    /// Connected devices (for metrics and tests).
    pub fn devices(&self) -> usize {
        self.registry
            .lock()
            .map(|r| r.devices.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Queues a frame for every device of `account` whose session reads with one of
    /// `readers` (every device when `None`); cuts off devices that are full. Returns
    /// whether a device of the account received it.
    fn deliver(
        &self,
        account: AccountId,
        readers: Option<&[ProfessionGroup]>,
        frame: &Frame,
    ) -> bool {
        let Ok(mut reg) = self.registry.lock() else {
            return false;
        };
        let Some(list) = reg.devices.get_mut(&account) else {
            return false;
        };
        let mut received = false;
        list.retain(|d| {
            let reads = match readers {
                None => true,
                Some(groups) => d.group.is_some_and(|g| groups.contains(&g)),
            };
            if !reads {
                return true;
            }
            match d.tx.try_send(frame.clone()) {
                Ok(()) => {
                    received = true;
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    d.cut_off.store(true, Ordering::SeqCst);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if list.is_empty() {
            reg.devices.remove(&account);
        }
        received
    }

    /// Cuts off every device (the hub itself fell behind the store).
    fn cut_off_all(&self) {
        if let Ok(mut reg) = self.registry.lock() {
            for list in reg.devices.values() {
                for d in list {
                    d.cut_off.store(true, Ordering::SeqCst);
                }
            }
            reg.devices.clear();
        }
    }
}

/// How often the fan-out looks for events committed by other gateway instances.
const TAIL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long (by the gateway's clock) a cached audience is trusted: changes made through
/// this process forget it at once, but a team change made through another instance
/// is only seen when it is read again.
const AUDIENCE_TTL_MS: i64 = 1_000;
/// Events read from the database at a time when catching up.
const TAIL_PAGE: i64 = 500;

/// Delivers committed events in cursor order. This process's events arrive through
/// the store's channel; events committed by other instances on the same database are
/// read back from it: when a local event skips cursors (another instance committed
/// in between), and every [`TAIL_EVERY`] otherwise. Committed cursors form an
/// unbroken sequence, so reading a range never skips an event that commits later.
async fn fan_out(hub: Hub, store: Store, push: Arc<dyn PushSender>, clock: Clock) {
    let mut events = store.stream();
    let mut changes = store.changes();
    let mut fan = Fan {
        hub,
        store,
        push,
        clock,
        audiences: HashMap::new(),
        delivered: 0,
    };
    fan.delivered = fan.store.stream_head().await.unwrap_or(0);
    let mut tail = tokio::time::interval(TAIL_EVERY);
    tail.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            e = events.recv() => match e {
                Ok(event) => {
                    // A change published before this event must apply to it (a member
                    // removed just before a message was sent must not receive it).
                    loop {
                        match changes.try_recv() {
                            Ok(c) => forget(&mut fan.audiences, Some(c)),
                            Err(TryRecvError::Lagged(_)) => fan.audiences.clear(),
                            Err(_) => break,
                        }
                    }
                    if event.cursor > fan.delivered + 1 {
                        fan.catch_up(event.cursor - 1).await;
                    }
                    if event.cursor > fan.delivered {
                        fan.deliver(&event).await;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "stream fan-out fell behind; every device resyncs"
                    );
                    fan.hub.cut_off_all();
                    fan.delivered = fan.store.stream_head().await.unwrap_or(fan.delivered);
                }
                Err(RecvError::Closed) => break,
            },
            c = changes.recv() => forget(&mut fan.audiences, c.ok()),
            _ = tail.tick() => {
                match fan.store.stream_head().await {
                    Ok(head) if head > fan.delivered => fan.catch_up(head).await,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read the stream head"),
                }
            }
        }
    }
}

struct Fan {
    hub: Hub,
    store: Store,
    push: Arc<dyn PushSender>,
    clock: Clock,
    audiences: HashMap<ConversationId, (Arc<Audience>, Millis)>,
    /// The cursor of the last event delivered.
    delivered: i64,
}

impl Fan {
    /// Delivers the committed events after `delivered` up to `up_to`, from the database.
    async fn catch_up(&mut self, up_to: i64) {
        while self.delivered < up_to {
            let page = match self
                .store
                .stream_between(self.delivered, up_to, TAIL_PAGE)
                .await
            {
                Ok(page) if !page.is_empty() => page,
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read committed events; devices will catch up on reconnect");
                    return;
                }
            };
            for event in &page {
                self.deliver(event).await;
            }
        }
    }

    async fn deliver(&mut self, event: &StreamEvent) {
        self.delivered = event.cursor;
        let frame = Frame {
            cursor: event.cursor,
            conversation_id: event.conversation_id(),
            patient_id: event.patient_id(),
            json: Arc::from(render(event).as_str()),
        };
        let conversation = match event.topic {
            Topic::Account(account) => {
                self.hub.deliver(account, None, &frame);
                return;
            }
            Topic::Conversation { id, .. } => id,
        };
        let now = self.clock.now();
        let cached = self
            .audiences
            .get(&conversation)
            .filter(|(_, at)| now.0 - at.0 < AUDIENCE_TTL_MS && now >= *at);
        let audience = match cached {
            Some((a, _)) => Arc::clone(a),
            None => match self.store.audience(conversation, now).await {
                Ok(a) => {
                    let a = Arc::new(a);
                    self.audiences.insert(conversation, (Arc::clone(&a), now));
                    a
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot work out who receives an event; devices will catch up on reconnect");
                    return;
                }
            },
        };
        for member in &audience.members {
            let connected = self
                .hub
                .deliver(*member, audience.readers.as_deref(), &frame);
            if let StreamKind::MessageCreated(m) = &event.kind
                && !connected
                && m.sender_id != *member
                && !audience.muted.contains(member)
            {
                self.push.notify(
                    *member,
                    PushNotice {
                        conversation_id: conversation,
                        count: 1,
                        urgent: m.urgent,
                    },
                );
            }
        }
    }
}

fn forget(
    audiences: &mut HashMap<ConversationId, (Arc<Audience>, Millis)>,
    change: Option<Change>,
) {
    match change {
        Some(Change::ConversationChanged(id)) => {
            audiences.remove(&id);
        }
        Some(Change::Notification { .. }) => {}
        // Team, matrix and consent changes can touch any patient thread.
        _ => audiences.clear(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(cursor: i64) -> Frame {
        Frame {
            cursor,
            conversation_id: Some(ConversationId::new()),
            patient_id: None,
            json: Arc::from("{}"),
        }
    }

    fn hub() -> Hub {
        Hub {
            registry: Arc::new(Mutex::new(Registry::default())),
        }
    }

    #[test]
    fn a_device_that_stops_reading_is_cut_off_without_slowing_the_others() {
        let hub = hub();
        let (slow_account, fast_account) = (AccountId::new(), AccountId::new());
        let slow = hub.register(slow_account, None, None);
        let mut fast = hub.register(fast_account, None, None);
        for cursor in 1..=(QUEUE as i64 + 1) {
            let frame = frame(cursor);
            hub.deliver(slow_account, None, &frame);
            assert!(
                hub.deliver(fast_account, None, &frame),
                "the fast device stays connected"
            );
            // The fast device keeps up.
            assert_eq!(fast.rx.try_recv().map(|f| f.cursor).ok(), Some(cursor));
        }
        assert!(
            slow.cut_off.load(Ordering::SeqCst),
            "the slow device is told to resync"
        );
        assert!(!fast.cut_off.load(Ordering::SeqCst));
        assert_eq!(hub.devices(), 1, "the slow device is no longer registered");
    }

    #[test]
    fn a_patient_thread_reaches_only_devices_whose_exercice_reads_it() {
        let hub = hub();
        let account = AccountId::new();
        let mut nurse = hub.register(account, None, Some(ProfessionGroup::Infirmier));
        let mut podiatrist = hub.register(account, None, Some(ProfessionGroup::Auxiliaire));
        let readers = [ProfessionGroup::Medecin, ProfessionGroup::Infirmier];
        assert!(hub.deliver(account, Some(&readers), &frame(1)));
        assert_eq!(nurse.rx.try_recv().map(|f| f.cursor).ok(), Some(1));
        assert!(
            podiatrist.rx.try_recv().is_err(),
            "the session acting as auxiliaire does not read this category"
        );
        assert!(hub.deliver(account, None, &frame(2)));
        assert_eq!(podiatrist.rx.try_recv().map(|f| f.cursor).ok(), Some(2));
        assert_eq!(nurse.rx.try_recv().map(|f| f.cursor).ok(), Some(2));
    }

    #[test]
    fn dropping_a_registration_unregisters_the_device() {
        let hub = hub();
        let account = AccountId::new();
        let a = hub.register(account, None, None);
        let b = hub.register(account, None, None);
        assert_eq!(hub.devices(), 2);
        drop(a);
        assert_eq!(hub.devices(), 1);
        drop(b);
        assert_eq!(hub.devices(), 0);
        assert!(!hub.deliver(account, None, &frame(1)));
    }
}
