"""What the Python benchmark scripts share."""
import statistics
import time


def timed(fn, samples):
    """The median and the 99th percentile of `samples` calls of `fn`, in seconds."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), sorted(times)[max(0, int(len(times) * 0.99) - 1)]
