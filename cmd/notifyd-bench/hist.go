package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram precision: each power-of-two range of values is
// split into 1<<subBits equal buckets, so a recorded value is known to within
// 1/(1<<subBits) of itself (under 0.8% for 7 bits).
const subBits = 7

const (
	subCount   = 1 << subBits                     // buckets per power-of-two range
	numBuckets = (64-subBits)*subCount + subCount // covers every non-negative int64
)

// Histogram is a log-linear latency histogram in the spirit of HdrHistogram:
// values below 2*subCount nanoseconds get one bucket each, and every
// power-of-two range above that is divided into subCount equal buckets.
// Recording is a few arithmetic operations and one increment, with no
// allocation. A Histogram is not safe for concurrent use; give each worker
// its own and Merge them at the end.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	min    int64
	max    int64
}

// bucketIndex returns the bucket that holds v (v >= 0).
func bucketIndex(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // >= 1 here
	top := v >> uint(shift)              // in [subCount, 2*subCount)
	return shift*subCount + int(top)
}

// bucketBounds returns the smallest and largest value that map to bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < 2*subCount {
		return uint64(i), uint64(i)
	}
	shift := i/subCount - 1
	top := uint64(i - shift*subCount)
	lo = top << uint(shift)
	return lo, lo + (1 << uint(shift)) - 1
}

// Record adds one observation. Negative durations are recorded as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketIndex(uint64(v))]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
}

// Merge adds all observations of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
}

// Count returns the number of recorded observations.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest recorded observation exactly (0 if empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest recorded observation exactly (0 if empty).
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Percentile returns the value at or below which p percent (0..100) of the
// observations fall, using the nearest-rank definition. The result is the
// upper bound of the bucket holding that rank (so it never under-reports by
// more than rounding), capped at the exact maximum. It returns 0 if empty.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p * float64(h.total) / 100))
	rank = max(rank, 1)
	rank = min(rank, h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(int64(hi), h.max))
		}
	}
	return time.Duration(h.max) // unreachable when counts and total agree
}
