//! Storing a batch while its next chunk is made ready: turning awards
//! into rows packs their credentials (`packing`, tens of microseconds
//! each), which on the transaction's thread would add up to a quarter of
//! a second to a batch of 10,000. A second thread prepares each chunk
//! while the transaction writes the one before it, so a batch costs about
//! the larger of the two, not their sum.

use std::sync::mpsc::sync_channel;

/// Runs `prepare` on each of `chunks` in order on a second thread, and
/// `write` on each result in the same order on this one, at most one chunk
/// apart. Stops at the first error of either and returns it.
pub fn prepare_ahead<C, R, E>(
    chunks: impl Iterator<Item = C> + Send,
    prepare: impl Fn(C) -> Result<R, E> + Send,
    mut write: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E>
where
    R: Send,
    E: Send,
{
    std::thread::scope(|scope| {
        let (ready, prepared) = sync_channel(1);
        scope.spawn(move || {
            for chunk in chunks {
                let rows = prepare(chunk);
                let failed = rows.is_err();
                // The writer stopped (it failed): nothing more to prepare.
                if ready.send(rows).is_err() || failed {
                    return;
                }
            }
        });
        // Ends when the preparing thread does, or at the first error, which
        // drops the receiver and so stops that thread.
        prepared.into_iter().try_for_each(|rows| write(rows?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_written_in_order() {
        let mut written = Vec::new();
        prepare_ahead(
            (0..100).map(|n| vec![n, n + 1]),
            |chunk| Ok::<_, String>(chunk.iter().sum::<i32>()),
            |sum| {
                written.push(sum);
                Ok(())
            },
        )
        .expect("no error");
        assert_eq!(written, (0..100).map(|n| 2 * n + 1).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_preparation_stops_the_writing() {
        let mut written = Vec::new();
        let result = prepare_ahead(
            0..100,
            |n| {
                if n == 7 {
                    Err(format!("chunk {n}"))
                } else {
                    Ok(n)
                }
            },
            |n| {
                written.push(n);
                Ok(())
            },
        );
        assert_eq!(result, Err("chunk 7".to_owned()));
        assert_eq!(written, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_write_stops_the_preparing() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let prepared = AtomicUsize::new(0);
        let result = prepare_ahead(
            0..1_000,
            |n| {
                prepared.fetch_add(1, Ordering::SeqCst);
                Ok(n)
            },
            |n| {
                if n == 3 {
                    Err(format!("write {n}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result, Err("write 3".to_owned()));
        // At most the chunk in the channel and the one being sent after it.
        assert!(prepared.load(Ordering::SeqCst) <= 6, "{prepared:?}");
    }
}
