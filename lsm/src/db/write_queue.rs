//! The queue of the group commit (write.rs): each writer's batch in a ticketed slot, the tickets
//! waiting for a leader, and each slot's outcome once its group is committed. Pure bookkeeping
//! under the store's queue mutex; must not touch the WAL, the memtable or the condition variable
//! (write.rs owns the commit and the wake-up).

use std::collections::{HashMap, VecDeque};

use crate::error::{Error, Result};
use crate::kv::WriteBatch;

/// The batches one leader commits together: (ticket, batch, whether its writer asked for sync).
pub(crate) type Group = Vec<(usize, WriteBatch, bool)>;

struct Slot {
    batch: WriteBatch,
    sync: bool,
    /// `Some` once committed: the last sequence number of the batch, or why it failed.
    result: Option<std::result::Result<u64, CommitError>>,
}

/// Why a group failed, as each of its writers gets it back (`Error` is not `Clone`): a key
/// refusal keeps its 403 (nothing was written); anything else is a poisoned store.
#[derive(Clone)]
enum CommitError {
    Withheld(String),
    Mismatch(String),
    Store(String),
}

impl CommitError {
    fn from_error(e: &Error) -> CommitError {
        match e {
            Error::KeyWithheld(message) => CommitError::Withheld(message.clone()),
            Error::KeyMismatch(message) => CommitError::Mismatch(message.clone()),
            other => CommitError::Store(other.to_string()),
        }
    }

    fn into_error(self) -> Error {
        match self {
            CommitError::Withheld(message) => Error::KeyWithheld(message),
            CommitError::Mismatch(message) => Error::KeyMismatch(message),
            CommitError::Store(why) => Error::Poisoned(why),
        }
    }
}

#[derive(Default)]
pub(crate) struct WriteQueue {
    pending: VecDeque<usize>,
    slots: HashMap<usize, Slot>,
    next_ticket: usize,
    leader_active: bool,
}

impl WriteQueue {
    /// Queues a writer's batch; its ticket names it until its outcome is taken.
    pub(crate) fn enqueue(&mut self, batch: WriteBatch, sync: bool) -> usize {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.slots.insert(
            ticket,
            Slot {
                batch,
                sync,
                result: None,
            },
        );
        self.pending.push_back(ticket);
        ticket
    }

    /// The outcome of `ticket` once its group is committed (the slot is then removed).
    pub(crate) fn take_result(&mut self, ticket: usize) -> Option<Result<u64>> {
        let done = self.slots.get(&ticket).and_then(|s| s.result.clone())?;
        self.slots.remove(&ticket);
        Some(done.map_err(CommitError::into_error))
    }

    /// When no leader is committing, makes the caller the leader and hands it every waiting
    /// batch; `None` while another leader is active.
    pub(crate) fn lead(&mut self) -> Option<Group> {
        if self.leader_active {
            return None;
        }
        self.leader_active = true;
        let tickets: Vec<usize> = self.pending.drain(..).collect();
        Some(
            tickets
                .iter()
                .filter_map(|t| {
                    self.slots
                        .get_mut(t)
                        .map(|s| (*t, std::mem::take(&mut s.batch), s.sync))
                })
                .collect(),
        )
    }

    /// Records the leader's outcome for each batch of its group (each batch's last sequence
    /// number, or the group's error) and lets the next leader in.
    pub(crate) fn finish(&mut self, group: &Group, outcome: &Result<Vec<u64>>) {
        for (i, (t, _, _)) in group.iter().enumerate() {
            if let Some(s) = self.slots.get_mut(t) {
                s.result = Some(match outcome {
                    Ok(lasts) => lasts
                        .get(i)
                        .copied()
                        .ok_or_else(|| CommitError::Store("lost commit result".to_string())),
                    Err(e) => Err(CommitError::from_error(e)),
                });
            }
        }
        self.leader_active = false;
    }
}
