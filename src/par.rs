//! Work on every core. The one place tenantc starts threads to share out
//! data: parsing input files, lowering tenants, writing an in-memory bundle.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// `f` over `items` on every core. `sink` gets the results on the calling
/// thread in the order of `items`, each as soon as it and those before it
/// are done, so that the caller's work on them (merging into the bundle)
/// overlaps the rest instead of following it. Each thread takes the next
/// item when it is done with one, so unequal items still keep every core
/// busy.
pub fn each_ordered<T: Send, R: Send>(
    items: Vec<T>,
    f: impl Fn(T) -> R + Sync,
    mut sink: impl FnMut(R),
) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get().min(8))
        .min(items.len());
    if threads <= 1 {
        items.into_iter().map(f).for_each(sink);
        return;
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let (tx, rx) = std::sync::mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (tx, f, queue) = (tx.clone(), &f, &queue);
                scope.spawn(move || loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((i, item)) = next else { break };
                    if tx.send((i, f(item))).is_err() {
                        break;
                    }
                })
            })
            .collect();
        // The channel closes when every worker is done (or has panicked).
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut want = 0;
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&want) {
                sink(r);
                want += 1;
            }
        }
        for w in workers {
            if let Err(e) = w.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// `f` over `items` on every core, the results in the order of `items`.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let mut out = Vec::with_capacity(items.len());
    each_ordered(items, f, |r| out.push(r));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_order_whatever_the_order_of_work() {
        // Early items take longest, so later ones finish first.
        let items: Vec<u64> = (0..64).collect();
        let out = super::map(items.clone(), |i| {
            std::thread::sleep(std::time::Duration::from_micros((64 - i) * 50));
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let mut seen = Vec::new();
        super::each_ordered(items.clone(), |i| i, |r| seen.push(r));
        assert_eq!(seen, items);
        assert!(super::map(Vec::<u8>::new(), |i| i).is_empty());
    }
}
