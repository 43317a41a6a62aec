//! Keep-alive: the timer is armed for `ping_interval_ms` when the
//! connection opens and re-armed by every received segment (any byte proves
//! the peer alive), so it fires only after a full interval of silence. Then
//! the client pings, or gives up with -19 once the first unanswered ping is
//! `pong_timeout_ms` old (its age counted in whole intervals).

use super::{Client, Phase, TimerCmd};
use crate::frame::OP_PING;
use crate::status;

impl Client {
    /// The timer fired while open: `ping_interval_ms` without a byte from
    /// the peer. True if a ping was queued.
    pub(super) fn keepalive_tick(&mut self) -> bool {
        let every = self.opts.ping_interval_ms;
        if every == 0 {
            return false;
        }
        // The first unanswered ping was sent `pings` intervals ago (an
        // age beyond u32, or beyond the counter's 65535 intervals, counts
        // as beyond any timeout).
        let late = match u32::from(self.pings).checked_mul(every) {
            Some(_) if self.pings == u16::MAX => true,
            Some(age) => age >= self.opts.pong_timeout_ms,
            None => true,
        };
        if self.pings > 0 && late {
            self.end(status::WS_ERR_PING_TIMEOUT);
            return false;
        }
        self.pings = self.pings.saturating_add(1);
        if self.queue.push(&mut self.rng, OP_PING, &[], &[]).is_err() {
            self.end(status::WS_ERR_NO_MEMORY_SEND);
            return false;
        }
        self.timer = TimerCmd::Ping;
        true
    }

    /// Call before `receive` for every new segment. While open the peer is
    /// thereby alive: no ping is owed and the keep-alive timer starts over,
    /// for the returned number of ms, which the driver arms itself at once
    /// (once per segment: cheaper than going through `poll`).
    /// The send buffer kept for the next send goes (a segment ends the
    /// send-only stretch it was kept for).
    pub fn segment_arrived(&mut self) -> Option<u32> {
        self.queue.release_idle();
        if matches!(self.phase, Phase::Open) && self.opts.ping_interval_ms > 0 {
            self.pings = 0;
            return Some(self.opts.ping_interval_ms);
        }
        None
    }
}
