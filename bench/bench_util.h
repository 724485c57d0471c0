/* Shared timing for the ratio benchmarks: best-of-N rates, interleaved runs. */
#ifndef AVOW_BENCH_UTIL_H
#define AVOW_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Operations per second of fn over about `seconds`, checked: fn returns 0 on success. */
static double bench_rate(int (*fn)(void *), void *arg, double seconds)
{
    long n = 0;
    double start = bench_now(), t;
    do {
        for (int i = 0; i < 64; i++) {
            if (fn(arg) != 0) {
                fprintf(stderr, "bench: operation failed\n");
                exit(2);
            }
        }
        n += 64;
        t = bench_now() - start;
    } while (t < seconds);
    return (double)n / t;
}

/*
 * Runs baseline and candidate alternately `rounds` times and keeps the best
 * rate of each, so a noisy neighbour hurts both alike.
 */
static void bench_compare(const char *what, int (*base)(void *), int (*cand)(void *), void *arg,
                          int rounds, double seconds, double target)
{
    double best_b = 0, best_c = 0;
    for (int r = 0; r < rounds; r++) {
        double b = bench_rate(base, arg, seconds);
        double c = bench_rate(cand, arg, seconds);
        if (b > best_b)
            best_b = b;
        if (c > best_c)
            best_c = c;
    }
    double ratio = best_c / best_b;
    printf("%s\n  limit (same run): %10.0f ops/s\n  avow:             %10.0f ops/s\n"
           "  ratio:            %10.3f (target >= %.2f) %s\n",
           what, best_b, best_c, ratio, target, ratio >= target ? "MET" : "NOT MET");
}

#endif
