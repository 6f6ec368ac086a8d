//! Status bits for single issuances, reserved a block at a time.
//!
//! Each award and endorsement names its own bit of an issuer's status list,
//! handed out by [`StatusListRepository::allocate`] in a transaction that
//! locks the issuer's open list. Taking one bit per request that way makes
//! every issuance of one issuer wait for the previous one's commit, and
//! costs a write transaction per request. A [`BitReserve`] takes a block of
//! bits from the store instead and hands them out one by one from memory.
//!
//! What holds:
//! - a bit still goes to one award only, across instances: blocks come
//!   from `allocate`, which never hands a bit out twice, and a reserve
//!   hands each bit of its blocks out once;
//! - a list's `allocated` counts reserved bits too, handed out or not;
//! - bits reserved and not handed out when the process stops are never
//!   used: they stay clear in the published list, which is how a bit no
//!   credential names reads anyway. Blocks double while each lasts less
//!   than [`BitReserve::WINDOW`], up to [`BitReserve::MAX_BLOCK`], and fall
//!   back to one bit after a pause; the next block is taken once less than
//!   half of the last is left. So a stop leaves unused at most about
//!   a window's worth of issuance, and never more than one and a half
//!   blocks, per issuer and instance; a quiet instance reserves one bit at
//!   a time, as without a reserve.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::ports::{RepoResult, StatusListRepository};
use crate::{DomainError, IssuerId, StatusSlot, Timestamp};

/// Bits reserved for one issuer.
#[derive(Default)]
struct Reserved {
    /// Reserved and not yet handed out, in the order reserved.
    slots: VecDeque<StatusSlot>,
    /// The size of the last block reserved (0: none yet), and when.
    block: u32,
    at: Option<Timestamp>,
    /// A caller is taking the next block: one at a time, so that the bits
    /// left over stay bounded.
    refilling: bool,
}

impl Reserved {
    /// The size of the next block: twice the last while blocks last less
    /// than a window, one bit at first and after a pause.
    fn next_block(&self, now: Timestamp) -> u32 {
        match self.at {
            Some(at) if now.as_datetime() - at.as_datetime() < BitReserve::WINDOW => {
                (self.block * 2).clamp(1, BitReserve::MAX_BLOCK)
            }
            _ => 1,
        }
    }

    /// Whether the next block should be taken now, while bits are left:
    /// less than half of the last block is.
    fn running_low(&self) -> bool {
        !self.refilling && !self.slots.is_empty() && self.slots.len() * 2 < self.block as usize
    }
}

/// What a call to [`BitReserve::take`] does after looking at the reserve.
enum Plan {
    /// Got its bit from the reserve, and takes the next block of this size
    /// for the callers after it.
    Ahead(StatusSlot, u32),
    /// Takes a block of this size, keeps its first bit and reserves the rest.
    Refill(u32),
    /// The reserve is empty and another caller is refilling it: takes one
    /// bit of its own rather than wait.
    Single,
}

/// Status bits of each issuer reserved by this process (see the module
/// documentation). One per store instance: it stands for the instance's
/// claim on the bits it reserved.
#[derive(Default)]
pub struct BitReserve {
    issuers: Mutex<HashMap<IssuerId, Reserved>>,
}

impl BitReserve {
    /// The largest block reserved at once.
    pub const MAX_BLOCK: u32 = 64;
    /// A block used up within this time makes the next twice as large.
    pub const WINDOW: chrono::TimeDelta = chrono::TimeDelta::seconds(1);
    /// Issuers remembered before those with nothing reserved and idle for
    /// a window are forgotten (forgetting one only restarts its blocks at
    /// one bit).
    const KEPT: usize = 1024;

    /// A reserve holding no bits.
    pub fn new() -> Self {
        Self::default()
    }

    /// One unused bit of `issuer`'s lists, from this reserve or from a new
    /// block taken from `lists` (lists of `capacity` bits).
    pub async fn take(
        &self,
        lists: &dyn StatusListRepository,
        issuer: IssuerId,
        capacity: u32,
        now: Timestamp,
    ) -> RepoResult<StatusSlot> {
        let plan = {
            let mut issuers = self.lock();
            if issuers.len() >= Self::KEPT && !issuers.contains_key(&issuer) {
                issuers.retain(|_, r| {
                    !r.slots.is_empty()
                        || r.refilling
                        || r.at
                            .is_some_and(|at| now.as_datetime() - at.as_datetime() < Self::WINDOW)
                });
            }
            let reserved = issuers.entry(issuer).or_default();
            match reserved.slots.pop_front() {
                Some(slot) if reserved.running_low() => {
                    reserved.refilling = true;
                    Plan::Ahead(slot, reserved.next_block(now))
                }
                Some(slot) => return Ok(slot),
                None if reserved.refilling => Plan::Single,
                None => {
                    reserved.refilling = true;
                    Plan::Refill(reserved.next_block(now))
                }
            }
        };
        match plan {
            Plan::Single => Ok(allocate(lists, issuer, 1, capacity, now).await?[0]),
            Plan::Refill(block) => {
                let refill = Refilling::new(self, issuer);
                let mut slots = allocate(lists, issuer, block, capacity, now).await?;
                let mine = slots.remove(0);
                refill.done(block, now, slots);
                Ok(mine)
            }
            Plan::Ahead(mine, block) => {
                let refill = Refilling::new(self, issuer);
                // The caller has its bit: a failure here only leaves the
                // reserve to be refilled by the next caller, who then
                // meets the error itself.
                if let Ok(slots) = allocate(lists, issuer, block, capacity, now).await {
                    refill.done(block, now, slots);
                }
                Ok(mine)
            }
        }
    }

    /// How many bits of `issuer` this reserve holds, not yet handed out.
    pub fn reserved(&self, issuer: IssuerId) -> usize {
        self.lock().get(&issuer).map_or(0, |r| r.slots.len())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IssuerId, Reserved>> {
        // Every update leaves the map consistent, so a panic elsewhere while
        // holding the lock leaves nothing half done.
        self.issuers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `count` bits from `lists`, exactly.
async fn allocate(
    lists: &dyn StatusListRepository,
    issuer: IssuerId,
    count: u32,
    capacity: u32,
    now: Timestamp,
) -> RepoResult<Vec<StatusSlot>> {
    let slots = lists.allocate(issuer, count, capacity, now).await?;
    if slots.len() != count as usize || slots.is_empty() {
        return Err(DomainError::Internal(format!(
            "the status list store handed out {} of {count} bits",
            slots.len()
        )));
    }
    Ok(slots)
}

/// A refill under way for one issuer: ends it when dropped, even if the
/// caller's future is dropped mid-way, so that a later caller can refill.
struct Refilling<'a> {
    reserve: &'a BitReserve,
    issuer: IssuerId,
}

impl<'a> Refilling<'a> {
    fn new(reserve: &'a BitReserve, issuer: IssuerId) -> Self {
        Self { reserve, issuer }
    }

    /// Adds the block taken to the reserve.
    fn done(self, block: u32, at: Timestamp, slots: Vec<StatusSlot>) {
        let mut issuers = self.reserve.lock();
        let reserved = issuers.entry(self.issuer).or_default();
        reserved.slots.extend(slots);
        reserved.block = block;
        reserved.at = Some(at);
    }
}

impl Drop for Refilling<'_> {
    fn drop(&mut self) {
        if let Some(reserved) = self.reserve.lock().get_mut(&self.issuer) {
            reserved.refilling = false;
        }
    }
}
