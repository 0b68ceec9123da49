//! Independent work spread over the machine's cores: catalog files are parsed, and outputs
//! rendered, one per free core. Results always come back in the order of the input, so nothing
//! a run prints or writes depends on how many cores it had or which finished first.

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
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        workers
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(done) => done,
                // A panic in `work` is a bug, not an input error: pass it on unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// `map`, for work that takes its item by value (it moves the item's strings into its result).
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    // Each item waits in its own slot until one thread takes it; no slot is taken twice.
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|item| std::sync::Mutex::new(Some(item)))
        .collect();
    map(&slots, |slot| {
        let item = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        item.map(&work)
    })
    .into_iter()
    .flatten()
    .collect()
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
        let items: Vec<String> = (0..300).map(|n| n.to_string()).collect();
        let lengths = map_owned(items.clone(), |item| (item.len(), item));
        assert_eq!(
            lengths,
            items.into_iter().map(|i| (i.len(), i)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn no_items_and_one_item_need_no_threads() {
        assert_eq!(map(&[] as &[u8], |&n| n), Vec::<u8>::new());
        assert_eq!(map(&[7], |&n| n + 1), vec![8]);
    }
}
