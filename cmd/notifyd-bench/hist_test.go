package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBucketBounds checks that every value falls inside the bounds of its
// bucket, that buckets are contiguous, and that they are narrow enough.
func TestBucketBounds(t *testing.T) {
	values := []uint64{0, 1, 255, 256, 257, 511, 512, 1 << 20, 1<<20 + 12345, 1<<63 - 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		values = append(values, r.Uint64N(1<<uint(r.IntN(63)+1)))
	}
	for _, v := range values {
		i := bucketIndex(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketIndex(%d) = %d, out of range", v, i)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if width := hi - lo; width > lo/subCount {
			t.Fatalf("bucket %d [%d, %d] wider than 1/%d of its lower bound", i, lo, hi, subCount)
		}
	}
	for i := 1; i <= bucketIndex(1<<63-1); i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
}

// TestPercentileExact uses values small enough to get one bucket each, so
// nearest-rank percentiles must be exact.
func TestPercentileExact(t *testing.T) {
	var h Histogram
	for v := 1; v <= 200; v++ {
		h.Record(time.Duration(v))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.1, 1}, {0.5, 1}, {1, 2}, {50, 100}, {90, 180}, {99, 198}, {99.9, 200}, {100, 200}} {
		if got := h.Percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %d, want %d", tc.p, got, tc.want)
		}
	}
	if h.Count() != 200 || h.Min() != 1 || h.Max() != 200 {
		t.Errorf("count/min/max = %d/%d/%d, want 200/1/200", h.Count(), h.Min(), h.Max())
	}
}

// TestPercentileAccuracy compares with exact percentiles of random latencies
// across several orders of magnitude and checks that Merge loses nothing.
func TestPercentileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var parts [4]Histogram
	var all []time.Duration
	for i := range 50000 {
		// Log-uniform between 10µs and 1s, like a latency distribution with a long tail.
		d := time.Duration(float64(10*time.Microsecond) * math.Pow(1e5, r.Float64()))
		parts[i%len(parts)].Record(d)
		all = append(all, d)
	}
	var h Histogram
	for i := range parts {
		h.Merge(&parts[i])
	}
	slices.Sort(all)
	if h.Count() != uint64(len(all)) || h.Min() != all[0] || h.Max() != all[len(all)-1] {
		t.Fatalf("merged count/min/max = %d/%v/%v, want %d/%v/%v",
			h.Count(), h.Min(), h.Max(), len(all), all[0], all[len(all)-1])
	}
	for _, p := range []float64{1, 10, 50, 90, 99, 99.9, 100} {
		rank := int(math.Ceil(p * float64(len(all)) / 100)) // nearest rank, 1-based
		want := all[max(rank, 1)-1]
		got := h.Percentile(p)
		// The bucket's upper bound: never below the true value, at most 1/subCount above.
		if got < want || float64(got-want) > float64(want)/subCount {
			t.Errorf("p%v = %v, want %v within +%.2f%%", p, got, want, 100.0/subCount)
		}
	}
}

// TestEmpty checks the zero Histogram.
func TestEmpty(t *testing.T) {
	var h, other Histogram
	h.Merge(&other)
	if h.Count() != 0 || h.Percentile(99) != 0 || h.Max() != 0 {
		t.Errorf("empty histogram: count %d p99 %v max %v", h.Count(), h.Percentile(99), h.Max())
	}
	h.Record(-5)
	if h.Percentile(50) != 0 || h.Count() != 1 {
		t.Errorf("negative value: p50 %v count %d, want 0 and 1", h.Percentile(50), h.Count())
	}
}
