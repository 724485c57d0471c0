/* Shared timing for the ratio benchmarks: best-of-N rates, interleaved runs. */
#ifndef AVOW_BENCH_UTIL_H
#define AVOW_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/*
 * CPU time of this thread, not wall time: a slice in which the scheduler
 * gives the core to a neighbour is not charged to whichever side was running.
 */
static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Runs baseline and candidate alternately in short slices, `rounds` times.
 * Noise on a shared machine (a busy hyperthread sibling, frequency changes)
 * only ever slows a slice down, so the headline figure is the ratio of the
 * best rate each side reached, the closest estimate of what each costs; the
 * median of the per-round ratios is printed beside it. Returns 0 when the
 * best-rate ratio meets the target (a target <= 0 only informs).
 */
static int bench_compare(const char *what, int (*base)(void *), int (*cand)(void *), void *arg,
                         int rounds, double seconds, double target)
{
    double *ratios = calloc((size_t)rounds, sizeof(double));
    double best_b = 0, best_c = 0;
    if (ratios == NULL)
        exit(2);
    for (int r = 0; r < rounds; r++) {
        double b = bench_rate(base, arg, seconds);
        double c = bench_rate(cand, arg, seconds);
        ratios[r] = c / b;
        if (b > best_b)
            best_b = b;
        if (c > best_c)
            best_c = c;
    }
    qsort(ratios, (size_t)rounds, sizeof(double), cmp_double);
    double median =
        rounds % 2 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
    double ratio = best_c / best_b;
    printf(
        "%s\n  limit (same run):  %10.0f ops/s (best of %d slices)\n"
        "  avow:              %10.0f ops/s (best of %d slices)\n"
        "  ratio:             %10.3f (median of the %d per-round ratios %.3f, min %.3f, max %.3f)",
        what, best_b, rounds, best_c, rounds, ratio, rounds, median, ratios[0], ratios[rounds - 1]);
    if (target > 0)
        printf("; target >= %.2f: %s", target, ratio >= target ? "MET" : "NOT MET");
    putchar('\n');
    free(ratios);
    return target <= 0 || ratio >= target ? 0 : 1;
}

/*
 * The benchmarks' arguments: [seconds-per-slice] [rounds], with the
 * defaults given. Returns 0, or 2 (the exit status) after the usage line.
 */
static inline int bench_args(int argc, char **argv, const char *name, double dseconds, int drounds,
                             double *seconds, int *rounds)
{
    *seconds = argc > 1 ? strtod(argv[1], NULL) : dseconds;
    *rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : drounds;
    if (*seconds <= 0 || *rounds <= 0) {
        fprintf(stderr, "usage: %s [seconds-per-slice] [rounds]\n", name);
        return 2;
    }
    return 0;
}

#endif
