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
