//! Heap memory without the `alloc` crate.
//!
//! In the firmware build everything goes through C `malloc`/`realloc`/`free`
//! (the SDK's heap). Under `feature = "std"` (and in unit tests) the same
//! calls go through `std::alloc`, and every allocation is counted per thread
//! so tests can check for leaks, count allocations and make the Nth
//! allocation fail (module `stats`, in those builds only).
//!
//! Growth is fallible: a failed allocation is reported as `Err(NoMemory)` and
//! the old contents stay valid. A first allocation is exact; growing an
//! existing one takes half as much again (see [`Buf::reserve_total`]).

use core::mem::{align_of, size_of};
use core::ptr::{self, NonNull};

/// An allocation failed.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct NoMemory;

#[cfg(not(any(test, feature = "std")))]
mod raw {
    extern "C" {
        fn malloc(size: usize) -> *mut u8;
        fn realloc(p: *mut u8, size: usize) -> *mut u8;
        fn free(p: *mut u8);
    }

    /// `size` > 0. `align` ≤ 8 (what malloc guarantees on our targets).
    pub fn alloc(size: usize, _align: usize) -> *mut u8 {
        // SAFETY: malloc accepts any size and returns NULL or a fresh block.
        unsafe { malloc(size) }
    }

    /// `p` came from `alloc`/`grow` of this module, `new` > 0.
    pub fn grow(p: *mut u8, _old: usize, _align: usize, new: usize) -> *mut u8 {
        // SAFETY: `p` is a live block from malloc/realloc (caller contract);
        // on failure realloc returns NULL and leaves `p` untouched.
        unsafe { realloc(p, new) }
    }

    /// `p` came from `alloc`/`grow` of this module and is freed once.
    pub fn release(p: *mut u8, _size: usize, _align: usize) {
        // SAFETY: caller contract: `p` is a live block from malloc/realloc.
        unsafe { free(p) }
    }
}

#[cfg(any(test, feature = "std"))]
mod raw {
    use super::stats;
    use std::alloc::{alloc as sys_alloc, dealloc, realloc, Layout};

    fn layout(size: usize, align: usize) -> Option<Layout> {
        Layout::from_size_align(size, align).ok()
    }

    pub fn alloc(size: usize, align: usize) -> *mut u8 {
        let Some(l) = layout(size, align) else {
            return core::ptr::null_mut();
        };
        if !stats::take_allocation() {
            return core::ptr::null_mut();
        }
        // SAFETY: `l` has a non-zero size (callers never ask for 0 bytes).
        let p = unsafe { sys_alloc(l) };
        if !p.is_null() {
            stats::on_alloc(size);
        }
        p
    }

    pub fn grow(p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8 {
        let Some(l) = layout(old, align) else {
            return core::ptr::null_mut();
        };
        if layout(new, align).is_none() || !stats::take_allocation() {
            return core::ptr::null_mut();
        }
        // SAFETY: `p` was allocated with layout `l` by this module, `new` is
        // non-zero and forms a valid layout with `align` (checked above).
        let q = unsafe { realloc(p, l, new) };
        if !q.is_null() {
            stats::on_realloc(old, new);
        }
        q
    }

    pub fn release(p: *mut u8, size: usize, align: usize) {
        if let Some(l) = layout(size, align) {
            // SAFETY: `p` was allocated with exactly this layout by this module.
            unsafe { dealloc(p, l) };
            stats::on_free(size);
        }
    }
}

/// Per-thread allocation statistics and failure injection (std/test builds).
#[cfg(any(test, feature = "std"))]
pub mod stats {
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<usize> = const { Cell::new(0) };
        static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
        static TOTAL: Cell<usize> = const { Cell::new(0) };
        static FAIL_AT: Cell<usize> = const { Cell::new(0) };
        static COPIED: Cell<usize> = const { Cell::new(0) };
    }

    /// Bytes copied by this thread so far: appended to buffers, plus the old
    /// contents of every reallocation (counted as if realloc always moved).
    pub fn copied() -> usize {
        COPIED.with(|c| c.get())
    }
    pub(super) fn on_copy(n: usize) {
        COPIED.with(|c| c.set(c.get() + n));
    }

    /// Blocks currently allocated by this thread.
    pub fn live() -> usize {
        LIVE.with(|c| c.get())
    }
    /// Bytes currently allocated by this thread.
    pub fn live_bytes() -> usize {
        LIVE_BYTES.with(|c| c.get())
    }
    /// Allocations and reallocations made by this thread so far.
    pub fn total() -> usize {
        TOTAL.with(|c| c.get())
    }
    /// Make the `n`th allocation or reallocation from now fail (1 = the next
    /// one); 0 disables injection. The failure happens once.
    pub fn fail_nth(n: usize) {
        FAIL_AT.with(|c| c.set(n));
    }

    pub(super) fn take_allocation() -> bool {
        FAIL_AT.with(|c| match c.get() {
            0 => true,
            1 => {
                c.set(0);
                false
            }
            n => {
                c.set(n - 1);
                true
            }
        })
    }
    pub(super) fn on_alloc(size: usize) {
        LIVE.with(|c| c.set(c.get() + 1));
        LIVE_BYTES.with(|c| c.set(c.get() + size));
        TOTAL.with(|c| c.set(c.get() + 1));
    }
    pub(super) fn on_realloc(old: usize, new: usize) {
        on_copy(old);
        LIVE_BYTES.with(|c| c.set(c.get() + new - old));
        TOTAL.with(|c| c.set(c.get() + 1));
    }
    pub(super) fn on_free(size: usize) {
        LIVE.with(|c| c.set(c.get().saturating_sub(1)));
        LIVE_BYTES.with(|c| c.set(c.get().saturating_sub(size)));
    }
}

/// A growable byte buffer with exact, fallible growth.
pub struct Buf {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl Buf {
    pub const fn new() -> Self {
        Buf {
            ptr: ptr::null_mut(),
            len: 0,
            cap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Makes room for at least `total` bytes (no-op if already there).
    ///
    /// The first allocation is exact, so a message or frame that is sized
    /// up front costs exactly its size. Growing an existing allocation
    /// takes at least half as much again: a message assembled from many
    /// small fragments, or a send queue filled by many small sends, then
    /// costs O(n) copies instead of O(n^2) (one realloc per fragment copies
    /// the whole buffer on allocators that cannot grow in place), for at
    /// most 50 % slack.
    pub fn reserve_total(&mut self, total: usize) -> Result<(), NoMemory> {
        self.grow_to(total, true)
    }

    /// Makes room for at least `total` bytes, growing to exactly `total`
    /// when it must grow: for the last growth of a buffer whose final size
    /// is known (the last fragment of a message), so it ends without slack.
    pub fn reserve_final(&mut self, total: usize) -> Result<(), NoMemory> {
        self.grow_to(total, false)
    }

    fn grow_to(&mut self, total: usize, slack: bool) -> Result<(), NoMemory> {
        if total <= self.cap {
            return Ok(());
        }
        let (p, cap) = if self.ptr.is_null() {
            (raw::alloc(total, 1), total)
        } else {
            let half_again = self.cap.saturating_add(self.cap / 2);
            let cap = if slack { total.max(half_again) } else { total };
            let p = raw::grow(self.ptr, self.cap, 1, cap);
            // Short of memory for the slack: settle for the exact size.
            if p.is_null() && cap > total {
                (raw::grow(self.ptr, self.cap, 1, total), total)
            } else {
                (p, cap)
            }
        };
        if p.is_null() {
            return Err(NoMemory);
        }
        self.ptr = p;
        self.cap = cap;
        Ok(())
    }

    /// Makes room for exactly `additional` more bytes beyond `len`.
    pub fn reserve_exact(&mut self, additional: usize) -> Result<(), NoMemory> {
        let total = self.len.checked_add(additional).ok_or(NoMemory)?;
        if total <= self.cap {
            return Ok(());
        }
        self.reserve_total(total)
    }

    /// Appends `data`, growing (as [`Buf::reserve_total`]) if needed. One
    /// `memcpy`.
    #[inline]
    pub fn extend(&mut self, data: &[u8]) -> Result<(), NoMemory> {
        self.reserve_exact(data.len())?;
        let dst = self.spare(data.len()).ok_or(NoMemory)?;
        // SAFETY: `dst` and `data` are valid for `data.len()` bytes (`spare`
        // returned exactly that many) and cannot overlap: `dst` is memory
        // this buffer owns exclusively (`self` is borrowed mutably, so `data`
        // cannot borrow from it).
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), dst.as_mut_ptr(), data.len()) };
        #[cfg(any(test, feature = "std"))]
        stats::on_copy(data.len());
        self.len += data.len();
        Ok(())
    }

    /// Appends one byte (within the existing capacity or growing exactly).
    pub fn push(&mut self, b: u8) -> Result<(), NoMemory> {
        self.extend(&[b])
    }

    /// The `n` bytes after `len`, if they fit in the capacity. Fill them, then
    /// call [`Buf::commit`].
    pub fn spare(&mut self, n: usize) -> Option<&mut [u8]> {
        if self.cap.checked_sub(self.len)? < n {
            return None;
        }
        if n == 0 {
            return Some(&mut []);
        }
        // SAFETY: `ptr` is a live block of `cap` bytes (cap > 0 because n > 0
        // and len + n <= cap); `len..len+n` lies inside it and no other
        // reference to it exists while `self` is mutably borrowed.
        Some(unsafe { core::slice::from_raw_parts_mut(self.ptr.add(self.len), n) })
    }

    /// Drops the contents and returns the first `n` bytes, now the
    /// contents, to be overwritten; the memory is reused when it holds
    /// `n` bytes, else replaced by exactly `n` bytes (nothing is copied).
    /// `None` (and empty) when that allocation fails. Inline: it is the
    /// small-send path's (one caller).
    #[inline]
    pub fn refill(&mut self, n: usize) -> Option<&mut [u8]> {
        self.len = 0;
        if self.cap < n {
            self.free();
            self.grow_to(n, false).ok()?;
        }
        self.len = n;
        Some(self.as_mut_slice())
    }

    /// Drops everything after the first `len` bytes (keeps the capacity).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Marks `n` spare bytes as filled.
    pub fn commit(&mut self, n: usize) {
        self.len = self.len.saturating_add(n).min(self.cap);
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: `ptr` is a live block of `cap >= len` bytes, the first
        // `len` initialised.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: as in `as_slice`, and `self` is borrowed mutably.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Pointer to the first byte (for handing the contents to C).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    /// Removes the first `n` bytes (moving the rest to the front).
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        let len = self.len;
        shift_left(self.as_mut_slice(), n, len, n);
        self.len = len - n;
    }

    /// Forgets the contents, keeps the memory.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Frees the memory.
    pub fn free(&mut self) {
        if !self.ptr.is_null() {
            raw::release(self.ptr, self.cap, 1);
        }
        self.ptr = ptr::null_mut();
        self.len = 0;
        self.cap = 0;
    }

    /// Moves the contents out, leaving this buffer empty.
    pub fn take(&mut self) -> Buf {
        core::mem::take(self)
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        self.free();
    }
}

/// Moves `data[start..end]` down by `by` bytes (memmove). Does nothing if
/// the ranges are not inside `data`.
pub fn shift_left(data: &mut [u8], start: usize, end: usize, by: usize) {
    if start > end || end > data.len() || by > start {
        return;
    }
    let p = data.as_mut_ptr();
    // SAFETY: `start - by <= start <= end <= data.len()` (checked above), so
    // source and destination lie inside `data`; `ptr::copy` allows overlap.
    unsafe { ptr::copy(p.add(start), p.add(start - by), end - start) };
}

/// A single value on the heap (`Box` without `alloc`).
pub struct Boxed<T> {
    ptr: NonNull<T>,
}

impl<T> Boxed<T> {
    /// Moves `value` to a fresh allocation of exactly `size_of::<T>()` bytes.
    pub fn new(value: T) -> Result<Self, NoMemory> {
        let size = size_of::<T>().max(1);
        let p = raw::alloc(size, align_of::<T>()) as *mut T;
        let ptr = NonNull::new(p).ok_or(NoMemory)?;
        // SAFETY: `ptr` is a fresh, suitably sized and aligned block
        // (malloc aligns for every fundamental type; `T` here never needs more).
        unsafe { ptr.as_ptr().write(value) };
        Ok(Boxed { ptr })
    }

    /// Gives up ownership; the pointer must come back through `from_raw`.
    pub fn into_raw(self) -> *mut T {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        p
    }

    /// # Safety
    /// `p` must come from [`Boxed::into_raw`] and not be used afterwards.
    pub unsafe fn from_raw(p: *mut T) -> Option<Self> {
        NonNull::new(p).map(|ptr| Boxed { ptr })
    }
}

impl<T> core::ops::Deref for Boxed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `ptr` is live and initialised for the lifetime of `self`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> core::ops::DerefMut for Boxed<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: `ptr` is live, initialised and uniquely owned by `self`.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for Boxed<T> {
    fn drop(&mut self) {
        let p = self.ptr.as_ptr();
        // SAFETY: `p` holds an initialised `T` that is dropped exactly once,
        // then its block (allocated by `new`) is released.
        unsafe { ptr::drop_in_place(p) };
        raw::release(p as *mut u8, size_of::<T>().max(1), align_of::<T>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_allocation_exact_growth_amortized_contents_survive() {
        let mut b = Buf::new();
        b.extend(b"abc").unwrap();
        assert_eq!(b.capacity(), 3);
        b.extend(b"de").unwrap();
        assert_eq!(b.capacity(), 5);
        b.extend(b"f").unwrap();
        assert_eq!(b.capacity(), 7, "grows by half again, not by one");
        assert_eq!(b.as_slice(), b"abcdef");
        b.drop_front(2);
        assert_eq!(b.as_slice(), b"cdef");
        b.free();
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn failed_growth_keeps_old_contents() {
        let mut b = Buf::new();
        b.extend(b"xy").unwrap();
        stats::fail_nth(1);
        assert_eq!(b.extend(b"z"), Err(NoMemory));
        assert_eq!(b.as_slice(), b"xy");
        b.extend(b"z").unwrap();
        assert_eq!(b.as_slice(), b"xyz");
        drop(b);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn boxed_frees_and_fails_cleanly() {
        {
            let mut v = Boxed::new([7u32; 4]).unwrap();
            v[1] = 9;
            assert_eq!(v[1], 9);
            assert_eq!(stats::live(), 1);
        }
        assert_eq!(stats::live(), 0);
        stats::fail_nth(1);
        assert!(Boxed::new(5u8).is_err());
        assert_eq!(stats::live(), 0);
    }
}
