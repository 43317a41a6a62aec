//! Automatic reconnection: the backoff between attempts ([`Backoff`]) and
//! what a connection keeps for the next one ([`Redial`]).
//!
//! After a connection ends with a non-zero status (anything but the
//! user's close), the driver makes the next client with
//! [`Redial::next_client`] (same request, a fresh key), reports the end,
//! and arms the timer for [`Backoff::next_wait`]; the client waits in
//! [`Phase::Waiting`] until then ([`Client::begin`]).

use core::num::NonZeroU32;

use super::{Client, Phase, Target};
use crate::buffer::Buf;
use crate::handshake::{self, KEY_LEN};
use crate::status::{self, Status};

/// Exponential backoff with jitter: the wait before attempt `k` (0 after
/// a connection that had opened) is drawn uniformly from `[s/2, s]` with
/// the step `s = min(initial * 2^k, max)`: spread out, so that many
/// clients cut off together do not come back together, and never longer
/// than `max`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Backoff {
    initial_ms: u32,
    max_ms: u32,
    step_ms: u32,
}

impl Backoff {
    /// `None` (no reconnection) when `initial_ms` is 0. A `max_ms` below
    /// `initial_ms` is raised to it.
    pub fn new(initial_ms: u32, max_ms: u32) -> Option<Backoff> {
        if initial_ms == 0 {
            return None;
        }
        Some(Backoff {
            initial_ms,
            max_ms: max_ms.max(initial_ms),
            step_ms: initial_ms,
        })
    }

    /// The wait before the next attempt, from 32 random bits; the step
    /// after it doubles (up to `max_ms`).
    pub fn next_wait(&mut self, random: u32) -> u32 {
        let s = self.step_ms;
        self.step_ms = s.saturating_mul(2).min(self.max_ms);
        let half = s / 2;
        // In 0..=s-half (s - half + 1 is at least 1: no division by zero).
        let span = NonZeroU32::new(s - half + 1).unwrap_or(NonZeroU32::MIN);
        half + random % span
    }

    /// A connection opened: the next loss waits from `initial_ms` again.
    pub fn reset(&mut self) {
        self.step_ms = self.initial_ms;
    }
}

/// What a reconnecting connection keeps between its attempts: the
/// opening request as first built (its key is replaced each time, as RFC
/// 6455 4.1 asks for a fresh one per connection), the host name to
/// resolve, the target and the backoff. Its own allocation, made by
/// `ws_connect_with` only when reconnection is on.
pub struct Redial {
    pub backoff: Backoff,
    request: Buf,
    key_at: usize,
    /// The host name and a NUL, for `ws_port_resolve`.
    host: Buf,
    target: Target,
}

impl Redial {
    /// Keeps what `first` (made from `url`) needs to be made again.
    pub fn new(
        first: &Client,
        url: &crate::url::Url,
        target: Target,
        backoff: Backoff,
    ) -> Result<Redial, Status> {
        let oom = |_| status::WS_ERR_NO_MEMORY_HANDSHAKE;
        let mut request = Buf::new();
        request.extend(first.queue.request()).map_err(oom)?;
        let mut host = Buf::new();
        host.reserve_total(url.host.len() + 1).map_err(oom)?;
        host.extend(url.host).map_err(oom)?;
        host.push(0).map_err(oom)?;
        Ok(Redial {
            backoff,
            request,
            key_at: handshake::key_offset(url),
            host,
            target,
        })
    }

    /// The host name, NUL-terminated.
    pub fn host(&self) -> &[u8] {
        self.host.as_slice()
    }

    /// The next connection: the same request with a key made from
    /// `key_random`, waiting ([`Phase::Waiting`]); `sha1` as for
    /// [`Client::new`]. `WS_ERR_NO_MEMORY_HANDSHAKE` without memory for it.
    pub fn next_client(
        &self,
        key_random: &[u8; 16],
        mask_seed: [u8; 16],
        sha1: impl FnOnce(&[u8]) -> [u8; 20],
    ) -> Result<Client, Status> {
        let key = handshake::make_key(key_random);
        let mut out = Buf::new();
        out.extend(self.request.as_slice())
            .map_err(|_| status::WS_ERR_NO_MEMORY_HANDSHAKE)?;
        let slot = out.as_mut_slice().get_mut(self.key_at..).unwrap_or(&mut []);
        if slot.len() < KEY_LEN {
            return Err(status::WS_ERR_OTHER);
        }
        for (d, s) in slot.iter_mut().zip(key) {
            *d = s;
        }
        let accept = handshake::accept_for(&key, sha1);
        Client::with_request(out, accept, &self.target, Phase::Waiting, mask_seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_max_and_resets() {
        assert!(Backoff::new(0, 5000).is_none(), "0: off");
        let mut b = Backoff::new(1000, 5000).unwrap();
        // Steps 1000, 2000, 4000, 5000, 5000; waits in [step/2, step],
        // both ends reached.
        for step in [1000u32, 2000, 4000, 5000, 5000] {
            let mut c = b;
            assert_eq!(c.next_wait(0), step / 2);
            let mut c = b;
            assert_eq!(c.next_wait(step - step / 2), step);
            for r in [1u32, 77, 0xFFFF_FFFF, 0x8000_0000] {
                let mut c = b;
                assert!((step / 2..=step).contains(&c.next_wait(r)));
            }
            b.next_wait(12345);
        }
        b.reset();
        assert_eq!(b.next_wait(0), 500);
        // max below initial: raised; huge values do not overflow.
        let mut b = Backoff::new(3000, 10).unwrap();
        assert_eq!((b.next_wait(0), b.next_wait(0)), (1500, 1500));
        let mut b = Backoff::new(u32::MAX, u32::MAX).unwrap();
        assert!(b.next_wait(u32::MAX) >= u32::MAX / 2);
        assert!(b.next_wait(7) >= u32::MAX / 2);
        let mut b = Backoff::new(1, 1).unwrap();
        assert!(b.next_wait(5) <= 1);
    }

    #[test]
    fn next_client_sends_the_same_request_with_a_fresh_key() {
        let url = crate::url::parse(b"ws://u:p@example.com:81/a?b").unwrap();
        let extra = [crate::handshake::Header {
            name: b"X-A",
            value: b"1",
        }];
        let opts = super::super::Options::DEFAULT;
        let first = Client::new(
            &url,
            extra.iter().copied(),
            None,
            opts,
            &[1; 16],
            [2; 16],
            crate::testkit::sha1,
        )
        .unwrap();
        let target = Target {
            port: url.port,
            secure: url.secure,
            opts,
        };
        let backoff = Backoff::new(10, 20).unwrap();
        let r = Redial::new(&first, &url, target, backoff).unwrap();
        assert_eq!(r.host(), b"example.com\0");
        let next = r
            .next_client(&[9; 16], [3; 16], crate::testkit::sha1)
            .unwrap();
        assert_eq!(next.phase(), Phase::Waiting);
        assert_eq!(next.connection_state(), 5);
        let (a, b) = (first.queue.request(), next.queue.request());
        let at = handshake::key_offset(&url);
        assert_eq!(a.len(), b.len());
        assert_eq!(&a[..at], &b[..at]);
        assert_eq!(&a[at + KEY_LEN..], &b[at + KEY_LEN..]);
        assert_eq!(&a[at - 19..at], b"Sec-WebSocket-Key: ");
        assert_eq!(b[at..at + KEY_LEN], handshake::make_key(&[9; 16]));
        assert_ne!(a[at..at + KEY_LEN], b[at..at + KEY_LEN]);
    }
}
