//! Free space on the data directory's volume, and the reserve uploads must leave free.
//!
//! The reserve keeps a full disk from taking the database and the rest of the system down with
//! it: an upload that would leave less than the reserve free is refused before any of its
//! bytes are written, while serving and deleting go on. Free space is what `statvfs` reports
//! as available to unprivileged users, so the blocks the file system keeps for root do not
//! count. Uploads stored at the same time claim their bytes in [`Claims`] first, so that
//! together they cannot pass the reserve either.

use std::io;
use std::path::Path;
use std::sync::Mutex;

/// Largest default reserve: 1 GiB.
const DEFAULT_RESERVE_CAP_BYTES: u64 = 1 << 30;
/// The default reserve on volumes smaller than 20 GiB: this share of the volume, in percent.
const DEFAULT_RESERVE_PERCENT: u64 = 5;

/// Size and free space of one volume, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged process may still write.
    pub available_bytes: u64,
    /// Size of the volume.
    pub total_bytes: u64,
}

/// How much free space uploads must leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// 1 GiB, or 5 % of the volume when that is smaller.
    Default,
    /// A fixed number of bytes (0 turns the reserve off).
    Bytes(u64),
}

impl Reserve {
    /// The reserve in bytes on a volume of `total_bytes`.
    pub fn bytes_on(self, total_bytes: u64) -> u64 {
        match self {
            Reserve::Default => {
                let share = u128::from(total_bytes) * u128::from(DEFAULT_RESERVE_PERCENT) / 100;
                u64::try_from(share).map_or(DEFAULT_RESERVE_CAP_BYTES, |share| {
                    share.min(DEFAULT_RESERVE_CAP_BYTES)
                })
            }
            Reserve::Bytes(bytes) => bytes,
        }
    }
}

/// Free space against the reserve at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskStatus {
    pub space: Space,
    pub reserve_bytes: u64,
}

impl DiskStatus {
    /// Measures the volume that holds `path`.
    pub fn of(path: &Path, reserve: Reserve) -> io::Result<Self> {
        let space = space_of(path)?;
        Ok(Self {
            space,
            reserve_bytes: reserve.bytes_on(space.total_bytes),
        })
    }

    /// Whether the free space is at or above the reserve.
    pub fn is_above_reserve(&self) -> bool {
        self.space.available_bytes >= self.reserve_bytes
    }

    /// Whether writing `bytes` more would still leave the reserve free.
    pub fn has_room_for(&self, bytes: u64) -> bool {
        self.space
            .available_bytes
            .checked_sub(bytes)
            .is_some_and(|left| left >= self.reserve_bytes)
    }
}

/// Bytes claimed by uploads whose files are being written and are not yet counted in the free
/// space the volume reports.
#[derive(Debug, Default)]
pub struct Claims {
    pending_bytes: Mutex<u64>,
}

/// Room held for one upload; dropping it gives the room back.
#[derive(Debug)]
pub struct Claim<'a> {
    claims: &'a Claims,
    bytes: u64,
}

impl Claims {
    /// Claims `bytes` on the volume of `path` when they fit above the reserve beside every
    /// other claim; else returns the status that refused them.
    pub fn claim(
        &self,
        path: &Path,
        reserve: Reserve,
        bytes: u64,
    ) -> io::Result<Result<Claim<'_>, DiskStatus>> {
        let mut pending = self
            .pending_bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut status = DiskStatus::of(path, reserve)?;
        status.space.available_bytes = status.space.available_bytes.saturating_sub(*pending);
        if !status.has_room_for(bytes) {
            return Ok(Err(status));
        }
        *pending += bytes;
        Ok(Ok(Claim {
            claims: self,
            bytes,
        }))
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut pending = self
            .claims
            .pending_bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *pending = pending.saturating_sub(self.bytes);
    }
}

/// Size and free space of the volume that holds `path`.
pub fn space_of(path: &Path) -> io::Result<Space> {
    let stats = rustix::fs::statvfs(path)?;
    let block = stats.f_frsize.max(1);
    Ok(Space {
        available_bytes: stats.f_bavail.saturating_mul(block),
        total_bytes: stats.f_blocks.saturating_mul(block),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_reserve_is_five_percent_up_to_one_gib() {
        let gib = 1u64 << 30;
        let cases = [
            (100 * 1_000_000, 5_000_000),
            (10 * gib, gib / 2),
            (20 * gib, gib),
            (4_000 * gib, gib),
        ];
        for (total, reserve) in cases {
            assert_eq!(Reserve::Default.bytes_on(total), reserve, "volume {total}");
        }
        assert_eq!(Reserve::Bytes(7).bytes_on(4_000 * gib), 7);
    }

    #[test]
    fn room_counts_the_upload_against_the_reserve() {
        let status = DiskStatus {
            space: Space {
                available_bytes: 1_000,
                total_bytes: 10_000,
            },
            reserve_bytes: 600,
        };
        assert!(status.is_above_reserve());
        assert!(status.has_room_for(400));
        assert!(!status.has_room_for(401));
        assert!(!status.has_room_for(u64::MAX));
    }

    #[test]
    fn a_claim_holds_its_bytes_until_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let free = space_of(dir.path()).expect("statvfs").available_bytes;
        let claims = Claims::default();
        let half = free / 2;

        let first = claims
            .claim(dir.path(), Reserve::Bytes(0), half)
            .expect("statvfs");
        assert!(first.is_ok(), "half the free space fits");
        // A second half plus a margin for whatever else writes meanwhile does not.
        let second = claims
            .claim(dir.path(), Reserve::Bytes(0), free - half / 2)
            .expect("statvfs");
        assert!(second.is_err(), "the first claim was not counted");

        drop(first);
        let again = claims
            .claim(dir.path(), Reserve::Bytes(0), half)
            .expect("statvfs");
        assert!(again.is_ok(), "the dropped claim still holds room");
    }

    #[test]
    fn the_temp_dir_has_a_size_and_some_free_space() {
        let dir = tempfile::tempdir().expect("tempdir");
        let space = space_of(dir.path()).expect("statvfs");
        assert!(space.total_bytes > 0);
        assert!(space.available_bytes <= space.total_bytes);
    }
}
