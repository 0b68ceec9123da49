//! Independent work spread over the machine's cores: catalog files are parsed, keys and secrets
//! compiled, and outputs rendered, on whichever core is free. Results always come back in the
//! order of the input, so nothing a run prints or writes depends on how many cores it had or
//! which finished first.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `items.iter().map(work).collect()`, with the items shared out among up to one thread per core.
/// Each thread takes the next unclaimed item when it is free, so one large item (the docs page
/// of a big catalog) does not hold back a batch of small ones queued behind it.
pub fn map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                return done;
            };
            done.push((index, work(item)));
        }
    };
    let mut results = on_threads(threads, worker);
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// `items.into_iter().map(work)`, for work that takes its item by value (it moves the item's
/// strings into its result), with the items shared out among up to one thread per core.
///
/// Threads take the items a batch at a time, straight from `items` as they go, and the results
/// come back batch by batch in the order of the input: a large collection (the catalog's keys) is
/// never copied whole, nor held twice.
pub fn map_owned<I, R>(items: I, work: impl Fn(I::Item) -> R + Sync) -> impl Iterator<Item = R>
where
    I: IntoIterator,
    I::IntoIter: Send,
    I::Item: Send,
    R: Send,
{
    // Large enough that taking a batch costs little next to the work, small enough that both
    // cores stay busy to the end.
    const BATCH: usize = 64;
    // Fewer items than this per thread are done sooner than another thread pays for itself: it
    // starts with fresh allocator pages, and the 1,000 keys or secrets of a small catalog take a
    // few milliseconds on one core (1,000 secrets: 22 MB resident instead of 24 MB, no slower).
    const ITEMS_PER_THREAD: usize = 2048;
    let items = items.into_iter();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.size_hint().0.div_ceil(ITEMS_PER_THREAD));
    if threads <= 1 {
        let all: Vec<R> = items.map(work).collect();
        return vec![all].into_iter().flatten();
    }
    // The next batch's number, and the items not yet taken.
    let source = std::sync::Mutex::new((0usize, items));
    let worker = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let (number, batch) = {
                let mut source = source
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let (next, items) = &mut *source;
                let batch: Vec<I::Item> = items.by_ref().take(BATCH).collect();
                *next += 1;
                (*next - 1, batch)
            };
            if batch.is_empty() {
                return done;
            }
            done.push((number, batch.into_iter().map(&work).collect()));
        }
    };
    let mut batches = on_threads(threads, worker);
    batches.sort_unstable_by_key(|(number, _)| *number);
    let batches: Vec<Vec<R>> = batches.into_iter().map(|(_, batch)| batch).collect();
    batches.into_iter().flatten()
}

/// Run `worker` on `threads` threads at once, the calling thread being one of them, and gather
/// what each returns. Each new thread gets its own allocator heap, left partly touched when the
/// thread ends; working on the calling thread too halves the threads a run starts and keeps that
/// share of every phase in one heap the next phase reuses (1,000 secrets: 27 MB resident with
/// only new threads working, 24 MB this way).
fn on_threads<D: Send>(threads: usize, worker: impl Fn() -> Vec<D> + Sync) -> Vec<D> {
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads).map(|_| scope.spawn(&worker)).collect();
        let mut done = worker();
        for handle in others {
            match handle.join() {
                Ok(more) => done.extend(more),
                // A panic in `work` is a bug, not an input error: pass it on unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    })
}

#[cfg(test)]
mod tests {
    use super::{map, map_owned};

    #[test]
    fn results_keep_the_order_of_the_items_whatever_finishes_first() {
        let items: Vec<u64> = (0..200).collect();
        // Early items take longest, so they finish after later ones on a multi-core machine.
        let squares = map(&items, |&n| {
            std::thread::sleep(std::time::Duration::from_micros(200 - n));
            n * n
        });
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn owned_items_come_back_once_each_in_order() {
        // Enough items for every core to take some.
        let items: Vec<String> = (0..10_000).map(|n| n.to_string()).collect();
        let lengths: Vec<_> = map_owned(items.clone(), |item| (item.len(), item)).collect();
        assert_eq!(
            lengths,
            items.into_iter().map(|i| (i.len(), i)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn owned_items_from_a_map_keep_its_order_across_many_batches() {
        let items: std::collections::BTreeMap<u64, String> =
            (0..10_000).map(|n| (n, format!("item {n}"))).collect();
        // Early batches take longest, so later ones finish first on a multi-core machine.
        let names: Vec<String> = map_owned(items.clone(), |(n, name)| {
            if n % 64 == 0 && n < 256 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            name
        })
        .collect();
        assert_eq!(names, items.into_values().collect::<Vec<_>>());
    }

    #[test]
    fn no_items_and_one_item_need_no_threads() {
        assert_eq!(map(&[] as &[u8], |&n| n), Vec::<u8>::new());
        assert_eq!(map(&[7], |&n| n + 1), vec![8]);
        assert_eq!(map_owned(Vec::<u8>::new(), |n| n).count(), 0);
        assert_eq!(map_owned(vec![7], |n| n + 1).collect::<Vec<_>>(), vec![8]);
    }
}
