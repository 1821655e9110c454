//! The crate's only parallelism, in one place: with the `parallel` feature (default) these run
//! on rayon's thread pool; without it, sequentially on the caller's thread, with the same
//! results (every parallel sum here is over fixed chunks merged in order).

/// `(0..n).map(f)` collected in order.
pub(crate) fn map_range<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// `items.into_iter().map(f)` collected in order (each item moved to the worker that maps it).
#[cfg(feature = "logs")]
pub(crate) fn map_owned<I: Send, T: Send>(
    items: Vec<I>,
    f: impl Fn(I) -> T + Sync + Send,
) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().map(f).collect()
    }
}

/// `items.iter().map(f)` collected in order.
pub(crate) fn map_slice<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> T + Sync + Send,
) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

/// `(0..n).map(|i| f(&mut state, i))` collected into a `Result`, with one `state` from `init`
/// per worker.
pub(crate) fn try_map_range_with<S, T: Send, E: Send>(
    n: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize) -> Result<T, E> + Sync + Send,
) -> Result<Vec<T>, E> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map_init(init, f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut s = init();
        (0..n).map(|i| f(&mut s, i)).collect()
    }
}

/// Fills `out` chunk by chunk: `f(k, chunk)` for the k-th chunk of `size`; stops at an error
/// (which one, when several chunks fail in parallel, is not specified).
pub(crate) fn try_fill_chunks<T: Send, E: Send>(
    out: &mut [T],
    size: usize,
    f: impl Fn(usize, &mut [T]) -> Result<(), E> + Sync + Send,
) -> Result<(), E> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(size)
            .enumerate()
            .try_for_each(|(k, c)| f(k, c))
    }
    #[cfg(not(feature = "parallel"))]
    {
        out.chunks_mut(size)
            .enumerate()
            .try_for_each(|(k, c)| f(k, c))
    }
}

/// Sorts `v` (unstable).
pub(crate) fn sort_unstable<K: Ord + Send>(v: &mut [K]) {
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        v.par_sort_unstable();
    }
    #[cfg(not(feature = "parallel"))]
    {
        v.sort_unstable();
    }
}

/// Items from `next` mapped by `work` on all cores and handed to `consume` in the order
/// they were read.
///
/// The calling thread reads (`next`), [`threads`] workers map, and one more thread consumes,
/// putting the outputs back in order. The reader runs at most `ahead` items ahead of the
/// consumer (it takes a ticket per item, the consumer gives one back per item consumed), so
/// at most `ahead` items and their outputs are held at once, however uneven the work.
/// Stops at the first error of `next` or `consume` (the workers then wind down).
#[cfg(feature = "csv")]
pub(crate) fn pipeline<I: Send, O: Send, E: Send>(
    mut next: impl FnMut() -> Result<Option<I>, E>,
    ahead: usize,
    work: impl Fn(I) -> O + Sync + Send,
    mut consume: impl FnMut(O) -> Result<(), E> + Send,
) -> Result<(), E> {
    let workers = threads();
    if workers <= 1 {
        while let Some(item) = next()? {
            consume(work(item))?;
        }
        return Ok(());
    }
    use std::collections::BTreeMap;
    use std::sync::{Mutex, mpsc};
    let ahead = ahead.max(workers + 1);
    let (item_tx, item_rx) = mpsc::sync_channel::<(usize, I)>(ahead);
    let item_rx = Mutex::new(item_rx);
    let (ticket_tx, ticket_rx) = mpsc::sync_channel::<()>(ahead);
    for _ in 0..ahead {
        ticket_tx.send(()).expect("room for every ticket");
    }
    std::thread::scope(|scope| {
        let (out_tx, out_rx) = mpsc::channel::<(usize, O)>();
        let work = &work;
        for _ in 0..workers {
            let out_tx = out_tx.clone();
            let item_rx = &item_rx;
            scope.spawn(move || {
                // once the consumer has stopped, items are drained unworked until the reader
                // (which then gets no more tickets) closes the channel
                let mut consumer_gone = false;
                loop {
                    let got = item_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((k, item))) = got else { break };
                    if !consumer_gone && out_tx.send((k, work(item))).is_err() {
                        consumer_gone = true;
                    }
                }
            });
        }
        drop(out_tx);
        let consumer = scope.spawn(move || -> Result<usize, E> {
            let mut waiting: BTreeMap<usize, O> = BTreeMap::new();
            let mut want = 0usize;
            for (k, o) in out_rx.iter() {
                waiting.insert(k, o);
                while let Some(o) = waiting.remove(&want) {
                    want += 1;
                    // an error drops the tickets, which stops the reader
                    consume(o)?;
                    let _ = ticket_tx.send(());
                }
            }
            Ok(want)
        });
        let mut read = 0usize;
        let mut failed: Option<E> = None;
        // no ticket: the consumer stopped
        while ticket_rx.recv().is_ok() {
            match next() {
                Ok(Some(item)) => {
                    if item_tx.send((read, item)).is_err() {
                        break;
                    }
                    read += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(item_tx);
        let consumed = consumer.join().expect("the consumer does not panic");
        if let Some(e) = failed {
            return Err(e);
        }
        let consumed = consumed?;
        debug_assert_eq!(read, consumed);
        Ok(())
    })
}

/// The number of worker threads the parallel functions use: rayon's (`RAYON_NUM_THREADS`
/// where set, else one per core); 1 without the `parallel` feature.
#[cfg(feature = "csv")]
pub(crate) fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Drops `v` on a thread of its own where the `parallel` feature is on (a large structure
/// gives its memory back while the caller goes on), else here.
#[cfg(feature = "logs")]
pub(crate) fn drop_later<T: Send + 'static>(v: T) {
    #[cfg(feature = "parallel")]
    {
        // (when no thread can be started, the closure, and `v` with it, is dropped here)
        let _ = std::thread::Builder::new()
            .name("clv-drop".into())
            .spawn(move || drop(v));
    }
    #[cfg(not(feature = "parallel"))]
    drop(v);
}

/// `(a(), b())`, in parallel where the `parallel` feature is on.
#[cfg(feature = "csv")]
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// Whether `f` holds for some item (each consumed), in parallel where the `parallel` feature
/// is on.
#[cfg(feature = "csv")]
pub(crate) fn any_owned<T: Send>(items: Vec<T>, f: impl Fn(T) -> bool + Sync + Send) -> bool {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.into_par_iter().any(f)
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().any(f)
    }
}
