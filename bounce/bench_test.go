package bounce

import "testing"

// BenchmarkParse parses every fixture in turn: b.N reports (see the
// reports/s metric).
func BenchmarkParse(b *testing.B) {
	v := testVERP(b)
	raws := make([][]byte, len(fixtures))
	for i, f := range fixtures {
		raws[i] = readFixture(b, f.file)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(raws[i%len(raws)], fixtureAddr, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkParseComplaints parses the feedback report fixtures in turn
// (see the reports/s metric).
func BenchmarkParseComplaints(b *testing.B) {
	v := testVERP(b)
	raws := make([][]byte, len(complaintFixtures))
	for i, f := range complaintFixtures {
		raws[i] = readFixture(b, f.file)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(raws[i%len(raws)], fixtureFBL, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
